"""`quarterdeck runbook`: run the rollback or deployment runbook from a terminal.

Every step is shown with the clock against the runbook's RTO and audited
with its output. Manual steps ask on the terminal (``--yes`` confirms them
all, and the audit says so); ``--dry-run`` shows what would happen.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.commands.actor import cli_actor
from console.commands.errors import UsageError

if TYPE_CHECKING:
    from checks.runbooks import Runbook, Step

EXIT_FAILED = 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("runbook", help="list or run the rollback/deployment runbooks")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the runbooks and their steps")
    listing.set_defaults(handler=list_command)
    run = actions.add_parser("run", help="run a runbook step by step")
    run.add_argument("runbook", metavar="RUNBOOK", help="a built-in id or a TOML file")
    run.add_argument("--target", default="", metavar="URL", help="for the probe steps")
    run.add_argument("--dry-run", action="store_true")
    run.add_argument("--continue-on-failure", action="store_true")
    run.add_argument("--yes", action="store_true", help="confirm every manual step")
    run.add_argument("--as", dest="who", default=None, metavar="NAME")
    run.set_defaults(handler=run_command)


def _runbook(spec: str) -> Runbook:
    from checks.runbooks import RunbookError, builtin_runbook, load_runbook

    try:
        if spec.endswith(".toml") or "/" in spec:
            return load_runbook(spec)
        return builtin_runbook(spec)
    except (RunbookError, KeyError, OSError) as exc:
        raise UsageError(exc.args[0] if isinstance(exc, KeyError) else str(exc)) from None


def list_command(args: argparse.Namespace) -> int:
    from checks.runbooks import RunbookError, builtin_runbooks

    try:
        runbooks = builtin_runbooks()
    except RunbookError as exc:
        raise UsageError(str(exc)) from None
    for book in runbooks.values():
        print(f"{book.id}: {book.title} (RTO {book.rto_minutes} min, {len(book.steps)} steps)")
        for number, step in enumerate(book.steps, start=1):
            print(f"  {number:>2}. [{step.kind.value:<6}] {step.title}")
    return 0


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def run_command(args: argparse.Namespace) -> int:
    from checks.probes import ProbeContext, target_from_settings
    from checks.runbooks.execute import audit_to, execute_runbook
    from core.access import PermissionDenied
    from core.store import Store
    from core.trading.engine import LiveEngine

    book = _runbook(args.runbook)
    settings = args.settings
    actor = cli_actor(args.who, settings)
    store = Store(settings.resolved_database_url)
    store.create_schema()
    rto = book.rto_minutes * 60

    async def confirm(step: Step) -> bool:
        print(f"\n  {step.title}\n  {step.instructions}")
        if args.yes:
            print("  confirmed (--yes)")
            return True
        answer = await asyncio.to_thread(input, "  Done? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    def show(step: Step, result: Any, elapsed: float) -> None:
        late = " OVER RTO" if elapsed > rto else ""
        print(f"[{_clock(elapsed)} / {_clock(rto)}{late}] {result.outcome.value:<8} "
              f"{step.id}: {result.detail}")  # fmt: skip
        if result.output.strip():
            print("    " + result.output.rstrip().replace("\n", "\n    "))

    target = target_from_settings(settings, args.target)
    if target.project_dir is None:
        target = dataclasses.replace(target, project_dir=Path.cwd())
    context = ProbeContext(settings, store.engine, LiveEngine.mode, target)
    print(f"{book.title}: {len(book.steps)} steps, RTO {book.rto_minutes} min"
          f"{' (dry run)' if args.dry_run else ''}")  # fmt: skip
    try:
        run = asyncio.run(execute_runbook(
            book, actor=actor, confirm=confirm, audit=audit_to(store, actor),
            probe_context=context, dry_run=args.dry_run,
            stop_on_failure=not args.continue_on_failure, on_step=show,
        ))  # fmt: skip
    except (EOFError, KeyboardInterrupt):
        print("\nstopped by the operator", file=sys.stderr)
        return EXIT_FAILED
    except PermissionDenied as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.dispose()
    verdict = "succeeded" if run.succeeded else "FAILED"
    rto_note = "within" if run.within_rto else "OVER"
    print(f"\n{book.id} {verdict} in {_clock(run.elapsed)}, {rto_note} the "
          f"{book.rto_minutes}-minute RTO")  # fmt: skip
    return 0 if run.succeeded else EXIT_FAILED
