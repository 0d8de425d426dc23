"""The runbooks: both built-in ones load, broken files are reported by file:line and field,
steps cite real seed items."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checks import REGISTRY
from checks.runbooks import (
    RunbookError,
    StepKind,
    builtin_runbook,
    builtin_runbooks,
    load_runbook,
)

from .seeds import seed_sources

VALID = """\
[runbook]
id = "mini"
title = "Mini"
description = "Two steps."
rto_minutes = 5

[[steps]]
id = "stop"
title = "Stop"
kind = "shell"
instructions = "Stop it."
command = "systemctl stop ${QD_SERVICE}"
timeout = 60
sources = ["001: Stop new traffic to the system"]

[[steps]]
id = "check_db"
title = "Check the database"
kind = "probe"
instructions = "It must answer."
timeout = 30
probe = "database.reachable"
params = { max_latency_ms = 250 }
sources = ["003: Database Rollback"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "runbook.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_runbooks_load_rollback_and_deployment() -> None:
    runbooks = builtin_runbooks()
    assert set(runbooks) == {"rollback", "deployment"}
    rollback = builtin_runbook("rollback")
    assert rollback.rto_minutes == 5
    assert [s.id for s in rollback.steps][:3] == ["stop_traffic", "preserve_logs", "notify"]
    for runbook in runbooks.values():
        assert {s.kind for s in runbook.steps} == set(StepKind)
        for step in runbook.steps:
            if step.kind is StepKind.SHELL:
                assert step.command and step.timeout
            if step.kind is StepKind.PROBE:
                assert step.probe in REGISTRY and step.timeout


def test_builtin_steps_say_whether_they_are_critical() -> None:
    for runbook in builtin_runbooks().values():
        unsaid = [s.id for s in runbook.steps if "critical" not in s.model_fields_set]
        assert not unsaid, f"{runbook.id}: {unsaid} do not say critical = true|false"
    rollback = builtin_runbook("rollback")
    best_effort = {s.id for s in rollback.steps if not s.critical}
    assert best_effort == {"preserve_logs", "notify", "post_incident"}
    assert all(rollback.step(i).critical
               for i in ("revert_version", "restore_database", "start_service"))  # fmt: skip


def test_a_step_that_does_not_say_is_critical(tmp_path: Path) -> None:
    assert all(step.critical for step in load_runbook(_write(tmp_path, VALID)).steps)


def test_builtin_runbook_unknown_id_raises_keyerror() -> None:
    with pytest.raises(KeyError, match="known: deployment, rollback"):
        builtin_runbook("upgrade")


def test_valid_runbook_loads_steps_in_order(tmp_path: Path) -> None:
    runbook = load_runbook(_write(tmp_path, VALID))
    assert runbook.id == "mini"
    assert [s.id for s in runbook.steps] == ["stop", "check_db"]
    assert runbook.step("check_db").params == {"max_latency_ms": 250}
    assert runbook.step("stop").command == "systemctl stop ${QD_SERVICE}"


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('kind = "shell"', 'kind = "script"', ":10: steps[0].kind: Input should be"),
        ("timeout = 60\n", "", ":7: steps[0].timeout: a \"shell\" step needs a timeout"),
        ('probe = "database.reachable"', 'probe = "http.nope"',
         ":22: steps[1].probe: unknown probe 'http.nope'"),
        ("rto_minutes = 5", "rto_minutes = 0", ":5: runbook.rto_minutes: Input should be greater"),
        ('id = "check_db"', 'id = "stop"', ":17: steps[1].id: duplicate step id 'stop'"),
        ('title = "Stop"', 'titel = "Stop"', ":9: steps[0].titel: unknown field 'titel'"),
        ("max_latency_ms = 250", "max_latency_ms = -1", ":23: steps[1].params: invalid params"),
        ('id = "mini"', 'id = "Mini Runbook"', ":2: runbook.id: String should match pattern"),
        ('sources = ["003: Database Rollback"]', "sources = []", ":24: steps[1].sources:"),
        ('kind = "shell"', 'kind = "shell"\ncritical = "yes"',
         ":11: steps[0].critical: Input should be a valid boolean"),
    ],
)  # fmt: skip
def test_broken_runbook_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(RunbookError) as caught:
        load_runbook(path)
    assert f"{path}{where}" in str(caught.value)


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace('title = "Stop"', 'title "Stop"'))
    with pytest.raises(RunbookError, match=rf"{re.escape(str(path))}:9:\d+: steps\[0\]\.title"):
        load_runbook(path)


def test_runbook_steps_cite_real_seed_items() -> None:
    known = seed_sources()
    invented = [f"{r.id}/{s.id}: {source}" for r in builtin_runbooks().values()
                for s in r.steps for source in s.sources if source not in known]  # fmt: skip
    assert not invented, "\n".join(invented)
