"""Traps per second the trap receiver takes with none lost, v2c and v3 (authPriv SHA/AES).

The traps are net-snmp's own: ``snmptrap`` (Debian package ``snmp``) sends one trap of each
version to a plain socket here, and a sender process replays those datagrams at a fixed rate
(a v3 trap stays valid inside USM's 150-second time window, so replays are accepted like the
array's own traps). For each version and each rate of ``--rates``, ``--seconds`` worth of traps
are sent; ``lost`` is sent minus what reached the sink (socket buffer overflow, queue drops).
``best_lossless_rate`` is the highest rate with 0 lost over that time (the socket's receive
buffer, 8 MiB where net.core.rmem_max allows, absorbs an overload of a few seconds);
``best_sustained_rate`` the highest with 0 lost where the receiver also kept up (delivered at
90 % of the rate or more, so not living off the buffer). ``flat_out`` sends ``--burst`` traps as
fast as the sender can and gives the receiver's rate (delivered / seconds until the last
delivery) and what was lost. Sender and receiver share the machine's cores: a floor.

    python benchmarks/trap_bench.py
    python benchmarks/trap_bench.py --rates 1000,2000,4000 --seconds 3
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ENGINE_ID = "8000000001020304"
V2C = {"storage_id": "bench-v2c", "version": "snmpv2c", "community_string": "bench", "host": "127.0.0.1"}
V3 = {
    "storage_id": "bench-v3",
    "version": "snmpv3",
    "username": "bench",
    "security_level": "authPriv",
    "auth_protocol": "SHA",
    "auth_key": "bench-auth-1",
    "privacy_protocol": "AES",
    "privacy_key": "bench-priv-1",
    "engine_id": ENGINE_ID,
    "host": "127.0.0.1",
}
TRAP = ["", "1.3.6.1.4.1.8072.2.3.0.1", "1.3.6.1.4.1.8072.2.3.2.1", "s", "benchmark trap with some text"]


class Provider:
    def refresh(self):
        return [dict(V2C), dict(V3)]


class CountingSink:
    def __init__(self):
        self.count = 0
        self.cond = threading.Condition()

    def __call__(self, storage_id, trap):
        with self.cond:
            self.count += 1
            self.cond.notify_all()


def capture(binary: str, args: list[str], workdir: str) -> bytes:
    """One datagram exactly as ``snmptrap`` sends it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        env = {"PATH": os.environ.get("PATH", ""), "MIBS": "", "SNMPCONFPATH": workdir, "HOME": workdir,
               "SNMP_PERSISTENT_DIR": os.path.join(workdir, "persist")}
        subprocess.run([binary, *args, f"127.0.0.1:{sock.getsockname()[1]}", *TRAP], env=env, check=True,
                       timeout=10, capture_output=True)
        return sock.recv(65536)


def send(port: int, datagram: bytes, count: int, rate: float) -> None:
    """Sender process: ``count`` copies of ``datagram`` at ``rate`` per second (0: as fast as possible)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        start = time.perf_counter()
        for i in range(count):
            if rate:
                due = start + i / rate
                while (now := time.perf_counter()) < due:
                    if due - now > 0.002:
                        time.sleep(0.001)
            sock.sendto(datagram, ("127.0.0.1", port))


def run_once(receiver, sink: CountingSink, datagram: bytes, count: int, rate: float) -> dict:
    with sink.cond:
        before = sink.count
    counters_before = receiver.counters()
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--send", str(receiver.port), datagram.hex(), str(count), str(rate)], check=True
    )
    sent_seconds = time.perf_counter() - began
    # wait until the receiver is idle: everything delivered, or nothing new for a second
    last, last_change = -1, time.perf_counter()
    with sink.cond:
        while sink.count - before < count and time.perf_counter() - last_change < 1.0:
            if sink.count != last:
                last, last_change = sink.count, time.perf_counter()
            sink.cond.wait(0.1)
        delivered = sink.count - before
    done_seconds = (last_change if delivered < count else time.perf_counter()) - began
    counters = {k: v - counters_before[k] for k, v in receiver.counters().items()}
    return {
        "rate": rate or None,
        "sent": count,
        "delivered": delivered,
        "lost": count - delivered,
        "not_received_by_socket": count - counters["received"],
        "dropped_queue": counters["dropped"],
        "send_seconds": round(sent_seconds, 3),
        "traps_per_second": round(delivered / done_seconds, 1) if done_seconds > 0 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="500,1000,1500,2000,2500,3000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=10000)
    parser.add_argument("--send", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        port, data, count, rate = args.send
        send(int(port), bytes.fromhex(data), int(count), float(rate))
        return
    from delfin_like.alert_manager.trap_receiver import TrapReceiver  # not in the light sender process

    binary = shutil.which("snmptrap")
    if binary is None:
        sys.exit("snmptrap is not installed (apt-get install -y snmp)")
    with tempfile.TemporaryDirectory() as workdir:
        datagrams = {
            "v2c": capture(binary, ["-v", "2c", "-c", "bench"], workdir),
            "v3": capture(binary, ["-v", "3", "-e", "0x" + ENGINE_ID, "-u", "bench", "-l", "authPriv", "-a", "SHA",
                                   "-A", V3["auth_key"], "-x", "AES", "-X", V3["privacy_key"]], workdir),
        }
    sink = CountingSink()
    receiver = TrapReceiver(Provider(), sink, host="127.0.0.1", port=0, queue_size=100000, log_burst=1)
    receiver.start()
    result = {
        "load_average_before": os.getloadavg(),
        "cpus": os.cpu_count(),
        "seconds_per_rate": args.seconds,
        "socket_receive_buffer_bytes": receiver._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        "versions": {},
    }
    try:
        for version, datagram in datagrams.items():
            runs = []
            for rate in (float(r) for r in args.rates.split(",")):
                runs.append(run_once(receiver, sink, datagram, int(rate * args.seconds), rate))
            lossless = [r["rate"] for r in runs if r["lost"] == 0]
            kept_up = [r["rate"] for r in runs if r["lost"] == 0 and r["traps_per_second"] >= 0.9 * r["rate"]]
            result["versions"][version] = {
                "datagram_bytes": len(datagram),
                "runs": runs,
                "best_lossless_rate": max(lossless) if lossless else None,
                "best_sustained_rate": max(kept_up) if kept_up else None,
                "flat_out": run_once(receiver, sink, datagram, args.burst, 0),
            }
    finally:
        receiver.stop()
    result["load_average_after"] = os.getloadavg()
    result["counters"] = receiver.counters()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
