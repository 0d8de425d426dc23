"""The log file: JSON lines, rotated, and correlation ids on every record logged
for a request, a job or a session, in the threads and tasks they start too."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.bus import Bus
from core.events import JobState
from core.jobs import JobKind, JobManager
from core.logs import ACCESS_LOGGER, LogTail, configure_logging, correlated

log = logging.getLogger("tests.logs")


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The process's logging pointed at a small rotating file; put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = tmp_path / "logs" / "quarterdeck.jsonl"
    configure_logging(path, "INFO", max_bytes=2_000, backups=2)
    yield path
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_are_json_lines_with_their_ids_and_tracebacks(log_file: Path) -> None:
    with correlated(request_id="r-1"):
        log.info("fill %s", "BTCUSD", extra={"run_id": "abc"})
        try:
            raise ValueError("bad tick")
        except ValueError:
            log.exception("tick rejected")
    log.warning("outside")
    first, second, third = lines(log_file)
    assert first["message"] == "fill BTCUSD" and first["level"] == "INFO"
    assert (first["logger"], first["run_id"], first["request_id"]) == ("tests.logs", "abc", "r-1")
    assert first["time"].endswith("Z") and first["time"].startswith("20")
    assert second["request_id"] == "r-1" and "ValueError: bad tick" in second["exception"]
    assert third["message"] == "outside" and "request_id" not in third


def test_access_records_take_the_short_way_with_the_same_fields(log_file: Path) -> None:
    """A plain record is written without structlog's chain, in the same shape as a line
    the chain writes; an access record (one per API request) is kept out of the console's
    tail."""
    tail = LogTail()
    logging.getLogger().addHandler(tail)
    try:
        with correlated(request_id="r-2"):
            access = logging.getLogger(ACCESS_LOGGER)
            access.info("%s %s %d", "GET", "/api/v1/risk", 200,
                        extra={"path": "/api/v1/risk", "status": 200})  # fmt: skip
            log.info("the same request")
            try:
                raise ValueError("for the chain")
            except ValueError:
                log.exception("through structlog's chain", extra={"path": "/x", "status": 1})
    finally:
        logging.getLogger().removeHandler(tail)
    fast, general, chained = lines(log_file)
    assert set(general) <= set(fast) | {"request_id"}
    assert list(fast) == [key for key in chained if key != "exception"]  # the same order
    assert (fast["level"], fast["logger"], fast["message"]) == (
        "INFO", ACCESS_LOGGER, "GET /api/v1/risk 200")  # fmt: skip
    assert (fast["path"], fast["status"], fast["request_id"]) == ("/api/v1/risk", 200, "r-2")
    assert fast["time"].endswith("Z") and len(fast["time"]) == len(general["time"])
    assert [entry.logger for entry in tail.entries()] == ["tests.logs", "tests.logs"]


def test_the_file_rotates_and_keeps_its_backups(log_file: Path) -> None:
    for i in range(200):
        log.info("line %d with some padding to fill the file", i)
    kept = sorted(path.name for path in log_file.parent.iterdir())
    assert kept == ["quarterdeck.jsonl", "quarterdeck.jsonl.1", "quarterdeck.jsonl.2"]
    assert all(len(path.read_bytes()) <= 2_000 for path in log_file.parent.iterdir())
    assert lines(log_file)[-1]["message"].startswith("line 199 ")


async def test_ids_follow_into_threads_and_tasks_and_no_further() -> None:
    tail = LogTail()
    log.addHandler(tail)
    try:
        with correlated(session_id="s-9", user="alice"):
            await asyncio.to_thread(log.warning, "from a thread")
            await asyncio.create_task(asyncio.to_thread(log.warning, "from a task's thread"))
        log.warning("after")
    finally:
        log.removeHandler(tail)
    fields = [dict(entry.fields) for entry in tail.entries()]
    assert fields[:2] == [{"session_id": "s-9", "user": "alice"}] * 2
    assert fields[2] == {}


async def test_a_jobs_records_carry_its_id_from_its_thread() -> None:
    def run(_request: dict, _context: object) -> dict:
        log.warning("working")
        raise RuntimeError("no data")

    tail = LogTail()
    logging.getLogger().addHandler(tail)
    manager = JobManager(Bus(), None, {"flaky": JobKind("flaky", dict, run, lambda _r: "x")})
    try:
        await manager.start()
        job_id = await manager.submit("flaky", {})
        async with asyncio.timeout(10):
            while manager.jobs[job_id].state is not JobState.FAILED:
                await asyncio.sleep(0.01)
    finally:
        await manager.stop()
        logging.getLogger().removeHandler(tail)
    mine = {entry.message: dict(entry.fields) for entry in tail.entries()}
    assert mine["working"] == {"job_id": str(job_id), "job_kind": "flaky"}
    assert mine[f"job {job_id} failed"]["job_id"] == str(job_id)
