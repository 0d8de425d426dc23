"""The token signing key file, and API keys in the users file and `quarterdeck users`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from console.api.jwt_key import JwtKeyError, load_or_create_jwt_key
from console.cli import main
from console.commands.errors import UsageError
from console.commands.serve import listen_http
from console.ssh.api_keys import split_api_key
from console.ssh.users import UsersFileError, load_users
from core.access import Role
from core.config import Settings
from core.deck import Deck


def test_the_signing_key_is_made_private_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "api_jwt.key"
    secret, created = load_or_create_jwt_key(path)
    assert created and len(secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_jwt_key(path) == (secret, False)


def test_a_signing_key_others_can_read_or_too_short_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "api_jwt.key"
    load_or_create_jwt_key(path)
    path.chmod(0o640)
    with pytest.raises(JwtKeyError, match=r"api_jwt_key_file: .* open to other users .*chmod 600"):
        load_or_create_jwt_key(path)
    path.write_text("c2hvcnQ=\n")
    path.chmod(0o600)
    with pytest.raises(JwtKeyError, match="at least 32"):
        load_or_create_jwt_key(path)


async def test_serve_refuses_to_start_with_an_open_signing_key(settings: Settings) -> None:
    load_or_create_jwt_key(settings.jwt_key_file)
    settings.jwt_key_file.chmod(0o644)
    with pytest.raises(UsageError, match="api_jwt_key_file"):
        await listen_http(Deck(settings), None, None, 0)


def users_file(isolated_environment: Path) -> Path:
    return isolated_environment / "users.toml"


def test_add_api_key_prints_it_once_on_the_last_line_and_keeps_only_a_hash(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "add", "carol", "--role", "operator", "--api-key"]) == 0
    lines = capsys.readouterr().out.splitlines()
    key = lines[-1]
    parts = split_api_key(key)
    assert parts is not None and sum(key in line for line in lines) == 1
    key_id, secret = parts
    text = users_file(isolated_environment).read_text()
    assert key_id in text and secret not in text
    user = load_users(users_file(isolated_environment)).get("carol")
    assert user is not None and user.role is Role.OPERATOR
    stored = user.api_key(key_id)
    assert stored is not None and stored.accepts(secret) and not stored.accepts(secret[:-1] + "x")

    # an existing user gets a second key (and the role given)
    assert main(["users", "add", "carol", "--role", "admin", "--api-key"]) == 0
    second = split_api_key(capsys.readouterr().out.splitlines()[-1])
    assert second is not None and second[0] != key_id
    carol = load_users(users_file(isolated_environment)).get("carol")
    assert carol is not None and carol.role is Role.ADMIN and len(carol.api_keys) == 2

    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and second[0] in listing and secret not in listing

    assert main(["users", "revoke-key", "carol", key_id]) == 0
    assert capsys.readouterr().out.startswith(f"removed carol's API key(s) {key_id}")
    carol = load_users(users_file(isolated_environment)).get("carol")
    assert carol is not None and [k.id for k in carol.api_keys] == [second[0]]
    assert main(["users", "revoke-key", "carol"]) == 0  # all the rest
    carol = load_users(users_file(isolated_environment)).get("carol")
    assert carol is not None and carol.api_keys == ()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["users", "add", "dave", "--role", "viewer"], "give --key FILE (SSH), --api-key"),
        (["users", "revoke-key", "nobody"], "no user 'nobody'"),
        (["users", "revoke-key", "erin"], "erin has no API keys"),
        (["users", "add", "Bad Name", "--role", "viewer", "--api-key"], "user name 'Bad Name'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    users_file(isolated_environment).parent.mkdir(parents=True, exist_ok=True)
    users_file(isolated_environment).write_text('[users.erin]\nrole = "viewer"\nkeys = []\n')
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""


def test_an_unknown_key_id_names_the_ones_held(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "add", "frank", "--role", "viewer", "--api-key"]) == 0
    key_id = split_api_key(capsys.readouterr().out.splitlines()[-1])[0]  # type: ignore[index]
    assert main(["users", "revoke-key", "frank", "0123456789ab"]) == 2
    assert f"no API key '0123456789ab' (theirs: {key_id})" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            '"abc"',
            "line 4: users.erin.api_keys: entry 1: must be a table of id, sha256 and created",
        ),
        ('{ id = "XYZ", sha256 = "' + "0" * 64 + '", created = "t" }', "is not 12 hex digits"),
        ('{ id = "0123456789ab", sha256 = "short", created = "t" }', "sha256 is not 64 hex"),
    ],
)
def test_a_broken_api_key_entry_names_file_line_and_field(
    tmp_path: Path, entry: str, expected: str
) -> None:
    path = tmp_path / "users.toml"
    path.write_text(f'[users.erin]\nrole = "viewer"\nkeys = []\napi_keys = [{entry}]\n')
    with pytest.raises(UsersFileError, match=expected):
        load_users(path)
