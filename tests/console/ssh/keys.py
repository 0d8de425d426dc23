"""Real OpenSSH key pairs for tests, made with ssh-keygen."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_key(directory: Path, name: str) -> Path:
    """A new ed25519 key pair ``directory/name`` (+ ``.pub``); returns the private key path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return path
