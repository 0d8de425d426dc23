"""A runbook run taken one step at a time: the same audit as a run in one go, an RTO clock
the caller injects, and an abandoned run that records its remaining steps as skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.runbooks.execute import Outcome, RunbookSession

from .test_runbook_execute import OLGA, Recorder, Runbook, Step


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_steps_run_one_at_a_time_against_the_injected_clock(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    book = Runbook([Step("notify", "manual"), Step("preserve", "shell", f"touch {marker}")])
    recorder, clock = Recorder(), FakeClock()
    session = RunbookSession(book, actor=OLGA, audit=recorder.audit, clock=clock)
    assert not session.started and session.elapsed() == 0.0
    await session.start()
    clock.now += 42.0
    assert session.elapsed() == 42.0 and session.next_step is book.steps[0]
    first = await session.run_next(recorder.confirm)
    assert first.outcome is Outcome.DONE and recorder.asked == ["notify"]
    assert not marker.exists() and session.next_step is book.steps[1]
    assert [a for a, _, _ in recorder.entries] == ["runbook.start", "runbook.step"]
    clock.now += 400.0  # past the 5-minute RTO
    second = await session.run_next(recorder.confirm)
    assert second.outcome is Outcome.DONE and marker.exists()
    assert session.finished and session.next_step is None
    assert session.elapsed() == 442.0 and not session.run.within_rto
    assert recorder.entries[-1][:2] == ("runbook.finish", "drill")
    assert recorder.entries[-1][2]["within_rto"] is False


async def test_abandoning_skips_the_remaining_steps_and_finishes_the_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    book = Runbook([Step("notify", "manual"), Step("revert", "shell", f"touch {marker}"),
                    Step("resume", "manual")])  # fmt: skip
    recorder = Recorder()
    session = RunbookSession(book, actor=OLGA, audit=recorder.audit)
    await session.start()
    await session.run_next(recorder.confirm)
    skipped = await session.abandon("stopped by the operator")
    why = "abandoned by olga: stopped by the operator"
    assert [(r.step_id, r.outcome, r.detail) for r in skipped] == [
        ("revert", Outcome.SKIPPED, why), ("resume", Outcome.SKIPPED, why),
    ]  # fmt: skip
    assert not marker.exists() and recorder.asked == ["notify"]
    assert session.finished and not session.run.succeeded
    assert [a for a, _, _ in recorder.entries] == [
        "runbook.start", "runbook.step", "runbook.abandon", "runbook.step", "runbook.step",
        "runbook.finish",
    ]  # fmt: skip
    assert recorder.entries[2][2]["reason"] == "stopped by the operator"
    assert recorder.entries[2][2]["at_step"] == 2


async def test_a_session_starts_once_and_runs_nothing_before_it_starts() -> None:
    written: list[str] = []

    async def audit(action: str, subject: str, detail: dict[str, object]) -> None:
        written.append(action)  # a coroutine audit (the console's) is awaited in order

    session = RunbookSession(Runbook([Step("notify", "manual")]), actor=OLGA, audit=audit)
    with pytest.raises(RuntimeError, match="not under way"):
        await session.run_next(Recorder().confirm)
    await session.start()
    assert written == ["runbook.start"]
    with pytest.raises(RuntimeError, match="already started"):
        await session.start()
