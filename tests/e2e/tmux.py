"""Drive a real terminal: a private tmux server running a shell, keys in, screen out."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path


class TmuxError(AssertionError):
    pass


class TmuxSession:
    """A tmux server of its own (its own socket), one window of ``width`` x ``height``."""

    def __init__(self, width: int, height: int, env: dict[str, str], cwd: Path) -> None:
        if shutil.which("tmux") is None:
            raise TmuxError("tmux is not installed: run scripts/system-deps.sh")
        self.socket = f"qd-test-{uuid.uuid4().hex[:8]}"
        self.target = "qd"
        env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self._tmux(
            "new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height),
            "-c", str(cwd), *env_args, "bash --norc --noprofile",
        )  # fmt: skip
        self._tmux("set-option", "-g", "status", "off")
        self.wait_for(lambda screen: "$" in screen or "#" in screen, timeout=10)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        if result.returncode != 0:
            raise TmuxError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.target, *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def flag(self, name: str) -> str:
        return self._tmux("display-message", "-p", "-t", self.target, f"#{{{name}}}").strip()

    def shell_pid(self) -> int:
        return int(self.flag("pane_pid"))

    def wait_for(self, ready: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if ready(screen):
                return screen
            time.sleep(0.1)
        raise TmuxError(f"timed out after {timeout}s; the screen was:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def console_env(tmp_path: Path) -> dict[str, str]:
    """A console's environment of its own: data and config under ``tmp_path``, no demo job,
    a 256-colour terminal, and this test run's PATH, HOME and PYTHONPATH."""
    return {
        "QD_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QD_DEMO_JOB": "false",
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
