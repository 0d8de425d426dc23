"""Executing runbooks: real shell commands, probes and confirmations, each audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from checks import ProbeContext, ProbeRegistry
from checks.probes import Scope
from checks.runbooks.execute import Outcome, execute_runbook
from core.access import Principal, Role

OLGA = Principal("olga", Role.OPERATOR)


@dataclass
class Step:
    id: str
    kind: str
    command: str | None = None
    timeout: float | None = 5.0
    probe: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    instructions: str = "do the thing"
    title: str = "a step"
    critical: bool = True
    scope: Scope | None = None


@dataclass
class Runbook:
    steps: list[Step]
    id: str = "drill"
    title: str = "Drill"
    rto_minutes: float = 5.0


class Recorder:
    def __init__(self, answers: dict[str, bool] | None = None) -> None:
        self.entries: list[tuple[str, str, dict[str, Any]]] = []
        self.asked: list[str] = []
        self.answers = answers or {}

    def audit(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        self.entries.append((action, subject, detail))

    async def confirm(self, step: Step) -> bool:
        self.asked.append(step.id)
        return self.answers.get(step.id, True)


async def test_every_kind_of_step_runs_in_order_and_is_audited(
    tmp_path: Path, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    marker = tmp_path / "logs.tar"
    book = Runbook([
        Step("preserve_logs", "shell", f"echo preserved ${{SITE}} && touch {marker}"),
        Step("notify", "manual"),
        Step("verify_health", "probe", probe="test.pass"),
    ])  # fmt: skip
    recorder = Recorder()
    seen: list[tuple[str, str]] = []
    run = await execute_runbook(
        book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit, probe_context=ctx,
        registry=registry, environment={"SITE": "paris", "PATH": "/usr/bin:/bin"},
        on_step=lambda step, result, elapsed: seen.append((step.id, result.outcome.value)),
    )  # fmt: skip
    assert run.succeeded and run.within_rto and marker.exists()
    assert [r.outcome for r in run.results] == [Outcome.DONE] * 3
    assert run.results[0].output == "preserved paris\n" and run.results[0].exit_code == 0
    assert run.results[2].detail == "pass: fine"
    assert recorder.asked == ["notify"]
    assert seen == [("preserve_logs", "done"), ("notify", "done"), ("verify_health", "done")]
    actions = [(a, s) for a, s, _ in recorder.entries]
    assert actions == [("runbook.start", "drill"), ("runbook.step", "drill/preserve_logs"),
                       ("runbook.step", "drill/notify"), ("runbook.step", "drill/verify_health"),
                       ("runbook.finish", "drill")]  # fmt: skip
    assert recorder.entries[1][2]["output"] == "preserved paris\n"
    assert recorder.entries[-1][2]["within_rto"] is True


@pytest.mark.parametrize("stop_on_failure", [True, False])
async def test_a_failing_step_stops_the_run_unless_told_to_continue(
    tmp_path: Path, stop_on_failure: bool
) -> None:
    after = tmp_path / "after"
    book = Runbook([Step("revert", "shell", "echo reverting; exit 3"),
                    Step("resume", "shell", f"touch {after}")])  # fmt: skip
    recorder = Recorder()
    run = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit,
                                stop_on_failure=stop_on_failure)  # fmt: skip
    first, second = run.results
    assert (first.outcome, first.detail, first.exit_code) == (Outcome.FAILED, "exit 3", 3)
    assert first.output == "reverting\n" and not run.succeeded
    if stop_on_failure:
        assert second.outcome is Outcome.SKIPPED and not after.exists()
    else:
        assert second.outcome is Outcome.DONE and after.exists()


async def test_a_step_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    leftover = tmp_path / "leftover"
    book = Runbook([Step("restore", "shell", f"(sleep 30; touch {leftover}) & sleep 30",
                         timeout=0.5)])  # fmt: skip
    recorder = Recorder()
    run = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit)
    (result,) = run.results
    assert (result.outcome, result.detail) == (Outcome.FAILED, "timed out after 0.5s")
    assert result.elapsed < 10  # killed, not waited for
    assert not leftover.exists()


async def test_a_dry_run_runs_nothing_and_an_unconfirmed_step_fails(
    tmp_path: Path, registry: ProbeRegistry
) -> None:
    marker = tmp_path / "ran"
    book = Runbook([Step("stop_traffic", "shell", f"touch {marker}"), Step("notify", "manual"),
                    Step("health", "probe", probe="test.pass")])  # fmt: skip
    recorder = Recorder()
    dry = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit,
                                registry=registry, dry_run=True)  # fmt: skip
    assert [r.outcome for r in dry.results] == [Outcome.DRY_RUN] * 3
    assert dry.results[0].detail == f"would run: touch {marker} (timeout 5s)"
    assert not marker.exists() and recorder.asked == []

    refusing = Recorder({"notify": False})
    run = await execute_runbook(Runbook([Step("notify", "manual")]), actor=OLGA,
                                confirm=refusing.confirm, audit=refusing.audit)  # fmt: skip
    assert (run.results[0].outcome, run.results[0].detail) == (Outcome.FAILED, "not confirmed")


async def test_the_rto_clock_reports_an_overrun() -> None:
    book = Runbook([Step("slow", "shell", "sleep 0.3")], rto_minutes=0.001)  # 60 ms
    recorder = Recorder()
    run = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit)
    assert run.succeeded and not run.within_rto
    assert recorder.entries[-1][2]["within_rto"] is False
