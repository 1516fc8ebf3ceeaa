"""The real ``delfin-like`` CLI as a subprocess against a real all-in-one server."""

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time

import bcrypt
import pytest

from tests.e2e.conftest import Client, Proc, free_port

SECRET = "cli-stdin-pw-7731"


def _cli_command() -> list[str]:
    path = shutil.which("delfin-like")
    return [path] if path else [sys.executable, "-m", "delfin_like.cli.shell"]


class Cli:
    """Runs the CLI with a clean environment (own HOME, so no user config file)."""

    def __init__(self, home, url):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DELFIN", "OS_", "XDG_CONFIG"))}
        self.env.update(HOME=str(home), DELFIN_LIKE_URL=url)
        self.argvs: list[list[str]] = []

    def popen(self, *args, env=None):
        argv = [*_cli_command(), *args]
        self.argvs.append(argv)
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, **(env or {})},
        )

    def run_on_a_tty(self, *args, stdin: str = "", timeout: float = 60) -> tuple[int, str, str]:
        """Run with stderr on a pseudo-terminal (where progress is shown); (exit code, stdout, the
        terminal's output without its escape sequences)."""
        argv = [*_cli_command(), *args]
        self.argvs.append(argv)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # 40 rows, 160 columns
        # a terminal of that size whatever the caller's TERM (CI's is often dumb: 80 columns) or COLUMNS
        env = {**self.env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        p.stdin.write(stdin.encode())
        p.stdin.close()
        terminal = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                terminal += chunk
            elif p.poll() is not None:
                break
        os.close(master)
        out = p.stdout.read().decode()
        p.stdout.close()
        code = p.wait(10)
        text = re.sub(r"\x1b\[[0-9;]*m", "", terminal.decode(errors="replace"))  # colours go
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "\n", text)  # cursor moves end a line
        return code, out, text

    def run(self, *args, stdin=None, env=None) -> subprocess.CompletedProcess:
        p = self.popen(*args, env=env)
        out, err = p.communicate(stdin, timeout=120)
        return subprocess.CompletedProcess(args, p.returncode, out, err)

    def json(self, *args):
        r = self.run(*args, "-f", "json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)


def _start(tmp_path, extra_conf: str = "") -> tuple[Proc, str]:
    port = free_port()
    conf = tmp_path / "aio.conf"
    # no demo storage: the listings below are exact
    conf.write_text(
        f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n[all_in_one]\ndemo_storage = false\n"
        f"[api]\nhost = 127.0.0.1\nport = {port}\n" + extra_conf  # extra_conf: more [api] options
    )
    aio = Proc("delfin-like-all-in-one", ["--config-file", str(conf)], tmp_path / "aio.log")
    url = f"http://127.0.0.1:{port}"
    Client(url).wait_ready(60)
    return aio, url


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    aio, url = _start(tmp)
    yield aio, url, Cli(tmp / "home", url)
    aio.kill()


REGISTER = [
    "storage",
    "register",
    "--vendor",
    "fake_storage",
    "--model",
    "fake_driver",
    "--rest-host",
    "192.0.2.77",
    "--rest-port",
    "8443",
    "--rest-user",
    "admin",
    "--extra",
    "pools=2",
    "--extra",
    "volumes=5",
    "--password-stdin",
    "--wait",
    "--no-progress",
]


@pytest.fixture(scope="module")
def storage(server):
    """A storage registered with the CLI: (storage json, the run that registered it, the CLI pid's cmdline)."""
    _, _, cli = server
    p = cli.popen(*REGISTER, "--extra", "delay=1", "-f", "json")
    # while it runs (it waits for stdin first), the process arguments never hold the password
    deadline, cmdline = time.monotonic() + 10, ""
    while "register" not in cmdline and time.monotonic() < deadline:
        with open(f"/proc/{p.pid}/cmdline", "rb") as f:
            cmdline = f.read().decode()
        time.sleep(0.05)
    out, err = p.communicate(SECRET + "\n", timeout=120)
    assert p.returncode == 0, err
    return json.loads(out), (out, err), cmdline


def test_register_with_password_on_stdin_waits_for_the_sync(server, storage):
    aio, _, cli = server
    body, (out, err), cmdline = storage
    assert body["sync_status"] == "SYNCED" and body["vendor"] == "fake_storage"
    assert isinstance(body["total_capacity"], int)
    assert SECRET not in out + err
    assert SECRET not in cmdline and "storage\0register" in cmdline
    assert all(SECRET not in " ".join(argv) for argv in cli.argvs)
    assert SECRET not in aio.log


def test_volume_list_json_has_bytes_and_table_has_iec(server, storage):
    _, _, cli = server
    sid = storage[0]["id"]
    volumes = cli.json("volume", "list", "--storage", sid)
    assert len(volumes) == 5 and all(isinstance(v["total_capacity"], int) for v in volumes)
    assert set(volumes[0]) >= {"native_volume_id", "wwn", "created_at"}  # every column in machine formats
    r = cli.run("volume", "list", "--storage", sid, "--sort", "native_volume_id:asc")
    assert r.returncode == 0, r.stderr
    assert "| total_capacity |" in r.stdout and "GiB" in r.stdout
    assert str(volumes[0]["total_capacity"]) not in r.stdout
    raw = cli.run("volume", "list", "--storage", sid, "--no-human", "-c", "total_capacity", "-f", "value")
    assert sorted(int(x) for x in raw.stdout.split()) == sorted(v["total_capacity"] for v in volumes)
    first_pool = cli.json("pool", "list", "--storage", sid, "--sort", "name:asc")[0]
    by_pool = cli.json("volume", "list", "--pool", first_pool["native_storage_pool_id"])
    assert 0 < len(by_pool) < 5


def test_storage_list_show_and_inventory_lists(server, storage):
    _, _, cli = server
    sid = storage[0]["id"]
    r = cli.run("storage", "list")
    assert r.returncode == 0 and sid in r.stdout and "TiB" in r.stdout and "| sync_status |" in r.stdout
    assert [s["id"] for s in cli.json("storage", "list")] == [sid]
    assert cli.json("storage", "show", sid)["serial_number"] == storage[0]["serial_number"]
    assert len(cli.json("pool", "list", "--storage", sid)) == 2
    assert len(cli.json("controller", "list", "--storage", sid)) == 2
    assert len(cli.json("port", "list", "--storage", sid, "--limit", "3")) == 3
    assert len(cli.json("disk", "list", "--storage", sid)) == 8
    info = cli.json("storage", "access-info", "show", sid)
    assert info["rest"] == {"host": "192.0.2.77", "port": 8443, "username": "admin"}
    assert cli.json("capabilities", "show", sid)["storage_id"] == sid


def test_sync_wait_and_tasks(server, storage):
    _, _, cli = server
    sid = storage[0]["id"]
    task = cli.json("storage", "sync", sid, "--wait", "--no-progress")
    assert task["status"] == "COMPLETED" and task["result"]["rows_written"] == 0
    assert cli.json("task", "show", task["id"])["id"] == task["id"]
    assert task["id"] in [t["id"] for t in cli.json("task", "list", "--storage", sid, "--type", "sync")]
    r = cli.run("task", "show", task["id"])
    assert r.returncode == 0 and "volumes +0 ~0 -0 =5" in r.stdout


def test_sync_wait_on_a_terminal_shows_the_progress(server):
    _, url, cli = server
    body = {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": "192.0.2.91", "port": 8443, "username": "admin", "password": SECRET},
        # 400 volumes listed at 1 s a page: the sync runs about 3 s in its volume listing, which spans
        # two or more of its (1 s apart) progress writes and several of the CLI's polls, loaded machine or not
        "extra_attributes": {"pools": 2, "volumes": 400, "page_delay": 1.0},
    }
    api = Client(url)
    r = api.post("/v1/storages", body)
    assert r.status_code == 201, r.text
    assert api.wait_task(r.json()["last_sync_task_id"])["status"] == "COMPLETED"

    code, out, terminal = cli.run_on_a_tty("storage", "sync", r.json()["id"], "--wait", "-f", "json")
    assert code == 0, terminal
    task = json.loads(out)
    assert task["status"] == "COMPLETED" and task["result"]["volumes"]["unchanged"] == 400
    # the display, on stderr: the resource types listed out of five, the listing under way
    assert re.search(r"sync [0-9a-f]{8} RUNNING \(attempt 1\)", terminal), terminal
    assert re.search(r"1/5 resource types\s+volumes: [\d,]+ listed; rows to change \+0 ~0 -0", terminal), terminal
    assert f"sync task {task['id']} COMPLETED in" in terminal and "volumes +0 ~0 -0 =400" in terminal
    assert SECRET not in terminal + out


def test_access_info_set_keeps_the_password(server, storage):
    aio, _, cli = server
    sid = storage[0]["id"]
    info = cli.json("storage", "access-info", "set", sid, "--extra", "volumes=6")
    assert info["extra_attributes"]["volumes"] == 6 and info["rest"]["username"] == "admin"
    assert cli.json("storage", "sync", sid, "--wait", "--no-progress")["status"] == "COMPLETED"
    assert len(cli.json("volume", "list", "--storage", sid)) == 6
    assert SECRET not in aio.log


def test_snmp_config_community_from_stdin_and_alert_sync(server, storage):
    aio, _, cli = server
    sid = storage[0]["id"]
    community = "cli-community-5521"
    r = cli.run("snmp-config", "set", sid, "--host", "192.0.2.77", "--snmp-version", "snmpv2c", "--community-stdin",
                "-f", "json", stdin=community + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["version"] == "snmpv2c" and community not in r.stdout + r.stderr
    shown = cli.run("snmp-config", "show", sid)
    assert shown.returncode == 0 and "192.0.2.77" in shown.stdout and community not in shown.stdout
    task = cli.json("alert", "sync", sid, "--wait", "--no-progress")
    assert (task["type"], task["status"]) == ("alert_sync", "COMPLETED")
    assert all(a["storage_id"] == sid for a in cli.json("alert", "list", "--storage", sid, "--all"))
    assert cli.run("snmp-config", "delete", sid).returncode == 0
    r = cli.run("snmp-config", "show", sid)
    assert r.returncode == 1 and r.stderr.startswith("Error: AlertSourceNotFound: ") and r.stderr.count("\n") == 1
    assert all(community not in " ".join(argv) for argv in cli.argvs)
    assert community not in aio.log


def test_wrong_id_is_one_line_error_exit_1(server):
    _, _, cli = server
    r = cli.run("storage", "show", "no-such-storage")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "Error: StorageNotFound: Storage no-such-storage could not be found.\n"
    r = cli.run("task", "show", "no-such-task", "-f", "json")
    assert r.returncode == 1 and r.stderr.startswith("Error: TaskNotFound: ") and r.stderr.count("\n") == 1


def test_task_cancel_of_a_finished_task_is_refused(server, storage):
    _, _, cli = server
    finished = cli.json("task", "list", "--storage", storage[0]["id"], "--status", "COMPLETED")[0]
    r = cli.run("task", "cancel", finished["id"])
    assert r.returncode == 1 and r.stderr.startswith("Error: TaskNotCancellable: ")


def test_failed_sync_exits_non_zero_with_the_error(server):
    _, _, cli = server
    r = cli.run(
        *REGISTER[:6],
        "--rest-host",
        "192.0.2.78",
        "--rest-port",
        "8443",
        "--rest-user",
        "admin",
        "--extra",
        "sync_error=BackendError",
        "--password-stdin",
        "--wait",
        "--no-progress",
        stdin="pw\n",
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.startswith("Error: task ") and "FAILED" in r.stderr and r.stderr.count("\n") == 1
    failed = [s for s in cli.json("storage", "list") if s["sync_status"] == "FAILED"]
    assert len(failed) == 1
    task = cli.json("storage", "delete", failed[0]["id"], "--wait", "--no-progress")
    assert task["type"] == "remove" and task["status"] == "COMPLETED"


def test_connection_refused_names_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    r = Cli(tmp_path, url).run("storage", "list")
    assert r.returncode == 1
    assert r.stderr == f"Error: cannot connect to {url}: connection refused\n"


def test_http_basic_server(tmp_path):
    users = tmp_path / "htpasswd"
    users.write_text("operator:" + bcrypt.hashpw(b"api-pw-5150", bcrypt.gensalt(rounds=4)).decode() + "\n")
    aio, url = _start(tmp_path, f"auth_strategy = http_basic\nhttp_basic_auth_user_file = {users}\n")
    try:
        cli = Cli(tmp_path / "home", url)
        r = cli.run("storage", "list")
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith("Error: Unauthorized: ")
        assert "--user/--password" in r.stderr and "DELFIN_LIKE_USER/DELFIN_LIKE_PASSWORD" in r.stderr
        r = cli.run("--user", "operator", "--password", "api-pw-5150", "storage", "list", "-f", "json")
        assert r.returncode == 0 and json.loads(r.stdout) == [], r.stderr
        r = cli.run(
            "storage", "list", "-f", "json", env={"DELFIN_LIKE_USER": "operator", "DELFIN_LIKE_PASSWORD": "api-pw-5150"}
        )
        assert r.returncode == 0, r.stderr
        config = tmp_path / "home" / ".config" / "delfin-like" / "config"
        config.parent.mkdir(parents=True)
        config.write_text("[default]\nuser = operator\npassword = api-pw-5150\n")
        config.chmod(0o644)
        r = cli.run("storage", "list", "-f", "json")
        assert r.returncode == 0 and "chmod 600" in r.stderr, r.stderr
        config.chmod(0o600)
        assert cli.run("storage", "list").stderr == ""
    finally:
        aio.kill()


def test_task_manager_list_shows_the_all_in_one_task_manager(server):
    _, _, cli = server
    managers = cli.json("task-manager", "list")
    assert len(managers) == 1 and managers[0]["status"] == "up"
    assert set(managers[0]["lanes"]) == {"urgent", "normal", "background"}
    r = cli.run("task-manager", "list")
    assert r.returncode == 0 and "| status |" in r.stdout and "urgent" in r.stdout


def test_sync_policy_show_set_and_clear(server, storage):
    _, _, cli = server
    sid = storage[0]["id"]
    policy = cli.json("storage", "sync-policy", "set", sid, "--interval", "7200", "--disable")
    assert policy["interval"] == 7200 and policy["enabled"] is False
    assert cli.json("storage", "sync-policy", "show", sid)["interval"] == 7200
    r = cli.run("storage", "sync-policy", "set", sid)
    assert r.returncode == 1 and r.stderr.startswith("Error: nothing to change")
    r = cli.run("storage", "sync-policy", "set", sid, "--sync-at", "not-a-time")
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    cleared = cli.json("storage", "sync-policy", "clear", sid)
    assert cleared["next_sync_at"] is None and cleared["next_periodic_sync_at"] is None


def test_metrics_config_show_and_set(server, storage):
    _, _, cli = server
    sid = storage[0]["id"]
    rows = cli.json(
        "metrics-config", "set", sid, "volume", "--enable", "--interval", "300", "--metrics", "iops,read_throughput"
    )
    volume = next(r for r in rows if r["resource"] == "volume")
    assert volume == {
        "resource": "volume",
        "perf_collection": True,
        "interval": 300,
        "is_historic": False,
        "metrics": ["iops", "read_throughput"],
    }
    shown = cli.run("metrics-config", "show", sid)
    assert shown.returncode == 0 and "iops,read_throughput" in shown.stdout and "| perf_collection |" in shown.stdout
    # disabling keeps the interval it had; an interval below the driver's finest is the API's 400, one line
    rows = cli.json("metrics-config", "set", sid, "volume", "--disable")
    assert next(r for r in rows if r["resource"] == "volume")["interval"] == 300
    r = cli.run("metrics-config", "set", sid, "volume", "--enable", "--interval", "1")
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    r = cli.run("metrics-config", "set", sid, "volume")
    assert r.returncode == 2  # --enable or --disable is required


def test_job_submit_show_list_and_cancel_on_a_csd_agent(server, tmp_path):
    aio, _, cli = server
    port = free_port()
    agent = Proc(
        "delfin-like-csd-agent",
        [
            "--port",
            str(port),
            "--nvme-fixtures",
            "builtin",
            "--state-dir",
            str(tmp_path / "agent"),
            "--kill-grace",
            "2",
        ],
        tmp_path / "agent.log",
    )
    try:
        agent.wait_for_log(f"on 127.0.0.1:{port}")
        p = cli.popen(
            "storage",
            "register",
            "--vendor",
            "csd",
            "--model",
            "nvme",
            "--rest-host",
            "127.0.0.1",
            "--rest-port",
            str(port),
            "--rest-user",
            "ops",
            "--password-stdin",
            "--wait",
            "--no-progress",
            "-f",
            "json",
        )
        out, err = p.communicate("agent-pw\n", timeout=120)
        assert p.returncode == 0, err
        sid = json.loads(out)["id"]

        def submit(*args):
            # -f json before the job's command: whatever follows "--" is the command
            r = cli.run("job", "submit", "-f", "json", sid, *args)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)

        data = tmp_path / "data"
        data.mkdir()
        (data / "rows.csv").write_text("a,1\n")
        job = submit(
            "--job-id",
            "copy-1",
            "--data-path",
            str(data),
            "--output-path",
            str(tmp_path / "out"),
            "--",
            "sh",
            "-c",
            'cp "$CSD_DATA_PATH/rows.csv" copied.csv',
        )
        assert job["job_id"] == "copy-1" and job["status"] in ("PENDING", "RUNNING", "COMPLETED")
        deadline = time.monotonic() + 60
        while (shown := cli.json("job", "show", job["id"]))["status"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, shown
            time.sleep(0.5)
        assert shown["status"] == "COMPLETED" and (tmp_path / "out" / "copied.csv").read_text() == "a,1\n"
        assert [j["job_id"] for j in cli.json("job", "list", "--storage", sid)] == ["copy-1"]
        long_job = submit(
            "--job-id",
            "sleepy",
            "--data-path",
            str(data),
            "--output-path",
            str(tmp_path / "out2"),
            "--",
            "sleep",
            "300",
        )
        cancelled = cli.json("job", "cancel", long_job["id"])
        assert cancelled["id"] == long_job["id"]
        deadline = time.monotonic() + 60
        while (shown := cli.json("job", "show", long_job["id"]))["status"] != "CANCELLED":
            assert time.monotonic() < deadline, shown
            time.sleep(0.5)
        r = cli.run(
            "job",
            "submit",
            sid,
            "--job-id",
            "copy-1",
            "--data-path",
            "relative/path",
            "--output-path",
            "/tmp/x",
            "--",
            "true",
        )
        assert r.returncode == 1 and r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
        r = cli.run("job", "show", "no-such-job")
        assert r.returncode == 1 and "JobNotFound" in r.stderr
    finally:
        agent.terminate()
