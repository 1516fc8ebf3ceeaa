"""Rest costs nothing: every long-running process, once up and idle, uses at most 1% of a core.

All processes start at once and are measured over the same idle window, from /proc (utime + stime
of the process and its forked workers), so the test costs one window, not one per process.
"""

import os
import threading
import uuid

from tests.e2e.conftest import Client, Proc, db_manage, deployment_conf, free_port, write_conf

# the idle window, seconds
WINDOW = 30.0
# the most a process may use at rest, in cores
CEILING = 0.01
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """utime + stime of ``pids`` (processes that have gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        # fields after the command: state is [0], utime [11], stime [12]
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def _split_env(tmp_path, postgresql_url, rabbit_url, redis_url) -> dict:
    return deployment_conf(
        tmp_path / "split",
        postgresql_url,
        rabbit_url,
        redis_url,
        f"delfin_e2e.{uuid.uuid4().hex[:10]}",
        task_manager={"membership_group": f"idle-tm-{uuid.uuid4().hex[:10]}"},
        scheduler={"election_group": f"idle-{uuid.uuid4().hex[:10]}"},
    )


def test_every_process_at_rest_uses_at_most_one_percent_of_a_core(
    tmp_path, procs, postgresql_url, rabbit_url, redis_url
):
    (tmp_path / "split").mkdir()
    env = _split_env(tmp_path, postgresql_url, rabbit_url, redis_url)
    db_manage(env, "upgrade")
    split = ["--config-file", env["conf"]]

    aio_port = free_port()
    aio_conf = tmp_path / "aio.conf"
    write_conf(
        aio_conf,
        {
            "DEFAULT": {"state_path": tmp_path / "aio-state"},
            "api": {"port": aio_port},
            # no storage registered: nothing to do
            "all_in_one": {"demo_storage": "false"},
        },
    )
    csd_port = free_port()
    started = {
        "all-in-one": Proc("delfin-like-all-in-one", ["--config-file", str(aio_conf)], tmp_path / "aio.log"),
        "task": Proc("delfin-like-task", split, tmp_path / "task.log"),
        "scheduler": Proc("delfin-like-scheduler", split, tmp_path / "scheduler.log"),
        "api": Proc("delfin-like-api", split, tmp_path / "api.log"),
        "simulator": Proc(
            "delfin-like-simulator",
            ["--arrays", "1", "--rest-port", str(free_port()), "--no-ssh", "--no-snmp"]
            + ["--state-dir", str(tmp_path / "sim-state")],
            tmp_path / "sim.log",
            env=dict(os.environ, DELFIN_LIKE_SIMULATOR_PASSWORD="Idle-Sim-Secret-1"),
        ),
        "csd-agent": Proc(
            "delfin-like-csd-agent",
            ["--port", str(csd_port), "--nvme-fixtures", "builtin", "--state-dir", str(tmp_path / "csd-state")],
            tmp_path / "csd.log",
        ),
    }
    procs.extend(started.values())
    # up: each one's own readiness event
    started["all-in-one"].wait_for_log("delfin-like-all-in-one started", 90)
    Client(f"http://127.0.0.1:{aio_port}").wait_ready(30)
    started["task"].wait_for_log("Consuming task lanes", 60)
    started["scheduler"].wait_for_log("Elected leader", 60)
    Client(f"http://127.0.0.1:{env['port']}").wait_ready(60)
    started["simulator"].wait_for_log('{"event": "ready"', 60)
    started["csd-agent"].wait_for_log(f"on 127.0.0.1:{csd_port}", 60)

    pids = {name: p.worker_pids() for name, p in started.items()}
    before = {name: cpu_seconds(p) for name, p in pids.items()}
    threading.Event().wait(WINDOW)  # the idle window itself: nothing to wait for
    used = {name: (cpu_seconds(pids[name]) - before[name]) / WINDOW for name in started}
    for name, p in started.items():
        assert p.popen.poll() is None, f"{name} exited during the idle window:\n{p.log[-3000:]}"
    figures = ", ".join(f"{name} {share * 100:.2f}%" for name, share in used.items())
    print(f"idle CPU over {WINDOW:g} s: {figures}")
    busy = {name: share for name, share in used.items() if share > CEILING}
    assert not busy, f"above {CEILING * 100:g}% of a core at rest: {figures}"
