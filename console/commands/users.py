"""`quarterdeck users`: who may log in over SSH, and with which role and key.

Edits the users file (``ssh_users_file``, default ``<data_dir>/users.toml``); a
running server reads it again at the next login.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands.errors import UsageError
from core.access import Role

if TYPE_CHECKING:
    from core.config import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("users", help="add, list and remove SSH users")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a user (or give one a key and role)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--key", required=True, type=Path, metavar="FILE",
                     help="their OpenSSH public key (the .pub file)")  # fmt: skip
    add.set_defaults(handler=add_command)

    listing = actions.add_parser("list", help="users, roles and key fingerprints")
    listing.set_defaults(handler=list_command)

    remove = actions.add_parser("remove", help="remove a user and all their keys")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=remove_command)


def add_command(args: argparse.Namespace) -> int:
    from console.ssh.users import UsersFileError, add_user, read_key_file

    settings: Settings = args.settings
    try:
        key = read_key_file(args.key)
        user, new = add_user(settings.users_file, args.name, Role(args.role), key)
    except UsersFileError as exc:
        raise UsageError(str(exc)) from None
    verb = "added" if new else "updated"
    print(f"{verb} {user.name} ({user.role.value}) with key {key.get_fingerprint()}; "
          f"{len(user.keys)} key(s) in {settings.users_file}")  # fmt: skip
    return 0


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
        print(f"{user.name:<20} {user.role.value:<16} {prints}")
    for authority in users.authorities:
        print(f"{'cert-authority':<20} {'':<16} {authority.get_fingerprint()}")
    return 0


def remove_command(args: argparse.Namespace) -> int:
    from console.ssh.users import UsersFileError, remove_user

    settings: Settings = args.settings
    try:
        remove_user(settings.users_file, args.name)
    except UsersFileError as exc:
        raise UsageError(str(exc)) from None
    print(f"removed {args.name} from {settings.users_file} (open sessions stay until they end)")
    return 0
