"""A real ``quarterdeck serve --http-port 0 --ssh-port 0`` in a subprocess, with its own
data and config folders, and the real CLI beside it (``users add --api-key``, ``audit``).

Its output goes to files, not pipes: a long run logs more than a pipe holds, and a
full pipe would stall the server under test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTED = "deck started"
HTTP_LINE = re.compile(r"HTTP on 127\.0\.0\.1:(\d+)")


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    port: int
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``quarterdeck ARGS`` on the same data and config, as an operator types it."""
        return subprocess.run([sys.executable, "-m", "console.cli", *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip

    def add_user(self, name: str, role: str) -> str:
        """A user of ``role`` with a new API key, made by ``users add --api-key``: the key."""
        added = self.cli("users", "add", name, "--role", role, "--api-key")
        assert added.returncode == 0, added.stderr
        return added.stdout.strip().splitlines()[-1]

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=120)


def environment(folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``serve`` of its own under ``folder``: ``QD_`` settings by
    their lower-case names without the prefix (``api_rate_reads="100/second"``)."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith("QD_") and k != "DATABASE_URL"}  # fmt: skip
    return {**inherited, "PYTHONPATH": str(ROOT), "QD_DATA_DIR": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"), "XDG_DATA_HOME": str(folder / "xdg"),
            "QD_DEMO_JOB": "false",
            **{f"QD_{name.upper()}": value for name, value in settings.items()}}  # fmt: skip


@contextmanager
def serving(folder: Path, **settings: str) -> Iterator[Serve]:
    """A running ``serve`` until the block ends (then killed if it still runs: a test
    that means to see it exit calls ``Serve.stop``)."""
    env = environment(folder, **settings)
    stdout, stderr = folder / "serve.out", folder / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0", "--http-port", "0"],
            stdout=out, stderr=err, env=env, cwd=ROOT,
        )  # fmt: skip
    try:
        port = _wait_for_start(process, stdout, stderr)
        yield Serve(process, env, port, stdout, stderr)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_for_start(process: subprocess.Popen[bytes], stdout: Path, stderr: Path) -> int:
    """The HTTP port, once the Deck has started; fails with the server's own words if it
    exits first or takes more than two minutes."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = stdout.read_text(errors="replace")
        found = HTTP_LINE.search(text)
        if found and STARTED in text:
            return int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"serve did not start:\n{stdout.read_text()}\n{stderr.read_text()}")
