"""Who may log in, over SSH and the control API: a TOML file of users, their roles,
public keys and API keys.

```toml
cert-authority = ["ssh-ed25519 AAAA... ops-ca"]   # optional: trusted user CAs

[users.alice]
role = "operator"                                 # viewer, operator, release_manager, admin
keys = ["ssh-ed25519 AAAA... alice@laptop"]
api_keys = [{ id = "3f9a2c1d5e6f", sha256 = "...", created = "2027-01-20T09:00:00Z" }]
```

A user listed here logs in over SSH with one of their keys, or with a certificate
signed by a listed authority whose principals include their name, and calls the API
with one of their API keys (``console.ssh.api_keys``: only a hash is kept); every way,
their role comes from this file. ``quarterdeck users`` writes the file
(rewriting it whole: comments are not kept) through ``save_users``, its one
writer, which quotes every name (``[users."john.smith"]``) and refuses to
write text that would not read back as the same users. Every problem names
the file, the line and the field.

A name with a dot written unquoted (``[users.john.smith]``, as versions before
quoting wrote it) is, in TOML, a table ``john`` holding a table ``smith``;
it is read back as the user ``john.smith``, so such a file still loads and the
next ``quarterdeck users`` command rewrites it quoted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncssh

from checks.catalog.source_map import SourceMap, scan
from console.ssh.api_keys import HASH, KEY_ID, ApiKey, new_api_key
from core.access import Role

log = logging.getLogger(__name__)
NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
AUTHORITY_KEY = "cert-authority"
ROLES = ", ".join(role.value for role in Role)


class UsersFileError(ValueError):
    """The users file (or a key file) cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    keys: tuple[asyncssh.SSHKey, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()

    def holds(self, key: asyncssh.SSHKey) -> bool:
        return any(own.public_data == key.public_data for own in self.keys)

    def api_key(self, key_id: str) -> ApiKey | None:
        return next((key for key in self.api_keys if key.id == key_id), None)


@dataclass(frozen=True, slots=True)
class Users:
    users: Mapping[str, User] = field(default_factory=dict)
    authorities: tuple[asyncssh.SSHKey, ...] = ()

    def get(self, name: str) -> User | None:
        return self.users.get(name)

    def holder_of(self, key_id: str) -> tuple[User, ApiKey] | None:
        """The user holding the API key ``key_id``, and the key."""
        for user in self.users.values():
            key = user.api_key(key_id)
            if key is not None:
                return user, key
        return None

    def api_key_ids(self) -> set[str]:
        return {key.id for user in self.users.values() for key in user.api_keys}

    def trusts(self, authority: asyncssh.SSHKey) -> bool:
        return any(own.public_data == authority.public_data for own in self.authorities)


NAME_RULE = "1-32 of a-z, 0-9, '_', '.', '-', starting with a letter or '_'"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsersFileError(f"user name {name!r}: use {NAME_RULE}")
    return name


def parse_key(text: str, where: str) -> asyncssh.SSHKey:
    """One OpenSSH public key line (``type base64 [comment]``); ``where`` prefixes errors."""
    try:
        return asyncssh.import_public_key(text.strip())
    except (asyncssh.KeyImportError, ValueError) as exc:
        hint = " (this is a private key: give the .pub file)" if "PRIVATE KEY" in text else ""
        raise UsersFileError(f"{where}: not an OpenSSH public key: {exc}{hint}") from None


def read_key_file(path: Path) -> asyncssh.SSHKey:
    """The single public key in ``path`` (as ``ssh-keygen`` writes a ``.pub`` file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"{path}: cannot read the key file: {exc}") from None
    if "PRIVATE KEY" in text:
        raise UsersFileError(f"{path}: line 1: this is a private key: give the .pub file")
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    if len(lines) != 1:
        raise UsersFileError(f"{path}: expected one public key line, found {len(lines)}")
    number, line = lines[0]
    return parse_key(line, f"{path}: line {number}")


def load_users(path: Path) -> Users:
    """The users in ``path``; no file means no one may log in (not an error)."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Users()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise UsersFileError(f"{path}: not valid TOML: {exc}") from None
    return _parse(path, data, scan(source))


def _parse(path: Path, data: dict[str, Any], lines: SourceMap) -> Users:
    def fail(loc: tuple[str | int, ...], message: str) -> UsersFileError:
        line = lines.line_for(loc)
        where = f"{path}: line {line}" if line else str(path)
        dotted = ".".join(str(part) for part in loc)
        return UsersFileError(f"{where}: {dotted}: {message}")

    unknown = sorted(set(data) - {"users", AUTHORITY_KEY})
    if unknown:
        raise fail((unknown[0],), f"unknown key (expected 'users' tables or '{AUTHORITY_KEY}')")
    authorities = tuple(
        _key(entry, fail, (AUTHORITY_KEY, n))
        for n, entry in enumerate(_list(data.get(AUTHORITY_KEY, []), fail, (AUTHORITY_KEY,)))
    )
    tables = data.get("users", {})
    if not isinstance(tables, dict):
        raise fail(("users",), "must be tables: [users.NAME]")
    users: dict[str, User] = {}
    for written, table in _entries(tables):
        name = ".".join(written)
        loc: tuple[str | int, ...] = ("users", *written)
        if not NAME.match(name):
            raise fail(loc, f"a user name is {NAME_RULE}")
        if name in users:
            raise fail(loc, f"user {name!r} is written twice (quoted and unquoted)")
        if not isinstance(table, dict):
            raise fail(loc, "must be a table with role and keys")
        extra = sorted(set(table) - {"role", "keys", "api_keys"})
        if extra:
            raise fail((*loc, extra[0]), "unknown field (a user has role, keys and api_keys)")
        if "role" not in table:
            raise fail(loc, f"role is missing (one of {ROLES})")
        try:
            role = Role(table["role"])
        except ValueError:
            raise fail((*loc, "role"), f"{table['role']!r} is not one of {ROLES}") from None
        entries = _list(table.get("keys", []), fail, (*loc, "keys"))
        keys = tuple(_key(entry, fail, (*loc, "keys", n)) for n, entry in enumerate(entries))
        api_keys = _api_keys(table.get("api_keys", []), fail, (*loc, "api_keys"))
        users[name] = User(name, role, keys, api_keys)
    ids = [key.id for user in users.values() for key in user.api_keys]
    if len(ids) != len(set(ids)):
        twice = next(key_id for key_id in ids if ids.count(key_id) > 1)
        raise fail(("users",), f"API key id {twice!r} is written twice")
    return Users(users, authorities)


def _api_keys(value: Any, fail: Any, loc: tuple[str | int, ...]) -> tuple[ApiKey, ...]:
    if not isinstance(value, list):
        raise fail(loc, "must be a list of {id, sha256, created} tables")
    keys = []
    for n, entry in enumerate(value):
        where = f"entry {n + 1}"
        if not isinstance(entry, dict) or set(entry) != {"id", "sha256", "created"}:
            raise fail(loc, f"{where}: must be a table of id, sha256 and created")
        if not all(isinstance(text, str) for text in entry.values()):
            raise fail(loc, f"{where}: id, sha256 and created are strings")
        if not KEY_ID.match(entry["id"]):
            raise fail(loc, f"{where}: id {entry['id']!r} is not 12 hex digits")
        if not HASH.match(entry["sha256"]):
            raise fail(loc, f"{where}: sha256 is not 64 hex digits")
        keys.append(ApiKey(entry["id"], entry["sha256"], entry["created"]))
    return tuple(keys)


def _entries(tables: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """Each user's name as written (its key parts) and its table. A table that holds
    tables is a dotted name written unquoted: its tables are users ``parent.child``, and
    it is a user itself only if it has fields of its own."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(parts: tuple[str, ...], value: Any) -> None:
        if not isinstance(value, dict):
            found.append((parts, value))
            return
        nested = {key: inner for key, inner in value.items() if isinstance(inner, dict)}
        own = {key: inner for key, inner in value.items() if key not in nested}
        if own or not nested:
            found.append((parts, own))
        for key, inner in nested.items():
            walk((*parts, key), inner)

    for name, table in tables.items():
        walk((name,), table)
    return found


def _list(value: Any, fail: Any, loc: tuple[str | int, ...]) -> list[Any]:
    if not isinstance(value, list):
        raise fail(loc, "must be a list of public key strings")
    return value


def _key(entry: Any, fail: Any, loc: tuple[str | int, ...]) -> asyncssh.SSHKey:
    if not isinstance(entry, str):
        raise fail(loc, "must be a public key string")
    try:
        return parse_key(entry, "key")
    except UsersFileError as exc:
        raise fail(loc[:-1], f"entry {loc[-1] + 1}: {str(exc).removeprefix('key: ')}") from None


def key_line(key: asyncssh.SSHKey) -> str:
    return key.export_public_key("openssh").decode("ascii").strip()


def render(users: Users) -> str:
    """The file's text for ``users``: TOML, strings written as JSON strings (valid TOML)."""
    out = ["# Quarterdeck users (SSH and the API); `quarterdeck users` rewrites this file.", ""]
    if users.authorities:
        keys = ", ".join(json.dumps(key_line(k)) for k in users.authorities)
        out += [f"{AUTHORITY_KEY} = [{keys}]", ""]
    for user in sorted(users.users.values(), key=lambda u: u.name):
        out.append(f"[users.{json.dumps(user.name)}]")  # quoted: a dot stays in the name
        out.append(f"role = {json.dumps(user.role.value)}")
        out.append("keys = [" + "".join(f"\n    {json.dumps(key_line(k))}," for k in user.keys)
                   + ("\n]" if user.keys else "]"))  # fmt: skip
        if user.api_keys:
            tables = "".join(f"\n    {_api_key_table(key)}," for key in user.api_keys)
            out.append(f"api_keys = [{tables}\n]")
        out.append("")
    return "\n".join(out)


def _api_key_table(key: ApiKey) -> str:
    return (f"{{ id = {json.dumps(key.id)}, sha256 = {json.dumps(key.sha256)}, "
            f"created = {json.dumps(key.created)} }}")  # fmt: skip


def save_users(path: Path, users: Users) -> None:
    """The one writer of the users file. Writes atomically (a reader, the running server,
    sees the old file or the new one), and only text that reads back as ``users``."""
    text = render(users)
    if _summary(_parse(path, tomllib.loads(text), scan(text))) != _summary(users):
        raise UsersFileError(f"{path}: not written: the new text would not read back as "
                             "the same users")  # fmt: skip
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise UsersFileError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _summary(users: Users) -> tuple[object, ...]:
    """What the file must keep: each user's role and keys, and the authorities."""
    return (
        sorted((u.name, u.role.value, tuple(key_line(k) for k in u.keys), u.api_keys)
               for u in users.users.values()),
        tuple(key_line(k) for k in users.authorities),
    )  # fmt: skip


def add_user(path: Path, name: str, role: Role, key: asyncssh.SSHKey) -> tuple[User, bool]:
    """Add ``name`` with ``key``, or give an existing user the key (if new) and ``role``.
    Returns the user and whether they are new."""
    check_name(name)
    users = load_users(path)
    existing = users.get(name)
    user = existing or User(name, role)
    if not user.holds(key):
        user = replace(user, keys=(*user.keys, key))
    user = replace(user, role=role)
    save_users(path, Users({**users.users, name: user}, users.authorities))
    return user, existing is None


def add_api_key(path: Path, name: str, role: Role) -> tuple[User, ApiKey, str, bool]:
    """Give ``name`` (added if new) a new API key and ``role``. Returns the user, the key,
    the key's text (shown once: only its hash is written) and whether the user is new."""
    check_name(name)
    users = load_users(path)
    existing = users.get(name)
    key, text = new_api_key(taken=users.api_key_ids())
    user = existing or User(name, role)
    user = replace(user, role=role, api_keys=(*user.api_keys, key))
    save_users(path, Users({**users.users, name: user}, users.authorities))
    return user, key, text, existing is None


def revoke_api_keys(path: Path, name: str, key_id: str | None = None) -> tuple[ApiKey, ...]:
    """Remove ``name``'s API key ``key_id`` (None: all of them); returns those removed."""
    users = load_users(path)
    user = users.get(name)
    if user is None:
        raise UsersFileError(f"{path}: no user {name!r}")
    if not user.api_keys:
        raise UsersFileError(f"{path}: {name} has no API keys")
    if key_id is not None and user.api_key(key_id) is None:
        held = ", ".join(key.id for key in user.api_keys)
        raise UsersFileError(f"{path}: {name} has no API key {key_id!r} (theirs: {held})")
    removed = tuple(key for key in user.api_keys if key_id in (None, key.id))
    kept = tuple(key for key in user.api_keys if key not in removed)
    save_users(path, Users({**users.users, name: replace(user, api_keys=kept)},
                           users.authorities))  # fmt: skip
    return removed


def remove_user(path: Path, name: str) -> User:
    """Remove ``name`` with all their keys; returns what they held."""
    users = load_users(path)
    user = users.get(name)
    if user is None:
        raise UsersFileError(f"{path}: no user {name!r}")
    kept = {other: held for other, held in users.users.items() if other != name}
    save_users(path, Users(kept, users.authorities))
    return user


class UsersFile:
    """The users file as a running server sees it: read again whenever it changes, so
    ``quarterdeck users add`` takes effect at the next login. A broken edit is logged
    (file, line, field) and the last good version stays in force."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, int, int] | None = None
        self._users = Users()
        self._lock = threading.Lock()  # the API reads it from worker threads

    def current(self) -> Users:
        with self._lock:
            try:
                stat = self.path.stat()
                signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            except FileNotFoundError:
                signature = None
            if signature != self._signature:
                self._signature = signature
                try:
                    self._users = load_users(self.path)
                except UsersFileError as exc:
                    log.error("users file not reloaded, the previous users stay in force: %s",
                              exc)  # fmt: skip
            return self._users
