"""The pre-flight (variables, programs, units, probe settings) and what a run does after a
failure: a step that is not critical fails and the run goes on; a critical one waits for
a retry, a skip with a reason, or an abandon, each audited."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from checks import ProbeContext, ProbeRegistry
from checks.probes import REGISTRY, Scope, Target
from checks.runbooks import builtin_runbook
from checks.runbooks.execute import (
    Decision,
    Outcome,
    RunbookSession,
    execute_runbook,
    verdict,
)
from checks.runbooks.preflight import preflight, simple_commands, variables

from .test_runbook_execute import OLGA, Recorder, Runbook, Step


def stub_systemctl(folder: Path, unit: str) -> Path:
    """A ``systemctl`` that knows only ``unit``: ``cat`` answers for it, and every verb
    it is given is written to ``systemctl.log``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "systemctl"
    script.write_text(f"""#!/bin/sh
echo "$@" >> "{folder}/systemctl.log"
last=""; for a in "$@"; do last="$a"; done
if [ "$last" = "{unit}" ] || [ "$last" = "{unit}.service" ]; then exit 0; fi
echo "No files found for $last." >&2
exit 1
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_variables_with_a_default_need_nothing() -> None:
    text = 'cp "${A}" $B ${C:-x} ${D-y} ${E:?say} $(date) ${A}'
    assert variables(text) == ["A", "B", "E"]


def test_simple_commands_split_on_operators_and_skip_assignments() -> None:
    assert simple_commands('X=1 mkdir -p "$D" && tar -C a . | gzip > f; cd /; ls 2>&1') == [
        ["mkdir", "-p", "$D"], ["tar", "-C", "a", "."], ["gzip"], ["cd", "/"], ["ls", "2"],
    ]  # fmt: skip


async def test_unset_and_empty_variables_missing_programs_and_units_are_named(
    tmp_path: Path,
) -> None:
    bin_dir = stub_systemctl(tmp_path / "bin", "quarterdeck")
    book = [
        Step("save", "shell", 'mkdir -p "${QD_DIR}" && tar -C "${QD_LOGS}" .'),
        Step("revert", "shell", 'systemctl stop "${QD_SERVICE}" && "${QD_VENV}/bin/pip" x'),
        Step("tool", "shell", "no-such-program-qd --help; cd /tmp && echo ok"),
        Step("notify", "manual"),
    ]
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "QD_LOGS": " ", "QD_SERVICE": "nope",
           "QD_VENV": str(tmp_path / "venv")}  # fmt: skip
    found = await preflight(book, environment=env, probe_context=None, registry=REGISTRY)
    assert found.lines() == [
        "step 1 save: QD_DIR is not set; QD_LOGS is set but empty",
        "step 2 revert: unit nope is not known to systemctl (No files found for nope.); "
        f"{tmp_path}/venv/bin/pip does not exist or is not executable",
        "step 3 tool: no-such-program-qd is not on PATH",
    ]
    assert found.verdict() == "would fail at step 1: QD_DIR is not set; QD_LOGS is set but empty"

    (tmp_path / "venv" / "bin").mkdir(parents=True)
    pip = tmp_path / "venv" / "bin" / "pip"
    pip.write_text("#!/bin/sh\n")
    pip.chmod(0o755)
    env |= {"QD_SERVICE": "quarterdeck", "QD_DIR": str(tmp_path), "QD_LOGS": str(tmp_path)}
    found = await preflight(book[:2], environment=env, probe_context=None, registry=REGISTRY)
    assert found.ready and found.verdict() == "ready"


async def test_probe_steps_need_their_target_settings(ctx: ProbeContext) -> None:
    book = [Step("health", "probe", probe="http.health"),
            Step("db", "probe", probe="database.reachable"),
            Step("own_db", "probe", probe="database.reachable", scope=Scope.QUARTERDECK),
            Step("scan", "probe", probe="code.bandit", params={"nope": 1})]  # fmt: skip
    found = await preflight(book, environment={}, probe_context=ctx, registry=REGISTRY)
    assert found.of("health") == ["target.base_url is not set"]
    assert found.of("db") == ["target.database_url is not set"]
    assert found.of("own_db") == []  # Quarterdeck's own store is always there
    assert found.of("scan")[0].startswith("invalid params for probe 'code.bandit'")
    aimed = dataclasses.replace(ctx, target=Target(base_url="ftp://x"))
    found = await preflight(book[:1], environment={}, probe_context=aimed, registry=REGISTRY)
    assert found.of("health") == ["target.base_url 'ftp://x' is not an http:// or https:// URL"]


async def test_the_builtin_rollback_with_nothing_set_would_fail_at_the_revert(
    ctx: ProbeContext,
) -> None:
    recorder = Recorder()
    run = await execute_runbook(builtin_runbook("rollback"), actor=OLGA, dry_run=True,
                                confirm=recorder.confirm, audit=recorder.audit,
                                probe_context=ctx, environment={"PATH": os.defpath})  # fmt: skip
    assert recorder.asked == [] and not run.succeeded
    assert verdict(run, 5) == ("rollback would fail at step 4: QD_SERVICE is not set; "
                               "QD_VENV is not set; QD_PREVIOUS_VERSION is not set")  # fmt: skip
    outcomes = {r.step_id: r.outcome for r in run.results}
    assert outcomes["preserve_logs"] is Outcome.WOULD_FAIL
    assert outcomes["notify"] is Outcome.DRY_RUN
    start = recorder.entries[0][2]
    assert {p["problem"] for p in start["problems"]} >= {"QD_INCIDENT_DIR is not set",
                                                         "QD_LOG_DIR is not set"}  # fmt: skip
    assert recorder.entries[-1][2]["verdict"].startswith("rollback would fail at step 4")


async def test_a_failed_step_that_is_not_critical_is_recorded_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    after = tmp_path / "reverted"
    book = Runbook([Step("save", "shell", "exit 2", critical=False),
                    Step("revert", "shell", f"touch {after}")])  # fmt: skip
    recorder = Recorder()
    run = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit)
    assert [r.outcome for r in run.results] == [Outcome.FAILED, Outcome.DONE] and after.exists()
    assert verdict(run, 5).startswith("drill FAILED: completed with failed steps save;")
    assert recorder.entries[1][2]["critical"] is False


async def test_a_failed_critical_step_waits_for_retry_skip_or_abandon(tmp_path: Path) -> None:
    flaky = tmp_path / "tried"
    book = Runbook([
        Step("revert", "shell", f"test -e {flaky} || {{ touch {flaky}; exit 1; }}"),
        Step("start", "shell", "exit 4"), Step("resume", "manual"), Step("review", "manual"),
    ])  # fmt: skip
    recorder = Recorder()
    session = RunbookSession(book, actor=OLGA, audit=recorder.audit)
    await session.start()
    first = await session.run_next(recorder.confirm)
    assert first.outcome is Outcome.FAILED and session.blocked == first
    assert session.next_step is None and not session.finished
    with pytest.raises(RuntimeError, match="retry it, skip it or abandon"):
        await session.run_next(recorder.confirm)

    again = await session.retry(recorder.confirm)
    assert again.outcome is Outcome.DONE and session.blocked is None
    assert [r.outcome for r in session.run.results] == [Outcome.DONE]

    await session.run_next(recorder.confirm)
    with pytest.raises(ValueError, match="needs a reason"):
        await session.skip("  ")
    skipped = await session.skip("started by hand")
    assert skipped.outcome is Outcome.FAILED
    assert skipped.detail == "exit 4; skipped by olga: started by hand"
    assert session.next_step is book.steps[2]

    await session.abandon("the desk called it off")
    assert session.finished and session.run.stopped == "abandoned by olga: the desk called it off"
    actions = [(a, s) for a, s, _ in recorder.entries]
    assert actions == [
        ("runbook.start", "drill"), ("runbook.step", "drill/revert"),
        ("runbook.retry", "drill/revert"), ("runbook.step", "drill/revert"),
        ("runbook.step", "drill/start"), ("runbook.skip", "drill/start"),
        ("runbook.abandon", "drill"), ("runbook.step", "drill/resume"),
        ("runbook.step", "drill/review"), ("runbook.finish", "drill"),
    ]  # fmt: skip
    details = {a: d for a, _, d in recorder.entries}
    assert details["runbook.retry"]["failed"] == "exit 1"
    assert details["runbook.skip"] == {"reason": "started by hand", "failed": "exit 4"}
    assert details["runbook.abandon"]["reason"] == "the desk called it off"
    assert details["runbook.abandon"]["at_step"] == 3
    assert "stopped before step 3 (abandoned by olga" in details["runbook.finish"]["verdict"]


async def test_execute_puts_a_critical_failure_to_decide_or_stops(tmp_path: Path) -> None:
    book = Runbook([Step("revert", "shell", "exit 1"), Step("resume", "manual")])
    decided: list[str] = []

    async def decide(step, failed):
        decided.append(f"{step.id}: {failed.detail}")
        return Decision.SKIP, "done by hand"

    recorder = Recorder()
    run = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit,
                                decide=decide)  # fmt: skip
    assert decided == ["revert: exit 1"] and run.results[1].outcome is Outcome.DONE
    stopped = await execute_runbook(book, actor=OLGA, confirm=recorder.confirm,
                                    audit=recorder.audit)  # fmt: skip
    assert [r.outcome for r in stopped.results] == [Outcome.FAILED, Outcome.SKIPPED]
    assert stopped.results[1].detail == "an earlier step failed"


async def test_the_rollback_reverts_although_the_logs_cannot_be_saved(
    tmp_path: Path, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    """The issue's failure: preserve_logs fails (no log directory), and the revert, start
    and the rest still run."""
    bin_dir = stub_systemctl(tmp_path / "bin", "quarterdeck")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "pip").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/pip.log\n')
    (venv / "bin" / "pip").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "QD_SERVICE": "quarterdeck",
           "QD_VENV": str(venv), "QD_PREVIOUS_VERSION": "0.9.0",
           "QD_INCIDENT_DIR": str(tmp_path / "incident"),
           "QD_LOG_DIR": str(tmp_path / "no-such-logs")}  # fmt: skip
    rollback = builtin_runbook("rollback")
    ran: list[tuple[str, str]] = []
    recorder = Recorder()
    await execute_runbook(
        rollback, actor=OLGA, confirm=recorder.confirm, audit=recorder.audit,
        probe_context=ctx, environment=env,
        on_step=lambda step, result, _: ran.append((step.id, result.outcome.value)),
    )  # fmt: skip
    assert ran[1] == ("preserve_logs", "failed")
    assert ran[3] == ("revert_version", "done") and ran[5] == ("start_service", "done")
    assert (tmp_path / "pip.log").read_text() == "install --no-deps quarterdeck==0.9.0\n"
    calls = (bin_dir / "systemctl.log").read_text().splitlines()
    assert "stop quarterdeck" in calls and "start quarterdeck" in calls
