"""/health latency under a bounded local load, against a real `quarterdeck serve`.

    .venv/bin/python -m bench.http_health [--clients 20] [--seconds 5] [--interval 0.02]
                                          [--baseline DIR]

Starts ``quarterdeck serve --ssh-port 0 --http-port 0`` in its own process
with the simulator at 10,000 ticks/s, then runs ``--clients`` httpx clients
(one keep-alive connection each) that each ask for ``/health`` every
``--interval`` seconds (paced, not flat out: 20 clients at 20 ms is 1,000
requests/s) for ``--seconds``, then the same load from bare sockets, which
shows how much of the httpx figure is httpx's own work in this one process.
Prints p50/p99/max as the clients see them and the server's event-loop lag
from ``/metrics`` afterwards. Target (issues 9 and 26): p99 under 5 ms.

``--baseline DIR`` measures a source tree of another version first (for instance
``git archive 8f6f586 | tar -x -C DIR``, the hand-written server before the API), then
this one, in the same run, and prints the ratio of each figure (this / baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
TICK_RATE = "10000"


def start_serve(data: Path, root: Path = ROOT) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "QD_DATA_DIR": str(data / "data"), "PYTHONPATH": str(root),
           "XDG_CONFIG_HOME": str(data / "config"), "QD_DEMO_JOB": "false",
           "QD_SIM_TICK_RATE": TICK_RATE}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0", "--http-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=root,
    )  # fmt: skip
    assert process.stdout is not None
    base = ""
    for _ in range(3):
        line = process.stdout.readline()
        if found := re.search(r"HTTP on (\S+)", line):
            base = f"http://{found.group(1)}"
        if "deck started" in line:
            return process, base
    process.kill()
    raise SystemExit(f"quarterdeck serve did not start (last line: {line!r})")


async def httpx_client(base: str, start: float, until: float, interval: float,
                       latencies: list[float]) -> None:  # fmt: skip
    async with httpx.AsyncClient(base_url=base) as http:
        (await http.get("/health")).raise_for_status()  # connect first: that is not timed
        next_at = start
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        while next_at < until:
            started = time.perf_counter()
            response = await http.get("/health")
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def socket_client(base: str, start: float, until: float, interval: float,
                        latencies: list[float]) -> None:  # fmt: skip
    """The same requests written on a bare keep-alive socket: what is left is the
    server's time (and the loopback's), without httpx's own per-request work."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    next_at = start
    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    while next_at < until:
        started = time.perf_counter()
        writer.write(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        assert head.startswith(b"HTTP/1.1 200"), head
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    writer.close()


CLIENTS = {"httpx": httpx_client, "socket": socket_client}


async def load(kind: str, base: str, clients: int, seconds: float, interval: float) -> list[float]:
    """Clients start out of phase (spread over one interval), so the load is a steady
    stream rather than bursts that would measure the clients' own queue."""
    client = CLIENTS[kind]
    latencies: list[float] = []
    start = time.perf_counter() + 0.5
    until = start + seconds
    await asyncio.gather(*(client(base, start + i * interval / clients, until, interval,
                                  latencies) for i in range(clients)))  # fmt: skip
    return latencies


def gauge(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    return float("nan")


Figures = dict[str, tuple[float, float, float]]  # client kind: p50, p99, max (ms)


def measure(root: Path, args: argparse.Namespace) -> Figures:
    """Start ``serve`` from the source tree ``root``, load it with each kind of client,
    print and return the figures."""
    figures: Figures = {}
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_serve(Path(folder), root)
        try:
            time.sleep(1.0)  # let the feed and engine settle
            for kind in CLIENTS:
                latencies = asyncio.run(load(kind, base, args.clients, args.seconds, args.interval))
                ms = sorted(x * 1000 for x in latencies)
                p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
                figures[kind] = (statistics.median(ms), p99, ms[-1])
                print(f"  {kind:6} requests {len(ms)} ({len(ms) / args.seconds:.0f}/s)  p50 "
                      f"{figures[kind][0]:.2f} ms  p99 {p99:.2f} ms  "
                      f"max {ms[-1]:.2f} ms")  # fmt: skip
            metrics = httpx.get(f"{base}/metrics").text
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    lag = gauge(metrics, "quarterdeck_event_loop_lag_seconds") * 1000
    worst = gauge(metrics, "quarterdeck_event_loop_lag_max_seconds") * 1000
    ticks = gauge(metrics, "quarterdeck_feed_ticks_total")
    print(f"  server loop lag: last {lag:.1f} ms, worst in the last interval {worst:.1f} ms; "
          f"feed ticks {ticks:.0f}")  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                        help="measure this source tree first, then compare")  # fmt: skip
    args = parser.parse_args()
    print(f"/health, {args.clients} clients every {args.interval * 1000:g} ms for "
          f"{args.seconds:g} s, simulator at {TICK_RATE} ticks/s; load average "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    baseline = None
    if args.baseline is not None:
        print(f"baseline: {args.baseline}")
        baseline = measure(args.baseline.resolve(), args)
        print(f"this tree: {ROOT}")
    figures = measure(ROOT, args)
    if baseline is not None:
        for kind, (p50, p99, worst) in figures.items():
            old = baseline[kind]
            print(f"  {kind:6} this / baseline: p50 {p50 / old[0]:.2f}x  p99 {p99 / old[1]:.2f}x  "
                  f"max {worst / old[2]:.2f}x")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
