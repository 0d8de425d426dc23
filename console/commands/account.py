"""`quarterdeck account`: the paper account as the store holds it, its history, its reset.

The account continues across every restart; only ``account reset`` starts over,
and it archives the old account rather than deleting it. Reading works while
``serve`` or the console runs (it reads what the engine has committed).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console import formatting as fmt
from console.commands.actor import cli_actor
from console.commands.errors import UsageError
from core import jsontext

if TYPE_CHECKING:
    from core.config import Settings
    from core.store import Store
    from core.store.tables import AccountRow

EXIT_NO_ACCOUNT = 1
NEWEST_FILLS = 10  # fills the text view lists (--json has them all)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "account", help="the paper account: cash, positions, fills; list or reset accounts"
    )
    parser.add_argument("--json", action="store_true", help="print the account as JSON")
    parser.add_argument(
        "--id", dest="account_id", default=None, metavar="ACCOUNT_ID",
        help="an account by id, archived ones too (default: the active one)",
    )  # fmt: skip
    parser.set_defaults(handler=show_command)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="every account, archived ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
    reset = actions.add_parser(
        "reset", help="archive the account and open a new one (admin; audited)"
    )
    reset.add_argument("--why", required=True, metavar="TEXT", help="the reason, audited")
    reset.add_argument("--as", dest="who", default=None, metavar="NAME",
                       help="who resets (default: the logged-in user)")  # fmt: skip
    reset.set_defaults(handler=reset_command)


def _store(args: argparse.Namespace) -> Store:
    from core.store import Store

    store = Store(args.settings.resolved_database_url)
    store.create_schema()
    return store


def show_command(args: argparse.Namespace) -> int:
    from core.store import accounts
    from core.trading.account import account_document, read_account
    from core.wiring import live_strategy_ids

    store = _store(args)
    try:
        if args.account_id is not None:
            row = accounts.get_account(store, args.account_id)
            missing = f"no account {args.account_id!r} (quarterdeck account list shows them)"
        else:
            row = accounts.find_active(store, args.settings.account)
            missing = (f"no account {args.settings.account!r} yet: it opens when serve or "
                       "the console first starts")  # fmt: skip
        if row is None:
            print(f"quarterdeck account: {missing}", file=sys.stderr)
            return EXIT_NO_ACCOUNT
        live = live_strategy_ids(args.settings) if row.archived_at is None else set()
        document = account_document(*read_account(store, row), live)
    finally:
        store.dispose()
    if args.json:
        print(jsontext.dumps(document, indent=2))
    else:
        print(_text(row, document, tick_sizes(args.settings, document)))
    return 0


def tick_sizes(settings: Settings, document: dict[str, Any]) -> dict[str, float]:
    """The tick of every symbol the account holds or traded, as the Deck would trade it
    with these settings (0 where not known)."""
    from core.wiring import instruments

    symbols = sorted({p["symbol"] for p in document["positions"]}
                     | {f["symbol"] for f in document["fills"]})  # fmt: skip
    return {s: i.tick_size for s, i in instruments(settings, symbols).items()}


def list_command(args: argparse.Namespace) -> int:
    from core.store import accounts

    store = _store(args)
    try:
        rows = accounts.accounts(store)
    finally:
        store.dispose()
    listed = [_row_fields(row) for row in rows]
    if args.json:
        print(jsontext.dumps(listed, indent=2))
        return 0
    if not rows:
        print("no accounts yet: one opens when serve or the console first starts")
    for row in rows:
        state = (f"archived {_when(row.archived_at)} by {row.archived_by}: {row.archive_reason}"
                 if row.archived_at is not None else "active")  # fmt: skip
        print(f"{row.id:<24} opened {_when(row.created_at)}  cash {row.starting_cash:,.2f}  "
              f"{state}")  # fmt: skip
    return 0


def reset_command(args: argparse.Namespace) -> int:
    from core.access import Capability, PermissionDenied
    from core.guard import permit, record
    from core.store import accounts

    why = args.why.strip()
    if not why:
        raise UsageError("--why: say why the account starts over (it is audited)")
    settings = args.settings
    actor = cli_actor(args.who, settings)
    store = _store(args)
    try:
        try:
            permit(store, actor, Capability.RESET_ACCOUNT, "account.reset", settings.account)
        except PermissionDenied as exc:  # audited as denied.account.reset
            raise UsageError(str(exc)) from None
        try:
            old, new = accounts.reset_account(store, settings.account, actor.name, why,
                                              settings.starting_cash)  # fmt: skip
        except accounts.AccountInUse as exc:
            raise UsageError(str(exc)) from None
        record(store, actor, "account.reset", settings.account,
               {"why": why, "archived": old.id if old else None, "opened": new.id,
                "starting_cash": new.starting_cash})  # fmt: skip
    finally:
        store.dispose()
    if old is not None:
        print(f"account {old.id} archived (still readable: quarterdeck account --id {old.id})")
    print(f"account {new.id} opened with {new.starting_cash:,.2f}; it trades from the next "
          "start of serve or the console")  # fmt: skip
    return 0


def _text(row: AccountRow, document: dict[str, Any], ticks: dict[str, float]) -> str:
    """The account for reading; prices are shown on their symbol's tick (``ticks``)."""
    status = "active" if row.archived_at is None else f"archived {_when(row.archived_at)}"
    lines = [
        f"account {row.id} ({status}), opened {_when(row.created_at)}",
        f"  starting cash  {document['starting_cash']:>16,.2f}",
        f"  cash           {document['cash']:>16,.2f}",
        f"  equity         {document['equity']:>16,.2f}",
        f"  realized PnL   {document['realized_pnl']:>+16,.2f}",
        f"  unrealized PnL {document['unrealized_pnl']:>+16,.2f}",
        f"  fees           {document['fees']:>16,.2f}",
        f"  total PnL      {document['total_pnl']:>+16,.2f}",
        f"  risk           {document['risk_state'].upper():>16}",
    ]
    if document["stopped_strategies"]:
        lines.append(f"  stopped        {', '.join(document['stopped_strategies'])}")
    lines.append(f"strategies: {len(document['strategies'])}")
    for st in document["strategies"]:
        why = f" ({st['stopped_by']}: {st['stopped_why']})" if st["stopped_by"] else ""
        version = f"  version {st['strategy_version']}" if st["strategy_version"] else ""
        lines.append(f"  {st['id']:<20} {st['state']}{why}  total {st['total_pnl']:+,.2f}  "
                     f"fees {st['fees']:,.2f}  trades {st['trades']}  "
                     f"turnover {st['turnover']:,.0f}{version}")  # fmt: skip
    positions = document["positions"]
    lines.append(f"positions: {len(positions)}")
    for p in positions:
        lines.append(f"  {p['symbol']:<10} {p['strategy']:<20} {p['quantity']:>14,.6g} "
                     f"@ {fmt.price(p['average_price'], ticks[p['symbol']])}")  # fmt: skip
    fills = document["fills"]
    shown = fills[-NEWEST_FILLS:]
    more = f" (the newest {len(shown)}; --json has all)" if len(fills) > len(shown) else ""
    lines.append(f"fills: {len(fills)}{more}")
    for f in shown:
        lines.append(f"  {f['id']:>7} {_when(f['ts'])} {f['side']:<4} {f['quantity']:>12,.6g} "
                     f"{f['symbol']:<10} @ {fmt.price(f['price'], ticks[f['symbol']])}  "
                     f"fee {f['commission']:,.2f}  "
                     f"{f['strategy']}")  # fmt: skip
    return "\n".join(lines)


def _row_fields(row: AccountRow) -> dict[str, Any]:
    return {"account_id": row.id, "name": row.name, "starting_cash": row.starting_cash,
            "created_at": row.created_at, "archived_at": row.archived_at,
            "archived_by": row.archived_by, "archive_reason": row.archive_reason,
            "holder": row.holder}  # fmt: skip


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
