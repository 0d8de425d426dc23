"""Many SSH consoles on one Deck, as the server and one operator's terminal see them.

    .venv/bin/python -m bench.ssh_sessions --sessions N [--presses P] [--settle S]

A real ``quarterdeck serve`` (simulator at 10,000 ticks/s) and N asyncssh
client sessions in this process, each a 120x40 terminal on the dashboard.
Reported:

- key press to redrawn frame in one of the N sessions: keys 3 and 1 alternate
  between the jobs screen and the dashboard; latency is from writing the key
  to the first bytes of the new screen's header arriving (as
  ``bench.console_speed`` measures the local console);
- the server's extra resident memory per session, at rest: S seconds (30 by
  default) after the first session and again after the other N-1 open. A
  session's memory grows for about 20 s after it opens, while its panes fill
  with live data; a figure taken sooner understates it;
- the engine's tick rate as the Health pane shows it, with one observing
  session and with N (the server cannot be watched with none).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh
import numpy as np
import psutil

from bench.console_speed import SWITCHES, header

ROOT = Path(__file__).resolve().parents[1]
TICKS = re.compile(rb"([\d,]+) ticks/s")
SGR = re.compile(rb"\x1b\[[0-9;:?]*[A-Za-z]")


class Screen(asyncssh.SSHClientSession[bytes]):
    def __init__(self) -> None:
        self.chunks: list[tuple[float, bytes]] = []

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.chunks.append((time.perf_counter(), data))

    async def first(self, pattern: re.Pattern[bytes], since: int, timeout: float = 30) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for stamp, data in self.chunks[since:]:
                if pattern.search(data):
                    return stamp
            await asyncio.sleep(0.002)
        raise TimeoutError(pattern.pattern)

    def tick_rates(self, since: int) -> list[float]:
        text = SGR.sub(b"", b"".join(data for _, data in self.chunks[since:]))
        return [float(m.group(1).replace(b",", b"")) for m in TICKS.finditer(text)]


def start_server(data: Path) -> tuple[subprocess.Popen[str], int, Path]:
    key = data / "bench_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    env = {**os.environ, "QD_DATA_DIR": str(data), "PYTHONPATH": str(ROOT),
           "QD_SIM_TICK_RATE": "10000", "QD_DEMO_JOB": "false",
           "QD_SSH_MAX_SESSIONS": "1000"}  # fmt: skip
    cli = [sys.executable, "-m", "console.cli"]
    subprocess.run([*cli, "users", "add", "bench", "--role", "viewer", "--key", f"{key}.pub"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    server = subprocess.Popen([*cli, "serve", "--ssh-port", "0"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert server.stdout is not None
    port = int(re.search(r":(\d+),", server.stdout.readline()).group(1))  # type: ignore[union-attr]
    server.stdout.readline()  # deck started
    return server, port, key


Session = tuple[asyncssh.SSHClientConnection, asyncssh.SSHClientChannel[bytes], Screen]


async def open_session(port: int, key: Path) -> Session:
    conn = await asyncssh.connect("127.0.0.1", port, username="bench", client_keys=[str(key)],
                                  known_hosts=None, agent_path=None, config=None)  # fmt: skip
    chan, screen = await conn.create_session(Screen, term_type="xterm-256color",
                                             term_size=(120, 40), encoding=None)  # fmt: skip
    await screen.first(header(b"Dashboard"), 0, timeout=60)
    return conn, chan, screen


async def run(sessions: int, presses: int, settle: float = 30.0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, port, key = start_server(Path(tmp))
        process = psutil.Process(server.pid)
        try:
            await asyncio.sleep(3.0)  # numba warm, the feed at full rate
            conn, chan, observer = await open_session(port, key)
            await asyncio.sleep(settle)
            base_rss = process.memory_info().rss
            mark = len(observer.chunks)
            await asyncio.sleep(5.0)
            alone = observer.tick_rates(mark)
            others = [await open_session(port, key) for _ in range(sessions - 1)]
            await asyncio.sleep(settle)
            per_session = (process.memory_info().rss - base_rss) / max(sessions - 1, 1)
            mark = len(observer.chunks)
            await asyncio.sleep(5.0)
            crowded = observer.tick_rates(mark)
            samples = []
            for n in range(presses):
                pressed = "3" if n % 2 == 0 else "1"
                since = len(observer.chunks)
                sent = time.perf_counter()
                chan.write(pressed.encode())
                drawn = await observer.first(header(SWITCHES[pressed]), since)
                samples.append((drawn - sent) * 1000)
                await asyncio.sleep(0.15)
            for other, _, _ in others:
                other.close()
            conn.close()
        finally:
            server.terminate()
            server.wait(timeout=60)
    ordered = np.sort(samples)
    print(f"{sessions} SSH sessions at 120x40 on the dashboard, simulator 10,000 ticks/s:")
    p50, p95 = np.percentile(ordered, 50), np.percentile(ordered, 95)
    print(f"  key press to redrawn frame: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {ordered[-1]:.1f} ms ({presses} keys)")  # fmt: skip
    if sessions > 1:
        print(
            f"  server memory per extra session, {settle:g} s after opening: "
            f"{per_session / 1e6:.2f} MB"
        )
    rate = lambda r: f"{np.median(r):,.0f} ticks/s" if r else "not shown"  # noqa: E731
    print(f"  engine: {rate(alone)} with 1 session, {rate(crowded)} with {sessions}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, metavar="N")
    parser.add_argument("--presses", type=int, default=40, metavar="P")
    parser.add_argument("--settle", type=float, default=30.0, metavar="S")
    args = parser.parse_args()
    asyncio.run(run(max(args.sessions, 1), args.presses, args.settle))


if __name__ == "__main__":
    main()
