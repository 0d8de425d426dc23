"""`quarterdeck users`: who may log in over SSH and call the API, with which role and keys.

Edits the users file (``ssh_users_file``, default ``<data_dir>/users.toml``); a
running server reads it again at the next login or API call. ``add --api-key`` gives
a user (new or existing) a new API key and prints it once, alone on the last line;
only its hash is kept. ``revoke-key`` removes one key (or all of a user's) and
revokes the refresh tokens issued with it; their access tokens stop at once, since
every call checks that its key still exists.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands.errors import UsageError
from core.access import Role

if TYPE_CHECKING:
    from core.config import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("users", help="add, list and remove SSH and API users")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a user (or give one a key and role)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--key", type=Path, metavar="FILE",
                     help="their OpenSSH public key (the .pub file)")  # fmt: skip
    add.add_argument("--api-key", action="store_true",
                     help="make them a new API key, printed once on the last line")  # fmt: skip
    add.set_defaults(handler=add_command)

    listing = actions.add_parser("list", help="users, roles, key fingerprints and API key ids")
    listing.set_defaults(handler=list_command)

    remove = actions.add_parser("remove", help="remove a user and all their keys")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=remove_command)

    revoke = actions.add_parser("revoke-key", help="remove an API key and revoke its tokens")
    revoke.add_argument("name", metavar="NAME")
    revoke.add_argument("key_id", nargs="?", metavar="KEY_ID",
                        help="the key's id (in users list); default: all of NAME's")  # fmt: skip
    revoke.set_defaults(handler=revoke_command)


def add_command(args: argparse.Namespace) -> int:
    from console.ssh.users import UsersFileError, add_api_key, add_user, read_key_file

    settings: Settings = args.settings
    if args.key is None and not args.api_key:
        raise UsageError("users add: give --key FILE (SSH), --api-key (the API), or both")
    role = Role(args.role)
    where = settings.users_file
    try:
        if args.key is not None:
            key = read_key_file(args.key)
            user, new = add_user(where, args.name, role, key)
            print(f"{_verb(new)} {user.name} ({role.value}) with key {key.get_fingerprint()}; "
                  f"{len(user.keys)} key(s) in {where}")  # fmt: skip
        if args.api_key:
            user, api_key, text, new = add_api_key(where, args.name, role)
            print(f"{_verb(new)} {user.name} ({role.value}) with API key {api_key.id}; "
                  f"{len(user.api_keys)} API key(s) in {where}")  # fmt: skip
            print("the API key follows; it is shown only this once (only its hash is kept):")
            print(text)
    except UsersFileError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _verb(new: bool) -> str:
    return "added" if new else "updated"


def list_command(args: argparse.Namespace) -> int:
    from console.ssh.users import UsersFileError, load_users

    settings: Settings = args.settings
    try:
        users = load_users(settings.users_file)
    except UsersFileError as exc:
        raise UsageError(str(exc)) from None
    if not users.users:
        print(f"no users in {settings.users_file}")
    for user in sorted(users.users.values(), key=lambda u: u.name):
        prints = ", ".join(key.get_fingerprint() for key in user.keys) or "(no keys)"
        api_keys = ", ".join(key.id for key in user.api_keys)
        print(f"{user.name:<20} {user.role.value:<16} {prints}"
              + (f"; API keys {api_keys}" if api_keys else ""))  # fmt: skip
    for authority in users.authorities:
        print(f"{'cert-authority':<20} {'':<16} {authority.get_fingerprint()}")
    return 0


def remove_command(args: argparse.Namespace) -> int:
    from console.ssh.users import UsersFileError, remove_user

    settings: Settings = args.settings
    try:
        user = remove_user(settings.users_file, args.name)
    except UsersFileError as exc:
        raise UsageError(str(exc)) from None
    print(f"removed {args.name} from {settings.users_file} (open sessions stay until they end; "
          "API calls stop at once)")  # fmt: skip
    return _revoke_tokens(settings, user.name) if user.api_keys else 0


def revoke_command(args: argparse.Namespace) -> int:
    from console.ssh.users import UsersFileError, revoke_api_keys

    settings: Settings = args.settings
    try:
        removed = revoke_api_keys(settings.users_file, args.name, args.key_id)
    except UsersFileError as exc:
        raise UsageError(str(exc)) from None
    ids = ", ".join(key.id for key in removed)
    print(f"removed {args.name}'s API key(s) {ids} from {settings.users_file}")
    return _revoke_tokens(settings, args.name, args.key_id)


def _revoke_tokens(settings: Settings, user: str, key_id: str | None = None) -> int:
    """Revoke the refresh tokens issued to ``user`` (with ``key_id``). Their access tokens
    stop anyway: every call checks that the user and key still exist."""
    from core.store import Store, StoreUnavailable, api_tokens

    try:
        store = Store(settings.resolved_database_url)
        try:
            store.create_schema()
            families = api_tokens.revoke_issued(
                store, user, key_id=key_id, now=time.time(),
                access_seconds=settings.api_token_seconds,
            )  # fmt: skip
        finally:
            store.dispose()
    except StoreUnavailable as exc:
        print(f"quarterdeck users: the key is gone, so its tokens no longer work, but their "
              f"revocation was not recorded: {exc}", file=sys.stderr)  # fmt: skip
        return 1
    print(f"revoked {families} token family(ies) issued with it")
    return 0
