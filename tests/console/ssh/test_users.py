"""The users file and `quarterdeck users`: every problem names the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from console.ssh.users import UsersFile, UsersFileError, load_users, read_key_file
from core.access import Role
from tests.console.ssh.keys import make_key


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def users_file(isolated_environment: Path) -> Path:
    return isolated_environment / "users.toml"


def test_add_list_remove_round_trip(
    keys: Path, isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob = make_key(keys, "alice"), make_key(keys, "bob")
    assert main(["users", "add", "alice", "--role", "operator", "--key", f"{alice}.pub"]) == 0
    assert main(["users", "add", "bob", "--role", "viewer", "--key", f"{bob}.pub"]) == 0
    assert "added bob (viewer)" in capsys.readouterr().out
    users = load_users(users_file(isolated_environment))
    assert {(u.name, u.role) for u in users.users.values()} == {
        ("alice", Role.OPERATOR), ("bob", Role.VIEWER),
    }  # fmt: skip
    assert users.get("alice").holds(read_key_file(Path(f"{alice}.pub")))  # type: ignore[union-attr]
    assert not users.get("alice").holds(read_key_file(Path(f"{bob}.pub")))  # type: ignore[union-attr]

    # adding again gives the user a second key and a new role
    second = make_key(keys, "alice2")
    assert main(["users", "add", "alice", "--role", "admin", "--key", f"{second}.pub"]) == 0
    alice_now = load_users(users_file(isolated_environment)).get("alice")
    assert alice_now is not None and alice_now.role is Role.ADMIN and len(alice_now.keys) == 2

    capsys.readouterr()
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and "admin" in listing and "SHA256:" in listing

    assert main(["users", "remove", "bob"]) == 0
    assert load_users(users_file(isolated_environment)).get("bob") is None


def test_usage_errors_exit_2_naming_the_problem(
    keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = make_key(keys, "alice")
    assert main(["users", "add", "alice", "--role", "operator", "--key", str(alice)]) == 2
    assert "private key: give the .pub file" in capsys.readouterr().err
    junk = tmp_path / "junk.pub"
    junk.write_text("ssh-ed25519 not-base64 x\n")
    assert main(["users", "add", "alice", "--role", "operator", "--key", str(junk)]) == 2
    assert f"{junk}: line 1: not an OpenSSH public key" in capsys.readouterr().err
    missing = tmp_path / "missing.pub"
    assert main(["users", "add", "alice", "--role", "operator", "--key", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err
    assert main(["users", "add", "Bad Name", "--role", "operator", "--key", f"{alice}.pub"]) == 2
    assert "user name 'Bad Name'" in capsys.readouterr().err
    assert main(["users", "remove", "nobody"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["users", "add", "alice", "--role", "boss", "--key", f"{alice}.pub"])
    assert exited.value.code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[users.alice]\nrole = "boss"\nkeys = []\n',
         "line 2: users.alice.role: 'boss' is not one of viewer, operator"),
        ('[users.alice]\nrole = "viewer"\nkey = []\n',
         "line 3: users.alice.key: unknown field"),
        ('\n[users.alice]\nkeys = []\n', "line 2: users.alice: role is missing"),
        ('[users.alice]\nrole = "viewer"\nkeys = ["ssh-ed25519 AAAAnope"]\n',
         "line 3: users.alice.keys: entry 1: not an OpenSSH public key"),
        ('cert-authority = "x"\n', "line 1: cert-authority: must be a list"),
        ('admins = []\n', "line 1: admins: unknown key"),
        ('[users.alice\n', "not valid TOML"),
        ('[users."Alice Smith"]\nrole = "viewer"\n', "line 1: users.Alice Smith: a user name"),
    ],
    ids=["role", "field", "missing-role", "key", "ca", "top-level", "syntax", "name"],
)  # fmt: skip
def test_broken_users_file_names_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "users.toml"
    path.write_text(text)
    with pytest.raises(UsersFileError) as raised:
        load_users(path)
    assert str(raised.value).startswith(str(path))
    assert expected in str(raised.value)


def test_cert_authority_is_read(keys: Path, tmp_path: Path) -> None:
    ca = Path(f"{make_key(keys, 'ca')}.pub")
    path = tmp_path / "users.toml"
    path.write_text(f'cert-authority = ["{ca.read_text().strip()}"]\n'
                    '[users.alice]\nrole = "viewer"\n')  # fmt: skip
    users = load_users(path)
    assert users.trusts(read_key_file(ca))
    assert users.get("alice") is not None and users.get("alice").keys == ()  # type: ignore[union-attr]


def test_running_server_rereads_the_file_and_keeps_the_last_good_one(
    keys: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "users.toml"
    source = UsersFile(path)
    assert source.current().users == {}  # no file: nobody
    alice = make_key(keys, "alice")
    key = Path(f"{alice}.pub").read_text().strip()
    path.write_text(f'[users.alice]\nrole = "viewer"\nkeys = ["{key}"]\n')
    assert source.current().get("alice") is not None
    path.write_text('[users.alice]\nrole = "overlord"\n')
    assert source.current().get("alice") is not None  # the broken edit is not taken
    assert "overlord" in caplog.text and str(path) in caplog.text
