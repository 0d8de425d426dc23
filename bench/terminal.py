"""Run the real ``quarterdeck`` command in a pseudo-terminal and watch what it draws.

A reader thread drains the terminal all the time (a full pty buffer would
block the app's writes and slow it down), stamping each chunk with the time
it arrived, so a benchmark can ask "when did this text first appear after
that key?".
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

QUARTERDECK = Path(sys.executable).with_name("quarterdeck")


class Terminal:
    def __init__(
        self, env: dict[str, str], columns: int = 120, rows: int = 40, args: Sequence[str] = ()
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self._chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [str(QUARTERDECK), *args],
            stdin=slave, stdout=slave, stderr=slave,
            env={"TERM": "xterm-256color", "PATH": os.environ["PATH"], **env},
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.started = time.perf_counter()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._chunks.append((time.perf_counter(), data))

    def resize(self, columns: int, rows: int) -> None:
        """Change the terminal's size, as a window manager would (and tell the app)."""
        fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        os.killpg(self.process.pid, signal.SIGWINCH)

    def mark(self) -> int:
        """A position in the output; ``wait_for`` looks only at what arrives after it."""
        with self._lock:
            return len(self._chunks)

    def press(self, key: str) -> float:
        """Send a key; returns when it was sent (perf_counter)."""
        sent = time.perf_counter()
        os.write(self._master, key.encode())
        return sent

    def wait_for(self, pattern: re.Pattern[bytes], since: int, timeout: float = 30.0) -> float:
        """When ``pattern`` first appeared in the output after mark ``since``."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                chunks = self._chunks[since:]
            text = b""
            for stamp, data in chunks:
                text += data
                if pattern.search(text):
                    return stamp
            time.sleep(0.0005)
        raise TimeoutError(f"{pattern.pattern!r} did not appear within {timeout} s")

    def close(self) -> None:
        if self.process.poll() is None:
            self.press("q")
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self._master)
