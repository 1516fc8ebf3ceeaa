"""Timed-out registration probes stop their work: after 20 of them the API process has no extra busy
thread and its RSS is back within 10% of where it started (read from /proc of the real process)."""

import concurrent.futures
import os
import threading

from tests.e2e.conftest import Client, Proc, free_port, write_conf
from tests.waits import wait_until

REQUESTS = 20
TICKS = os.sysconf("SC_CLK_TCK")


def _body(i: int, **attrs) -> dict:
    return {
        "vendor": "fake_storage",
        "model": "fake_driver",
        "rest": {"host": f"192.0.2.{i % 250 + 1}", "port": 8443 + i, "username": "admin", "password": "pw"},
        "extra_attributes": attrs,
    }


def _threads(pid: int) -> dict[int, int]:
    """Thread id -> utime + stime ticks of every thread of ``pid``."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks[int(tid)] = int(fields[11]) + int(fields[12])
    return ticks


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_timed_out_probes_leave_no_busy_thread_and_no_memory_behind(tmp_path, procs):
    port = free_port()
    conf = tmp_path / "aio.conf"
    write_conf(
        conf,
        {
            "DEFAULT": {"state_path": tmp_path / "state"},
            "api": {"port": port},
            "all_in_one": {"demo_storage": "false"},
            "storage_driver": {"probe_timeout": 1},
        },
    )
    aio = Proc("delfin-like-all-in-one", ["--config-file", str(conf)], tmp_path / "aio.log")
    procs.append(aio)
    api = Client(f"http://127.0.0.1:{port}")
    api.wait_ready(90)
    [worker] = aio.worker_pids() - {aio.popen.pid}

    def register(i: int, **attrs) -> int:
        return api.post("/v1/storages", _body(i, **attrs)).status_code

    # warm up the code paths (and the allocator) before the baseline
    assert register(0, pools=10**30) == 400
    assert register(1, probe_delay=30) == 400
    base_threads = set(wait_until(lambda: _threads(worker), 5, "threads listed"))
    base_rss = _rss_kb(worker)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        # the request: a size no array has (now refused at once) ...
        huge = list(pool.map(lambda i: register(i, pools=10**30), range(2, 2 + REQUESTS)))
        # ... and probes that really time out (the array takes 30 s, the probe may take 1 s)
        slow = list(pool.map(lambda i: register(i, probe_delay=30), range(100, 100 + REQUESTS)))
    assert huge == [400] * REQUESTS and slow == [400] * REQUESTS

    # every probe thread told to stop has ended
    wait_until(lambda: not set(_threads(worker)) - base_threads, 15, "probe threads ending")
    before = _threads(worker)
    window = 3.0
    threading.Event().wait(window)  # a window to measure CPU over: nothing to wait for
    after = _threads(worker)
    busy = {tid: (after[tid] - ticks) / TICKS / window for tid, ticks in before.items() if tid in after}
    assert not {tid: share for tid, share in busy.items() if share > 0.05}, busy
    rss = _rss_kb(worker)
    assert rss <= base_rss * 1.10, f"RSS {base_rss} kB before, {rss} kB after {2 * REQUESTS} requests"
    assert aio.terminate() == 0
