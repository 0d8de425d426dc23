"""`quarterdeck check`: readiness checklists from the command line and in CI.

``run`` runs a checklist's probes against a target, records the results
for the release (``--release``, ``--env``) and exits 0 when every blocking
item passes or holds a valid waiver, 1 when one does not, 2 on usage or
configuration errors. Manual items count with their attestations in the
store; ``--probes-only`` judges the automated items alone. ``attest``,
``waive``, ``signoff``, ``authorize`` and ``status`` are the release
manager's side of the same ledger; ``report`` writes the release report to
sign (``checks.release_report``), as Markdown and PDF.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.commands.actor import cli_actor
from console.commands.errors import UsageError
from console.commands.options import number
from core import bounds, jsontext

if TYPE_CHECKING:
    from checks import Checklist
    from checks.release import Release, ReleaseState
    from core.access import Principal
    from core.config import Settings
    from core.store import Store

EXIT_NOT_READY = 1


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("check", help="readiness checklists: run, attest, sign off")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the checklists and the probes")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)

    run = actions.add_parser("run", help="run a checklist's probes against a target")
    run.add_argument("checklist", metavar="CHECKLIST", help="a built-in id or a TOML file")
    run.add_argument("--target", required=True, metavar="URL")
    _release_arguments(run)
    run.add_argument("--json", action="store_true")
    run.add_argument("--junit", type=Path, default=None, metavar="FILE")
    run.add_argument("--markdown", type=Path, default=None, metavar="FILE")
    run.add_argument(
        "--probes-only",
        action="store_true",
        help="judge the automated items alone (manual ones are not counted)",
    )
    run.add_argument("--concurrency", type=number(bounds.CONCURRENCY), default=16, metavar="N")
    run.add_argument("--timeout", type=number(bounds.TIMEOUT_SECONDS), default=5.0,
                     metavar="SECONDS", help="per probe")  # fmt: skip
    run.set_defaults(handler=run_command)

    status = actions.add_parser("status", help="where a release stands")
    status.add_argument("checklist", metavar="CHECKLIST")
    _release_arguments(status)
    status.add_argument("--json", action="store_true")
    status.add_argument("--markdown", type=Path, default=None, metavar="FILE")
    status.set_defaults(handler=status_command)

    report = actions.add_parser(
        "report",
        help="the release report to sign (Markdown or PDF)",
        description="The release report: target, release and environment, every item with "
        "its verdict and evidence, waivers with their expiry, attestations, sign-offs by role, "
        "the authorization, the latest rollback dry run and rehearsal against the RTO, and "
        "the audit trail's verification now. Without --pdf or --markdown it prints the "
        "Markdown.",
    )
    report.add_argument("checklist", metavar="CHECKLIST")
    _release_arguments(report)
    report.add_argument("--pdf", type=Path, default=None, metavar="FILE")
    report.add_argument("--markdown", type=Path, default=None, metavar="FILE")
    report.set_defaults(handler=report_command)

    history = actions.add_parser("history", help="every verdict on one item, and who gave it")
    history.add_argument("checklist", metavar="CHECKLIST")
    history.add_argument("item", metavar="ITEM")
    _release_arguments(history)
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=history_command)

    attest = actions.add_parser("attest", help="a person's verdict on a manual item")
    attest.add_argument("checklist", metavar="CHECKLIST")
    attest.add_argument("item", metavar="ITEM")
    attest.add_argument("verdict", choices=["pass", "warn", "fail"])
    attest.add_argument("--note", required=True)
    attest.add_argument("--evidence", default="")
    _release_arguments(attest)
    attest.set_defaults(handler=attest_command)

    waive = actions.add_parser("waive", help="accept an item for a release until a date")
    waive.add_argument("checklist", metavar="CHECKLIST")
    waive.add_argument("item", metavar="ITEM")
    waive.add_argument("--justification", required=True)
    waive.add_argument("--role", required=True, help="the approver's role")
    waive.add_argument(
        "--days", type=number(bounds.DAYS), required=True, help="valid for this many days"
    )
    _release_arguments(waive)
    waive.set_defaults(handler=waive_command)

    signoff = actions.add_parser("signoff", help="sign a release for a role")
    signoff.add_argument("checklist", metavar="CHECKLIST")
    signoff.add_argument("--role", required=True)
    signoff.add_argument("--note", default="")
    _release_arguments(signoff)
    signoff.set_defaults(handler=signoff_command)

    authorize = actions.add_parser("authorize", help="authorize deployment of a release")
    authorize.add_argument("checklist", metavar="CHECKLIST")
    _release_arguments(authorize)
    authorize.set_defaults(handler=authorize_command)


def _release_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", default=None, metavar="VERSION",
                        help="the release (default: QD_RELEASE, else the running version, "
                        "as in the console)")  # fmt: skip
    parser.add_argument("--env", default=None, metavar="NAME",
                        help="environment (default: QD_ENVIRONMENT)")  # fmt: skip
    parser.add_argument("--as", dest="who", default=None, metavar="NAME",
                        help="who acts (default: the login name)")  # fmt: skip


def _checklist(spec: str) -> Checklist:
    from checks import ChecklistError, builtin_checklist, load_checklist

    try:
        if spec.endswith(".toml") or "/" in spec:
            return load_checklist(spec)
        return builtin_checklist(spec)
    except (ChecklistError, KeyError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        raise UsageError(message) from None


def _release(args: argparse.Namespace, checklist: Checklist) -> Release:
    from checks.release import Release, default_release

    version = args.release or default_release(args.settings)
    return Release(checklist.id, version, args.env or args.settings.environment)


def _roles(settings: Settings) -> tuple[str, ...]:
    from checks import Role

    known = {role.value for role in Role}
    unknown = [role for role in settings.signoff_roles if role not in known]
    if unknown:
        raise UsageError(f"QD_SIGNOFF_ROLES: unknown role(s) {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")  # fmt: skip
    return tuple(settings.signoff_roles)


def _store(settings: Settings) -> Store:
    from core.store import Store

    store = Store(settings.resolved_database_url)
    store.create_schema()
    return store


def _actor(args: argparse.Namespace) -> Principal:
    return cli_actor(args.who, args.settings)


def _ledger_call(function: Any, *arguments: Any, **keywords: Any) -> Any:
    """Call the ledger; its refusals (bad input, or a role that may not) exit 2."""
    from checks.ledger import LedgerError
    from core.access import PermissionDenied

    try:
        return function(*arguments, **keywords)
    except (LedgerError, PermissionDenied) as exc:
        raise UsageError(str(exc)) from None


# --- list -------------------------------------------------------------------------------


def list_command(args: argparse.Namespace) -> int:
    from checks import REGISTRY, ChecklistError, builtin_checklists

    try:
        checklists = builtin_checklists()
    except ChecklistError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(jsontext.dumps({
            "checklists": [{"id": c.id, "title": c.title, "items": len(c.items),
                            "probes": len(c.probe_items), "manual": len(c.manual_items)}
                           for c in checklists.values()],
            "probes": [{"name": s.name, "description": s.description,
                        "scopes": [scope.value for scope in s.scopes]} for s in REGISTRY],
        }, indent=2))  # fmt: skip
        return 0
    for c in checklists.values():
        print(f"{c.id:<14} {len(c.items):>3} items ({len(c.probe_items)} automated, "
              f"{len(c.manual_items)} manual)  {c.title}")  # fmt: skip
    print(f"\nprobes ({len(REGISTRY)}):")
    for spec in sorted(REGISTRY, key=lambda s: s.name):
        scopes = "/".join(scope.value for scope in spec.scopes)
        print(f"  {spec.name:<24} {scopes:<28} {spec.description}")
    return 0


# --- run ----------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    from checks.ledger import record_results, state

    settings = args.settings
    if args.concurrency < 1 or args.timeout <= 0:
        raise UsageError("--concurrency must be at least 1 and --timeout positive")
    checklist = _checklist(args.checklist)
    release = _release(args, checklist)
    roles = _roles(settings)
    store = _store(settings)
    try:
        results = asyncio.run(_run_probes(args, checklist, store))
        _ledger_call(record_results, store, release, results, _actor(args),
                     args.target.rstrip("/"))  # fmt: skip
        current = state(store, checklist, release, required_roles=roles)
    finally:
        store.dispose()
    elapsed = {item_id: result.elapsed or 0.0 for item_id, result in results.items()}
    if args.probes_only:
        current = _automated_only(current)
    _write_reports(args, current, elapsed)
    return 0 if current.ready else EXIT_NOT_READY


async def _run_probes(args: argparse.Namespace, checklist: Checklist, store: Store) -> Any:
    from checks import ProbeContext, run_checklist
    from checks.probes import target_from_settings
    from core.trading.engine import LiveEngine

    s = args.settings
    target = target_from_settings(s, args.target, args.env or "")
    context = ProbeContext(s, store.engine, LiveEngine.mode, target)
    return await run_checklist(checklist, context, lambda update: None, args.concurrency,
                               args.timeout)  # fmt: skip


def _automated_only(current: ReleaseState) -> ReleaseState:
    import dataclasses

    items = tuple(s for s in current.items if s.item.probe is not None)
    return dataclasses.replace(current, items=items)


def _write_reports(
    args: argparse.Namespace, current: ReleaseState, elapsed: dict[str, float] | None = None
) -> None:
    from checks.reports import as_json, as_junit, as_markdown, summary_line

    try:
        if getattr(args, "junit", None) is not None:
            args.junit.write_text(as_junit(current, elapsed), encoding="utf-8")
        if getattr(args, "markdown", None) is not None:
            args.markdown.write_text(as_markdown(current), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}") from None
    if args.json:
        print(jsontext.dumps(as_json(current), indent=2))
        return
    for item in current.items:
        print(summary_line(item))
    failures = current.blocking_failures
    verdict = "READY" if current.ready else f"NOT READY: {len(failures)} blocking item(s)"
    print(f"\n{current.release}: {verdict}")
    print(f"target: {current.target}")


# --- the release manager's side -------------------------------------------------------------


def status_command(args: argparse.Namespace) -> int:
    from checks.ledger import state

    checklist = _checklist(args.checklist)
    store = _store(args.settings)
    try:
        current = state(store, checklist, _release(args, checklist),
                        required_roles=_roles(args.settings))  # fmt: skip
    finally:
        store.dispose()
    _write_reports(args, current)
    if not args.json:
        signed = ", ".join(f"{role} ({s.who})" for role, s in current.signed.items()) or "none"
        print(f"signed: {signed}; missing: {', '.join(current.missing_roles) or 'none'}")
        print("deployment: " + (f"authorized by {current.authorization.who}"
                                if current.authorization else "not authorized"))  # fmt: skip
    return 0 if current.ready else EXIT_NOT_READY


def report_command(args: argparse.Namespace) -> int:
    from checks.release_report import as_markdown, audit_export, gather, write_pdf

    settings = args.settings
    checklist = _checklist(args.checklist)
    release = _release(args, checklist)
    store = _store(settings)
    try:
        report = gather(store, checklist, release, configured_target=settings.check_target,
                        audit_key_file=settings.audit_key_file,
                        required_roles=_roles(settings))  # fmt: skip
        markdown = as_markdown(report)
        try:
            if args.markdown is not None:
                args.markdown.write_text(markdown, encoding="utf-8")
            if args.pdf is not None:
                write_pdf(report, args.pdf)
        except OSError as exc:
            raise UsageError(f"cannot write the report: {exc}") from None
        for path in (args.markdown, args.pdf):
            if path is not None:
                audit_export(store, _actor(args), release, report, path)
    finally:
        store.dispose()
    if args.markdown is None and args.pdf is None:
        print(markdown, end="")
        return 0
    for path in (args.markdown, args.pdf):
        if path is not None:
            print(f"wrote {path}")
    print(report.audit.text)
    return 0


def history_command(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from checks.ledger import history

    checklist = _checklist(args.checklist)
    if args.item not in {item.id for item in checklist.items}:
        raise UsageError(f"{checklist.id} has no item {args.item!r}")
    store = _store(args.settings)
    try:
        rows = history(store, _release(args, checklist), args.item)
    finally:
        store.dispose()
    if args.json:
        print(
            jsontext.dumps(
                [
                    {
                        "ts": r.ts,
                        "verdict": r.verdict,
                        "source": r.source,
                        "actor": r.actor,
                        "reason": r.reason,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return 0
    for r in rows:
        when = datetime.fromtimestamp(r.ts, UTC).isoformat(timespec="seconds")
        print(f"{when}  {r.verdict:<7} {r.source:<11} {r.actor:<16} {r.reason}")
    if not rows:
        print("no verdicts yet")
    return 0


def attest_command(args: argparse.Namespace) -> int:
    from checks.ledger import attest
    from core.events import Verdict

    checklist = _checklist(args.checklist)
    store = _store(args.settings)
    try:
        _ledger_call(attest, store, checklist, _release(args, checklist), args.item,
                     Verdict(args.verdict), _actor(args), args.note, args.evidence,
                     args.settings.check_target.strip().rstrip("/"))  # fmt: skip
    finally:
        store.dispose()
    print(f"{args.item}: {args.verdict}, attested by {_actor(args).name}")
    return 0


def waive_command(args: argparse.Namespace) -> int:
    from checks.ledger import waive

    checklist = _checklist(args.checklist)
    store = _store(args.settings)
    expires = time.time() + args.days * 86_400
    try:
        _ledger_call(waive, store, checklist, _release(args, checklist), args.item,
                     args.justification, _actor(args), args.role, expires)  # fmt: skip
    finally:
        store.dispose()
    print(f"{args.item}: waived by {_actor(args).name} ({args.role}) for {args.days:g} day(s)")
    return 0


def signoff_command(args: argparse.Namespace) -> int:
    from checks.ledger import sign_off

    checklist = _checklist(args.checklist)
    store = _store(args.settings)
    try:
        _ledger_call(sign_off, store, checklist, _release(args, checklist), args.role,
                     _actor(args), args.note, _roles(args.settings))  # fmt: skip
    finally:
        store.dispose()
    print(f"signed for {args.role} by {_actor(args).name}")
    return 0


def authorize_command(args: argparse.Namespace) -> int:
    from checks.ledger import authorize

    checklist = _checklist(args.checklist)
    store = _store(args.settings)
    try:
        release = _release(args, checklist)
        _ledger_call(authorize, store, checklist, release, _actor(args), _roles(args.settings))
    finally:
        store.dispose()
    print(f"{release}: deployment authorized by {_actor(args).name}")
    return 0
