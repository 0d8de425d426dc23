"""`quarterdeck audit`: verify the audit trail, sign a checkpoint of it now, or list it.

``list`` prints every entry, oldest first; ``--limit N`` keeps the newest N and
``--offset K`` first leaves out the newest K (paging back in time). Whatever a
page leaves out is said, on stderr, so ``--json`` stays a clean list.
"""

from __future__ import annotations

import argparse

from console.commands.options import number
from core import bounds, jsontext

EXIT_TAMPERED = 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("audit", help="verify or checkpoint the audit trail")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="check every entry and signed checkpoint")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=verify_command)
    checkpoint = actions.add_parser("checkpoint", help="sign the trail's length and head now")
    checkpoint.set_defaults(handler=checkpoint_command)
    show = actions.add_parser(
        "list", help="every entry, oldest first (or a page of them with --limit/--offset)"
    )
    show.add_argument("--limit", type=number(bounds.COUNT), default=None, metavar="N",
                      help="only the newest N (after --offset); default: all")  # fmt: skip
    show.add_argument("--offset", type=number(bounds.COUNT), default=0, metavar="K",
                      help="leave out the newest K first (to page back)")  # fmt: skip
    show.add_argument("--action", default="", metavar="PREFIX", help="e.g. check. or export.")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=list_command)


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from core.store import Store

    store = Store(args.settings.resolved_database_url)
    store.create_schema()
    return store


def verify_command(args: argparse.Namespace) -> int:
    from core.audit import verification

    store = _store(args)
    try:
        found = verification(store, args.settings.audit_key_file)
    finally:
        store.dispose()
    if args.json:
        print(jsontext.dumps(found))
    elif not found["ok"]:
        print(f"audit trail does NOT verify: {found['problem']}")
    else:
        covered = found["last_checkpoint_at"]
        tail = f", the newest covering {covered}" if covered is not None else ""
        print(f"audit trail verified: {found['entries']} entries, "
              f"{found['checkpoints']} signed checkpoint(s){tail}")  # fmt: skip
    return 0 if found["ok"] else EXIT_TAMPERED


def checkpoint_command(args: argparse.Namespace) -> int:
    from core.audit import Tampered, sign_checkpoint

    store = _store(args)
    try:
        row = sign_checkpoint(store, args.settings.audit_key_file)
    except Tampered as exc:
        print(f"audit trail does NOT verify, nothing signed: {exc}")
        return EXIT_TAMPERED
    finally:
        store.dispose()
    if row is None:
        print("nothing new to sign")
    else:
        print(f"signed checkpoint {row.id}: {row.entries} entries, head {row.head_hash[:16]}…")
    return 0


def list_command(args: argparse.Namespace) -> int:
    import sys
    from datetime import UTC, datetime

    from core.audit import count_entries, read_entries

    store = _store(args)
    try:
        total = count_entries(store, args.action)
        entries = read_entries(store, args.action, args.limit, args.offset)
    finally:
        store.dispose()
    if args.json:
        print(jsontext.dumps([{"seq": e.seq, "ts": e.ts, "actor": e.actor, "action": e.action,
                               "subject": e.subject, "detail": e.detail} for e in entries],
                             indent=2))  # fmt: skip
    else:
        for e in entries:
            when = datetime.fromtimestamp(e.ts, UTC).isoformat(timespec="seconds")
            print(f"{e.seq:>6}  {when}  {e.actor:<20} {e.action:<24} {e.subject}")
    note = left_out_note(total, len(entries), args.offset)
    if note:
        print(note, file=sys.stderr)
    return 0


def left_out_note(total: int, shown: int, offset: int) -> str:
    """What a page of ``shown`` entries, after leaving out the newest ``offset``, leaves
    out of ``total`` ("" when nothing), e.g. ``20 of 50 entries shown; left out: 30
    older (--offset 20 to page back)``."""
    newer = min(offset, total)
    older = max(total - newer - shown, 0)
    parts = []
    if older:
        parts.append(f"{older} older (--offset {newer + shown} to page back)")
    if newer:
        parts.append(f"{newer} newer")
    if not parts:
        return ""
    return f"{shown} of {total} entries shown; left out: {', '.join(parts)}"
