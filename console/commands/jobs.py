"""`quarterdeck jobs`: the job history and queue in the store, from the command line.

``list``, ``show``, ``cancel``, ``pause``, ``resume`` and ``priority`` work
against the same store as a running console: a request reaches the process
that runs the job through the store and takes effect within about a second.
``submit`` queues a job for whichever process claims it first, and ``work``
is such a process without a UI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import signal
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.commands.errors import UsageError
from console.commands.executor import add_executor_argument
from console.commands.options import number
from core import bounds, jsontext

if TYPE_CHECKING:
    from core.config import Settings
    from core.store import JobRow, Store

STATES = ("queued", "running", "paused", "done", "failed", "cancelled")
PRIORITIES = ("high", "normal", "low")
EXIT_NOT_DONE = 1
#: ``jobs work --concurrency``: 0 takes the setting.
JOB_SLOTS = bounds.Bound(True, 0, bounds.CONCURRENCY.high)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("jobs", help="list, show, cancel, submit and run jobs")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="jobs, newest first")
    listing.add_argument("--state", choices=STATES, default=None)
    listing.add_argument("--limit", type=number(bounds.POSITIVE_COUNT), default=50, metavar="N")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)

    show = actions.add_parser("show", help="one job: parameters, progress, result, files")
    show.add_argument("job_id", type=number(bounds.ROW_ID), metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_command)

    cancel = actions.add_parser("cancel", help="stop a queued, running or paused job")
    cancel.add_argument("job_id", type=number(bounds.ROW_ID), metavar="ID")
    cancel.add_argument("--by", default=None, metavar="NAME",
                        help="who asks (default: the login name)")  # fmt: skip
    cancel.add_argument("--wait", type=number(bounds.WAIT_SECONDS), default=5.0, metavar="SECONDS",
                        help="how long to wait for a running job to stop")  # fmt: skip
    cancel.set_defaults(handler=cancel_command)

    for action, text in (("pause", "hold a job: a running one gives up its slot"),
                         ("resume", "let a paused job go on")):  # fmt: skip
        control = actions.add_parser(action, help=text)
        control.add_argument("job_id", type=number(bounds.ROW_ID), metavar="ID")
        control.add_argument("--by", default=None, metavar="NAME")
        control.set_defaults(handler=control_command, control=action)
    priority = actions.add_parser("priority", help="move a waiting job up or down the queue")
    priority.add_argument("job_id", type=number(bounds.ROW_ID), metavar="ID")
    priority.add_argument("level", choices=PRIORITIES)
    priority.add_argument("--by", default=None, metavar="NAME")
    priority.set_defaults(handler=control_command, control="priority")

    submit = actions.add_parser("submit", help="queue a job: KIND with its fields as JSON")
    submit.add_argument(
        "kind", metavar="KIND", help="backtest, optimize, batch, walk_forward or export"
    )
    submit.add_argument("params", metavar="JSON",
                        help='e.g. \'{"strategy": "sma_cross", "dataset": "spy.csv", '
                             '"grid": {"fast": [5, 50, 1]}}\'')  # fmt: skip
    submit.add_argument("--priority", choices=PRIORITIES, default="normal")
    submit.set_defaults(handler=submit_command)

    work = actions.add_parser("work", help="run queued jobs from the store, without a UI")
    add_executor_argument(work)
    work.add_argument("--until-idle", action="store_true",
                      help="exit once no job is queued or running")  # fmt: skip
    work.add_argument("--concurrency", type=number(JOB_SLOTS), default=0, metavar="N",
                      help="jobs at once (default: the setting, one per core)")  # fmt: skip
    work.set_defaults(handler=work_command)


def _store(settings: Settings) -> Store:
    from core.store import Store

    store = Store(settings.resolved_database_url)
    store.create_schema()
    return store


def _time(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def job_document(row: JobRow) -> dict[str, Any]:
    """A job as ``jobs list --json`` prints it (and the API answers it)."""
    from core.events import JobPriority

    return {
        "id": row.id, "kind": row.kind, "title": row.title, "state": row.state,
        "priority": JobPriority(row.priority).name.lower(), "done": row.done,
        "total": row.total, "params": json.loads(row.params_json),
        "result": json.loads(row.result_json) if row.result_json else None,
        "error": row.error, "note": row.note, "files": json.loads(row.files_json or "[]"),
        "owner": row.owner, "created_at": _time(row.created_at),
        "started_at": _time(row.started_at), "finished_at": _time(row.finished_at),
    }  # fmt: skip


def list_command(args: argparse.Namespace) -> int:
    from core.jobs import records

    store = _store(args.settings)
    jobs = records.list_jobs(store, args.state, args.limit)
    store.dispose()
    if args.json:
        print(jsontext.dumps([job_document(row) for row in jobs], indent=2))
        return 0
    if not jobs:
        print("no jobs")
        return 0
    print(f"{'ID':>5}  {'STATE':<9}  {'PRIO':<6}  {'KIND':<8}  {'PROGRESS':>13}  TITLE")
    for row in jobs:
        document = job_document(row)
        progress = f"{row.done:,}/{row.total:,}" if row.total else "-"
        print(f"{row.id:>5}  {row.state:<9}  {document['priority']:<6}  {row.kind:<8}  "
              f"{progress:>13}  {row.title}")  # fmt: skip
    return 0


def show_command(args: argparse.Namespace) -> int:
    from core.jobs import records

    store = _store(args.settings)
    row = records.get_job(store, args.job_id)
    saved = len(records.checkpoints(store, args.job_id)) if row is not None else 0
    store.dispose()
    if row is None:
        raise UsageError(f"no job {args.job_id}")
    document = jsontext.finite({**job_document(row), "checkpoints": saved})
    if args.json:
        print(jsontext.dumps(document, indent=2))
        return 0
    for name, value in document.items():
        if isinstance(value, dict | list):
            value = jsontext.dumps(value, sort_keys=True)
        print(f"{name:>12}: {value if value is not None else '-'}")
    return 0


def _unfinished_job(store: Store, job_id: int) -> JobRow | None:
    """The job's row if it is unfinished; None (said why) if it finished; an error if
    there is no such job."""
    from core.jobs import records

    row = records.get_job(store, job_id)
    if row is None:
        raise UsageError(f"no job {job_id}")
    if row.state not in records.UNFINISHED:
        print(f"job {job_id} is already {row.state}")
        return None
    return row


def cancel_command(args: argparse.Namespace) -> int:
    from core.jobs import records

    store = _store(args.settings)
    try:
        row = _unfinished_job(store, args.job_id)
        if row is None:
            return EXIT_NOT_DONE
        who = f"cli:{args.by or getpass.getuser()}"
        records.request_control(store, args.job_id, "cancel", who)
        if records.cancel_unowned(store, args.job_id, f"cancelled by {who}"):
            print(f"job {args.job_id} cancelled (no process was running it)")
            return 0
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            row = records.get_job(store, args.job_id)
            if row is not None and row.state not in records.UNFINISHED:
                print(f"job {args.job_id} {row.state}")
                return 0 if row.state == "cancelled" else EXIT_NOT_DONE
            time.sleep(0.1)
        print(f"job {args.job_id}: cancel requested; {row.owner if row else '?'} has not "
              f"stopped it yet")  # fmt: skip
        return EXIT_NOT_DONE
    finally:
        store.dispose()


def control_command(args: argparse.Namespace) -> int:
    """Pause, resume or re-prioritise: in the store at once if no process runs the job,
    else through its owner (applied within about a second)."""
    from core.events import JobPriority, JobState
    from core.jobs import records

    store = _store(args.settings)
    try:
        row = _unfinished_job(store, args.job_id)
        if row is None:
            return EXIT_NOT_DONE
        value = getattr(args, "level", None)
        direct: dict[str, Any] = {
            "pause": {"state": JobState.PAUSED.value},
            "resume": {"state": JobState.QUEUED.value},
            "priority": {"priority": int(JobPriority[(value or "normal").upper()])},
        }[args.control]
        if args.control != "priority" and row.state == JobState.RUNNING.value:
            direct = {}  # only its owner can pause or resume a running job
        if direct and records.change_unowned(store, args.job_id, direct):
            print(f"job {args.job_id}: {args.control} {value or ''}".rstrip())
            return 0
        who = f"cli:{args.by or getpass.getuser()}"
        records.request_control(store, args.job_id, args.control, who, value)
        print(f"job {args.job_id}: {args.control} requested from {row.owner}")
        return 0
    finally:
        store.dispose()


def submit_command(args: argparse.Namespace) -> int:
    from core.events import JobPriority, JobState
    from core.jobs import JOB_KINDS, records
    from core.jobs.kinds import admit, find_kind
    from core.store import JobRow

    try:
        params = json.loads(args.params)
        if not isinstance(params, dict):
            raise UsageError("JSON: expected an object of the job's fields")
        kind = find_kind(JOB_KINDS, args.kind)
        request = admit(JOB_KINDS, args.kind, params, args.settings.sweep_max_combos)
    except json.JSONDecodeError as exc:
        raise UsageError(f"JSON: {exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store = _store(args.settings)
    row = JobRow(
        kind=kind.name, title=kind.title(request), state=JobState.QUEUED.value,
        params_json=jsontext.dumps(params, sort_keys=True),
        priority=int(JobPriority[args.priority.upper()]), created_at=time.time(),
    )  # fmt: skip
    job_id = records.insert_job(store, row)
    store.dispose()
    print(job_id)
    return 0


def work_command(args: argparse.Namespace) -> int:
    return asyncio.run(_work(args.settings, args.concurrency, args.until_idle))


async def _work(settings: Settings, concurrency: int, until_idle: bool) -> int:
    from core.bus import Bus
    from core.jobs import JOB_KINDS, JobManager
    from core.market.catalog import Catalog
    from core.research.executors import executor_for
    from core.store import BatchWriter

    store = _store(settings)
    writer = BatchWriter(store)
    writer.start()
    manager = JobManager(
        Bus(), writer, JOB_KINDS, store=store,
        concurrency=concurrency or settings.job_concurrency or None,
        executor=executor_for(settings.executor), max_combos=settings.sweep_max_combos,
        catalog=Catalog(settings.catalog_dir),
    )  # fmt: skip
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # stop cleanly: jobs are released
        loop.add_signal_handler(signum, stopping.set)
    try:
        await manager.start()
        while not stopping.is_set() and (not until_idle or manager.has_work()):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), 0.2)
    finally:
        await manager.stop()
        await asyncio.to_thread(manager.executor.close)
        await writer.stop()
        store.dispose()
    return 0
