"""`quarterdeck runbook`: run the rollback or deployment runbook from a terminal.

Every run starts with the pre-flight (the variables, programs, units and probe
settings the steps need); ``--dry-run`` is the pre-flight alone, whose verdict
is "ready" (exit 0) or "would fail at step N: ..." (exit 1). A real run whose
pre-flight finds a problem in a critical step asks before it starts (a
terminal), or does not start without ``--force`` (no terminal).

Every step is shown with the clock against the runbook's RTO and audited
with its output. Manual steps ask on the terminal (``--yes`` confirms them
all, and the audit says so). A failed step that is not critical is recorded
and the run goes on. A failed critical step asks, when stdin is a terminal,
whether to retry it, skip it (with a reason) or abandon the run (with a
reason), each audited. Without a terminal nobody can answer: the run stops
there and the remaining steps are skipped (exit 1), unless
``--continue-on-failure``, which records the failure and goes on.
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
    run.add_argument("--continue-on-failure", action="store_true",
                     help="after a failed critical step go on without asking (no terminal: "
                          "without it, the run stops there)")  # fmt: skip
    run.add_argument("--yes", action="store_true", help="confirm every manual step")
    run.add_argument(
        "--force",
        action="store_true",
        help="start even when the pre-flight finds a problem in a critical step",
    )
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


def _ask(prompt: str) -> str:
    return input(prompt).strip()


def run_command(args: argparse.Namespace) -> int:
    from checks.probes import ProbeContext, target_from_settings
    from checks.runbooks.execute import RunbookSession, audit_to
    from core.access import PermissionDenied
    from core.store import Store
    from core.trading.engine import LiveEngine

    book = _runbook(args.runbook)
    settings = args.settings
    actor = cli_actor(args.who, settings)
    store = Store(settings.resolved_database_url)
    store.create_schema()
    target = target_from_settings(settings, args.target)
    if target.project_dir is None:
        target = dataclasses.replace(target, project_dir=Path.cwd())
    context = ProbeContext(settings, store.engine, LiveEngine.mode, target)
    session = RunbookSession(
        book, actor=actor, audit=audit_to(store, actor), probe_context=context,
        dry_run=args.dry_run, stop_on_failure=not args.continue_on_failure,
    )  # fmt: skip
    try:
        return asyncio.run(_run(book, session, args))
    except (EOFError, KeyboardInterrupt):
        print("\nstopped by the operator", file=sys.stderr)
        return EXIT_FAILED
    except PermissionDenied as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.dispose()


async def _run(book: Runbook, session: Any, args: argparse.Namespace) -> int:
    from checks.runbooks.execute import Decision, clock, execute_runbook, verdict

    rto = book.rto_minutes * 60
    interactive = sys.stdin.isatty()

    async def confirm(step: Step) -> bool:
        print(f"\n  {step.title}\n  {step.instructions}")
        if args.yes:
            print("  confirmed (--yes)")
            return True
        answer = await asyncio.to_thread(_ask, "  Done? [y/N] ")
        return answer.lower() in ("y", "yes")

    async def decide(step: Step, failed: Any) -> tuple[Decision, str]:
        print(f"\n  Step {book.steps.index(step) + 1} ({step.id}) is critical and failed: "
              f"{failed.detail}")  # fmt: skip
        while True:
            answer = await asyncio.to_thread(_ask, "  [r]etry, [s]kip (asks why) or "
                                                   "[a]bandon the run (asks why)? ")  # fmt: skip
            choice = {"r": Decision.RETRY, "s": Decision.SKIP, "a": Decision.ABANDON}.get(
                answer[:1].lower()
            )
            if choice is Decision.RETRY:
                return choice, ""
            if choice is not None:
                reason = ""
                while not reason:
                    reason = await asyncio.to_thread(_ask, f"  Why {choice.value}? (required) ")
                return choice, reason

    def show(step: Step, result: Any, elapsed: float) -> None:
        if args.dry_run:
            print(f"{result.outcome.value:<10} {step.id}: {result.detail}")
        else:
            late = " OVER RTO" if elapsed > rto else ""
            print(f"[{clock(elapsed)} / {clock(rto)}{late}] {result.outcome.value:<8} "
                  f"{step.id}: {result.detail}")  # fmt: skip
        if result.output.strip():
            print("    " + result.output.rstrip().replace("\n", "\n    "))

    what = " (dry run: the pre-flight, nothing runs)" if args.dry_run else ""
    print(f"{book.title}: {len(book.steps)} steps, RTO {book.rto_minutes} min{what}")
    checked = await session.check()
    if not args.dry_run and not checked.ready:
        print(f"pre-flight: {checked.verdict()}")
        for line in checked.lines():
            print(f"  {line}")
        if checked.stopping_step is not None and not args.force:
            if not interactive:
                print(f"\n{book.id} not started: the pre-flight found a problem in a critical "
                      "step (fix it, or --force to start anyway)")  # fmt: skip
                return EXIT_FAILED
            answer = await asyncio.to_thread(_ask, "Start anyway? [y/N] ")
            if answer.lower() not in ("y", "yes"):
                print(f"\n{book.id} not started")
                return EXIT_FAILED
    run = await execute_runbook(
        book, actor=session.actor, confirm=confirm, audit=session._audit, session=session,
        decide=decide if interactive and not args.continue_on_failure else None, on_step=show,
    )  # fmt: skip
    print(f"\n{verdict(run, book.rto_minutes)}")
    if args.dry_run and not checked.ready:
        print("problems the pre-flight found:")
        for line in checked.lines():
            print(f"  {line}")
    return 0 if run.succeeded else EXIT_FAILED
