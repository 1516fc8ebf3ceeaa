"""Volumes listed per second by each real driver against the simulator on loopback.

For every driver in :data:`SETUPS`, one simulated array (10,000 volumes by default) is served
by that driver's front end in this process; a fresh driver (loaded through stevedore and built
anew for each run, as the service builds one per task) lists every volume ``--repeat`` times.
Prints one JSON document: per driver the volumes seen, the best and median seconds of a full
listing, volumes/s of the best run, and the time of ``get_storage``. A driver whose front end
cannot start here (a dependency missing) gets ``{"error": ...}`` and the others still run. The
client and the front end share this process (and, on a 2-core machine, the cores), so the
figures are a floor.

    python benchmarks/drivers_bench.py
    python benchmarks/drivers_bench.py --volumes 100000 --drivers "netapp ontap_rest" --repeat 1

A new driver is one more entry in :data:`SETUPS`: a function that starts its front end on
``array`` and returns ``(front_end, AccessInfo)``.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import stevedore

from delfin_like.sdk import driver as sdk_driver
from delfin_like.sdk import models
from delfin_like_drivers.simulator.model import SimulatedArray

PASSWORD = "Bench-pw-1234"
TIMEOUT = 300.0


def _ontap_rest(array: SimulatedArray, state_dir: str, page_size: int | None):
    from delfin_like_drivers.simulator.rest import RestFrontEnd

    front = RestFrontEnd(array, state_dir=state_dir, username="admin", password=PASSWORD).start()
    with open(front.ca_file) as f:
        extra = {"ca_cert": f.read()}
    if page_size:
        extra["page_size"] = page_size
    rest = models.AccessEndpoint(host="127.0.0.1", port=front.port, username="admin", password=PASSWORD, extra=extra)
    return front, models.AccessInfo(vendor="netapp", model="ontap_rest", rest=rest, timeout=TIMEOUT)


def _svc_ssh(array: SimulatedArray, state_dir: str, page_size: int | None):
    from delfin_like_drivers.simulator.ssh import SshFrontEnd

    front = SshFrontEnd(array, username="superuser", password=PASSWORD, state_dir=state_dir).start()
    ssh = models.AccessEndpoint(
        host="127.0.0.1",
        port=front.port,
        username="superuser",
        password=PASSWORD,
        extra={"host_key": front.host_key_line},
    )
    return front, models.AccessInfo(vendor="ibm", model="svc_ssh", ssh=ssh, timeout=TIMEOUT)


def _generic_snmp(array: SimulatedArray, state_dir: str, page_size: int | None):
    from delfin_like_drivers.simulator.snmp import SnmpFrontEnd

    front = SnmpFrontEnd(array, community="bench", state_dir=os.path.join(state_dir, "snmp")).start()
    extra = {"community": "bench", "version": "2c"}
    if page_size:
        extra["max_repetitions"] = min(page_size, 100)
    snmp = models.AccessEndpoint(host="127.0.0.1", port=front.port, extra=extra)
    return front, models.AccessInfo(vendor="generic", model="snmp", snmp=snmp, timeout=TIMEOUT)


# driver name -> function(array, state_dir, page_size) -> (started front end, AccessInfo)
SETUPS = {
    "netapp ontap_rest": _ontap_rest,
    "ibm svc_ssh": _svc_ssh,
    "generic snmp": _generic_snmp,
}


def bench_driver(name: str, volumes: int, pools: int, repeat: int, page_size: int | None) -> dict:
    """List every volume of a fresh array ``repeat`` times through driver ``name``; returns its figures."""
    array = SimulatedArray(name="bench-array", pools=pools, volumes=volumes, seed=42)
    with tempfile.TemporaryDirectory(prefix="drivers-bench-") as state_dir:
        try:
            front, access_info = SETUPS[name](array, state_dir, page_size)
        except Exception as e:  # noqa: BLE001 - a missing dependency skips this driver only
            return {"error": f"{type(e).__name__}: {e}"[:300]}
        try:
            cls = stevedore.DriverManager(sdk_driver.NAMESPACE, name, invoke_on_load=False).driver
            # a fresh driver per run, as the service builds one per task (a driver may cache what it read)
            runs, seen = [], 0
            for _ in range(repeat):
                drv = cls(access_info)
                try:
                    started = time.perf_counter()
                    seen = sum(1 for _ in drv.list_volumes())
                    runs.append(time.perf_counter() - started)
                finally:
                    drv.close()
            drv = cls(access_info)
            try:
                started = time.perf_counter()
                drv.get_storage()
                storage_s = time.perf_counter() - started
            finally:
                drv.close()
        finally:
            front.stop()
    best = min(runs)
    return {
        "volumes_listed": seen,
        "best_s": round(best, 3),
        "median_s": round(statistics.median(runs), 3),
        "volumes_per_s": round(seen / best) if best else None,
        "get_storage_s": round(storage_s, 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volumes", type=int, default=10000)
    parser.add_argument("--pools", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drivers", default=",".join(SETUPS), help="comma-separated driver names")
    parser.add_argument(
        "--page-size",
        type=int,
        default=None,
        help="page size (REST max_records, SNMP max-repetitions); default: each driver's own",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.drivers.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETUPS]
    if unknown:
        parser.error(f"unknown driver(s) {unknown}; known: {sorted(SETUPS)}")
    out = {
        "volumes": args.volumes,
        "pools": args.pools,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "drivers": {},
    }
    for name in names:
        out["drivers"][name] = bench_driver(name, args.volumes, args.pools, args.repeat, args.page_size)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
