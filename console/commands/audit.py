"""`quarterdeck audit`: verify the audit trail, or sign a checkpoint of it now."""

from __future__ import annotations

import argparse
import json

EXIT_TAMPERED = 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("audit", help="verify or checkpoint the audit trail")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="check every entry and signed checkpoint")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=verify_command)
    checkpoint = actions.add_parser("checkpoint", help="sign the trail's length and head now")
    checkpoint.set_defaults(handler=checkpoint_command)
    show = actions.add_parser("list", help="the newest entries")
    show.add_argument("--limit", type=int, default=20, metavar="N")
    show.add_argument("--action", default="", metavar="PREFIX", help="e.g. check. or export.")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=list_command)


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from core.store import Store

    store = Store(args.settings.resolved_database_url)
    store.create_schema()
    return store


def verify_command(args: argparse.Namespace) -> int:
    from core.audit import Tampered, verify_audit

    store = _store(args)
    try:
        verified = verify_audit(store, args.settings.audit_key_file)
    except Tampered as exc:
        if args.json:
            print(json.dumps({"ok": False, "problem": str(exc)}))
        else:
            print(f"audit trail does NOT verify: {exc}")
        return EXIT_TAMPERED
    finally:
        store.dispose()
    if args.json:
        print(json.dumps({"ok": True, "entries": verified.entries,
                          "checkpoints": verified.checkpoints,
                          "last_checkpoint_at": verified.last_checkpoint_at}))  # fmt: skip
    else:
        tail = (f", the newest covering {verified.last_checkpoint_at}"
                if verified.last_checkpoint_at is not None else "")  # fmt: skip
        print(f"audit trail verified: {verified.entries} entries, "
              f"{verified.checkpoints} signed checkpoint(s){tail}")  # fmt: skip
    return 0


def checkpoint_command(args: argparse.Namespace) -> int:
    from core.audit import sign_checkpoint

    store = _store(args)
    try:
        row = sign_checkpoint(store, args.settings.audit_key_file)
    finally:
        store.dispose()
    if row is None:
        print("nothing new to sign")
    else:
        print(f"signed checkpoint {row.id}: {row.entries} entries, head {row.head_hash[:16]}…")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from core.audit import read_entries

    store = _store(args)
    try:
        entries = read_entries(store, args.action)[-args.limit :]
    finally:
        store.dispose()
    if args.json:
        print(json.dumps([{"seq": e.seq, "ts": e.ts, "actor": e.actor, "action": e.action,
                           "subject": e.subject, "detail": e.detail} for e in entries],
                         indent=2))  # fmt: skip
        return 0
    for e in entries:
        when = datetime.fromtimestamp(e.ts, UTC).isoformat(timespec="seconds")
        print(f"{e.seq:>6}  {when}  {e.actor:<20} {e.action:<24} {e.subject}")
    return 0
