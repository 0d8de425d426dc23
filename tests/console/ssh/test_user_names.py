"""User names in the users file: a dotted name round-trips, a file written by older
versions (unquoted dotted names) still loads and is repaired by the next write, and a
refused login with an empty name is audited like any other."""

from __future__ import annotations

import tomllib
from pathlib import Path

import asyncssh
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from console.cli import main
from console.ssh.server import NO_NAME
from console.ssh.users import NAME, UsersFileError, add_user, load_users, read_key_file
from core.access import Role
from core.audit import read_entries
from core.config import Settings
from tests.console.ssh.keys import make_key
from tests.console.ssh.served import connect, open_console, serving, until


def users_file(isolated_environment: Path) -> Path:
    return isolated_environment / "users.toml"


def test_a_dotted_name_is_written_quoted_and_every_command_still_works(
    tmp_path: Path, isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    john, bob = make_key(tmp_path / "keys", "john"), make_key(tmp_path / "keys", "bob")
    assert main(["users", "add", "john.smith", "--role", "operator", "--key", f"{john}.pub"]) == 0
    path = users_file(isolated_environment)
    assert '[users."john.smith"]' in path.read_text()
    assert set(tomllib.loads(path.read_text())["users"]) == {"john.smith"}
    assert main(["users", "add", "bob", "--role", "viewer", "--key", f"{bob}.pub"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert "john.smith" in capsys.readouterr().out
    assert main(["users", "remove", "john.smith"]) == 0
    assert set(load_users(path).users) == {"bob"}


def legacy_file(path: Path, key_dir: Path) -> str:
    """The file `users add john.smith` wrote before names were quoted."""
    key = Path(f"{make_key(key_dir, 'john')}.pub").read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[users.john.smith]\nrole = "operator"\nkeys = ["{key}"]\n'
                    '[users.ann]\nrole = "viewer"\n')  # fmt: skip
    return key


def test_a_file_with_an_unquoted_dotted_name_loads_and_the_cli_repairs_it(
    tmp_path: Path, isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = users_file(isolated_environment)
    legacy_file(path, tmp_path / "keys")
    users = load_users(path)
    assert {(u.name, u.role) for u in users.users.values()} == {
        ("john.smith", Role.OPERATOR), ("ann", Role.VIEWER),
    }  # fmt: skip
    assert main(["users", "list"]) == 0
    assert "john.smith" in capsys.readouterr().out
    assert main(["users", "remove", "ann"]) == 0  # any write repairs the file
    assert '[users."john.smith"]' in path.read_text()
    assert main(["users", "remove", "john.smith"]) == 0
    assert load_users(path).users == {}


def test_a_name_written_both_ways_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text('[users."a.b"]\nrole = "viewer"\n\n[users.a.b.c]\nrole = "viewer"\n'
                    '[users.x.y]\nrole = "admin"\n[users."x.y"]\nrole = "viewer"\n')  # fmt: skip
    with pytest.raises(UsersFileError, match=r"line 8: users\.x\.y: user 'x\.y' is written twice"):
        load_users(path)
    path.write_text('[users."Ann.Lee"]\nrole = "viewer"\n')
    with pytest.raises(UsersFileError, match=r"line 1: users\.Ann\.Lee: a user name is 1-32 of "
                                             r"a-z, 0-9, '_', '\.', '-'"):  # fmt: skip
        load_users(path)


def test_a_bad_name_says_which_characters_are_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = make_key(tmp_path / "keys", "k")
    assert main(["users", "add", "john smith", "--role", "viewer", "--key", f"{key}.pub"]) == 2
    assert "use 1-32 of a-z, 0-9, '_', '.', '-', starting with a letter or '_'" in (
        capsys.readouterr().err
    )


@pytest.fixture(scope="module")
def one_key(tmp_path_factory: pytest.TempPathFactory) -> asyncssh.SSHKey:
    return read_key_file(Path(f"{make_key(tmp_path_factory.mktemp('keys'), 'k')}.pub"))


@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(names=st.lists(st.from_regex(NAME, fullmatch=True), min_size=1, max_size=5, unique=True))
def test_any_valid_names_round_trip_through_the_file(
    names: list[str], one_key: asyncssh.SSHKey, tmp_path: Path
) -> None:
    path = tmp_path / "round-trip.toml"
    path.unlink(missing_ok=True)
    for name in names:
        add_user(path, name, Role.VIEWER, one_key)
    assert set(load_users(path).users) == set(names)


async def test_a_dotted_name_logs_in_over_ssh(settings: Settings, tmp_path: Path) -> None:
    async with serving(settings, tmp_path / "keys", {"john.smith": Role.OPERATOR}) as served:
        conn = await connect(served, "john.smith")
        _, screen = await open_console(conn)
        await screen.wait_for(b"Dashboard")
        assert [s.user for s in served.deck.sessions.sessions] == ["john.smith"]
        conn.close()


async def test_a_refused_login_with_an_empty_name_is_audited(
    settings: Settings, tmp_path: Path
) -> None:
    async with serving(settings, tmp_path / "keys", {"alice": Role.OPERATOR}) as served:
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(served, "", served.keys["alice"])
        await until(lambda: read_entries(served.deck.store, "ssh.auth_failed"))
        (entry,) = read_entries(served.deck.store, "ssh.auth_failed")
        assert entry.actor == NO_NAME and entry.subject == "127.0.0.1"
