"""Does the control API slow the engine? Tick-to-order latency with the API idle, then
with clients on it, in one run of one ``quarterdeck serve``.

The serve runs the fast market of ``bench.heatmap_stall`` (4,000 ticks a second,
one-second bars) so the engine places a window of orders (``SAMPLES_KEPT``) in each
phase. Idle: nobody calls the API but this script's reads of ``/metrics``. Loaded:
``--clients`` clients (20) each ask ``GET /api/v1/portfolio`` as fast as it answers,
and one stream client follows ``fills`` and ``orders``. The reads rate limit is raised
for the run (one address would otherwise be refused after 20 a second, which measures
the limiter, not the API). The figures are the engine's own (``/metrics``), from the
tick's due time to the order's hand-off, so a stalled loop shows.

    .venv/bin/python -m bench.api_load
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.heatmap_stall import FAST_MARKET, fill_the_window, tick_to_order
from core.trading.latency import SAMPLES_KEPT

HTTP_LINE = re.compile(r"HTTP on 127\.0\.0\.1:(\d+)")


@dataclass
class Load:
    """What the clients got: each portfolio answer's latency (ms), its statuses, and
    the stream messages."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    messages: int = 0
    dropped: int = 0
    closed: str = ""  # why the stream closed before the end, if it did


@contextmanager
def serve(folder: Path) -> Iterator[tuple[int, dict[str, str]]]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("QD_")},
           "QD_DATA_DIR": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config"),
           "QD_DEMO_JOB": "false", "QD_API_RATE_READS": "100000/second",
           **FAST_MARKET}  # fmt: skip
    out = folder / "serve.out"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0", "--http-port", "0"],
            stdout=stdout, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    try:
        while "deck started" not in out.read_text():
            if process.poll() is not None:
                raise SystemExit(f"serve exited: {out.read_text()}")
            time.sleep(0.2)
        found = HTTP_LINE.search(out.read_text())
        assert found is not None
        yield int(found.group(1)), env
    finally:
        process.terminate()
        process.wait(timeout=60)


def api_key(env: dict[str, str]) -> str:
    added = subprocess.run([sys.executable, "-m", "console.cli", "users", "add", "bench",
                            "--role", "viewer", "--api-key"], env=env, check=True,
                           capture_output=True, text=True)  # fmt: skip
    return added.stdout.strip().splitlines()[-1]


async def load(port: int, key: str, clients: int, stop: threading.Event, got: Load) -> None:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = (await client.post("/api/v1/auth/token", headers={"x-api-key": key})).json()
    headers = {"authorization": f"Bearer {token['access_token']}"}

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            while not stop.is_set():
                began = time.perf_counter()
                answer = await client.get("/api/v1/portfolio")
                got.latencies.append((time.perf_counter() - began) * 1000)
                got.statuses[answer.status_code] = got.statuses.get(answer.status_code, 0) + 1

    async def follow() -> None:
        url = f"ws://127.0.0.1:{port}/api/v1/stream"
        began = time.perf_counter()
        async with connect(url, additional_headers=headers, ping_interval=None) as socket:
            await socket.send(json.dumps({"subscribe": ["fills", "orders"]}))
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 1))
                except TimeoutError:
                    continue
                except ConnectionClosed as exc:
                    got.closed = f"{exc} after {time.perf_counter() - began:.0f} s"
                    return
                got.messages += message.get("type") == "event"
                got.dropped += message.get("count", 0) if message.get("type") == "dropped" else 0

    await asyncio.gather(follow(), *(poll() for _ in range(clients)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="portfolio pollers (20)")
    clients = parser.parse_args().clients
    with tempfile.TemporaryDirectory() as folder, serve(Path(folder)) as (port, env):
        key = api_key(env)
        began = time.perf_counter()
        idle = fill_the_window(port, tick_to_order(port)[1], lambda: time.sleep(2))
        idle_seconds = time.perf_counter() - began
        stop, got = threading.Event(), Load()
        clients_thread = threading.Thread(
            target=lambda: asyncio.run(load(port, key, clients, stop, got)), daemon=True
        )
        began = time.perf_counter()
        clients_thread.start()
        loaded = fill_the_window(port, idle[1], lambda: time.sleep(2))
        loaded_seconds = time.perf_counter() - began
        stop.set()
        clients_thread.join(timeout=60)
    (rest, rest_count), (busy, busy_count) = idle, loaded
    print(f"idle: {rest_count:,} orders in all, {idle_seconds:.0f} s; the newest "
          f"{SAMPLES_KEPT:,}: p50 {rest['0.5']:.1f} ms, p99 {rest['0.99']:.1f} ms")  # fmt: skip
    print(f"loaded: {busy_count - rest_count:,} orders in {loaded_seconds:.0f} s: p50 "
          f"{busy['0.5']:.1f} ms, p99 {busy['0.99']:.1f} ms")  # fmt: skip
    print(f"ratio loaded / idle: p50 {busy['0.5'] / rest['0.5']:.2f}, "
          f"p99 {busy['0.99'] / rest['0.99']:.2f}")  # fmt: skip
    latencies = sorted(got.latencies)
    if latencies:
        print(f"{clients} clients: {len(latencies):,} portfolio answers "
              f"({len(latencies) / loaded_seconds:,.0f}/s; statuses {got.statuses}), median "
              f"{statistics.median(latencies):.1f} ms, p99 "
              f"{latencies[int(0.99 * (len(latencies) - 1))]:.0f} ms")  # fmt: skip
    print(f"stream: {got.messages:,} fill and order events, {got.dropped:,} dropped"
          + (f"; closed early: {got.closed}" if got.closed else ""))  # fmt: skip


if __name__ == "__main__":
    main()
