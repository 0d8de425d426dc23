"""The host key: created once, private, its fingerprint the one ssh-keygen reports."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from console.ssh.host_key import HostKeyError, fingerprint, load_or_create_host_key


def test_first_start_creates_a_0600_key_and_later_starts_load_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ssh_host_ed25519_key"
    key, created = load_or_create_host_key(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_host_key(path)
    assert not created_again
    assert again.public_data == key.public_data
    listed = subprocess.run(["ssh-keygen", "-lf", str(path)], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert fingerprint(key) in listed.stdout


def test_a_key_others_can_read_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "host_key"
    load_or_create_host_key(path)
    path.chmod(0o644)
    with pytest.raises(HostKeyError, match=r"mode 0644.*chmod 600") as raised:
        load_or_create_host_key(path)
    assert str(path) in str(raised.value)


def test_a_broken_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "host_key"
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(HostKeyError, match="not a usable private key") as raised:
        load_or_create_host_key(path)
    assert str(path) in str(raised.value)
