"""`quarterdeck check` end to end: run, reports, attest, waive, sign off, authorize."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from console.cli import main
from core.audit import read_entries
from core.config import load_settings
from core.store import Store

CHECKLIST = """\
[checklist]
id = "release_gate"
title = "Release gate"
description = "A small gate for the tests."

[[items]]
id = "infra.disk"
section = "Infrastructure"
title = "Disk has room"
why = "A full disk stops the store."
severity = "blocking"
kind = "probe"
probe = "host.disk"
owner = "Infrastructure"
evidence = "Free space and the threshold."
sources = ["001: Resource Allocation"]

[items.params]
min_free_percent = {free}

[[items]]
id = "ops.rollback_rehearsed"
section = "Operations"
title = "Rollback rehearsed"
why = "An untested rollback fails when it is needed."
severity = "blocking"
kind = "manual"
owner = "Operations"
evidence = "The rehearsal's date and duration."
sources = ["001: Rollback Plan"]

[[items]]
id = "ops.dashboards"
section = "Operations"
title = "Dashboards shared"
why = "On-call needs them."
severity = "advisory"
kind = "manual"
owner = "Operations"
evidence = "Links."
sources = ["003: Dashboards"]
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def gate(tmp_path: Path, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QD_SIGNOFF_ROLES", "Operations,QA")
    path = tmp_path / "gate.toml"
    path.write_text(CHECKLIST.format(free=1))
    return path


def test_a_release_goes_from_not_ready_to_authorized(
    gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--release", "2.0.0", "--env", "staging"]
    junit, markdown = tmp_path / "junit.xml", tmp_path / "report.md"
    code, out, _ = run(capsys, "check", "run", str(gate), "--target", "http://127.0.0.1:9",
                       *common, "--junit", str(junit), "--markdown", str(markdown))  # fmt: skip
    assert code == 1
    assert "NOT READY: 1 blocking item(s)" in out and "! manual   ops.rollback_rehearsed" in out
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    failed = suite.find("testcase/failure/..")
    assert failed is not None and failed.get("name").startswith("ops.rollback_rehearsed")
    assert "**NOT READY**" in markdown.read_text()
    assert "Target: http://127.0.0.1:9" in markdown.read_text()
    targets = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert targets["target"] == "http://127.0.0.1:9"

    code, _, _ = run(capsys, "check", "run", str(gate), "--target", "http://127.0.0.1:9",
                     *common, "--probes-only")  # fmt: skip
    assert code == 0  # the automated items alone pass

    assert run(capsys, "check", "attest", str(gate), "ops.rollback_rehearsed", "pass",
               "--note", "rehearsed in 4 min", "--as", "olga", *common)[0] == 0  # fmt: skip
    assert run(capsys, "check", "authorize", str(gate), "--as", "rita", *common)[0] == 2
    for role, who in (("Operations", "olga"), ("QA", "quinn")):
        assert run(capsys, "check", "signoff", str(gate), "--role", role, "--as", who,
                   *common)[0] == 0  # fmt: skip
    code, out, _ = run(capsys, "check", "authorize", str(gate), "--as", "rita", *common)
    assert (code, out.strip()) == (0, "release_gate 2.0.0 (staging): deployment authorized by rita")
    code, out, _ = run(capsys, "check", "status", str(gate), "--json", *common)
    status = json.loads(out)
    assert status["ready"] and status["authorized"] and status["missing_roles"] == []
    assert status["target"] == "http://127.0.0.1:9" and status["targets"] == [status["target"]]
    assert status["items"][0]["target"] == "http://127.0.0.1:9"

    gate.write_text(CHECKLIST.format(free=100))  # the disk now fails its (new) threshold
    code, _, _ = run(capsys, "check", "run", str(gate), "--target", "http://127.0.0.1:9",
                     *common)  # fmt: skip
    status = json.loads(run(capsys, "check", "status", str(gate), "--json", *common)[1])
    assert code == 1 and not status["authorized"]  # the change voided the authorization
    assert status["missing_roles"] == ["Operations", "QA"]

    code, _, _ = run(capsys, "check", "waive", str(gate), "infra.disk", "--justification",
                     "disk swap scheduled", "--role", "Infrastructure", "--days", "2",
                     "--as", "ivan", *common)  # fmt: skip
    assert code == 0
    status = json.loads(run(capsys, "check", "status", str(gate), "--json", *common)[1])
    disk = status["items"][0]
    assert status["ready"] and disk["status"] == "waived"
    assert disk["waiver"]["justification"] == "disk swap scheduled" and disk["waiver"]["valid"]

    code, out, _ = run(capsys, "check", "history", str(gate), "infra.disk", "--json", *common)
    verdicts = [(h["verdict"], h["source"]) for h in json.loads(out)]
    assert code == 0 and verdicts == [("pass", "probe"), ("pass", "probe"), ("fail", "probe")]

    settings = load_settings()
    store = Store(settings.resolved_database_url)
    actions = [e.action for e in read_entries(store)]
    store.dispose()
    assert actions == ["check.run", "check.run", "check.attest", "deployment.refused",
                       "check.signoff", "check.signoff", "deployment.authorized", "check.run",
                       "check.waive"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "run", "nope", "--target", "http://x"],
            "no built-in checklist 'nope'; known: monitoring, production",
        ),
        (["check", "attest", "GATE", "infra.disk", "pass", "--note", "n"], "decided by the probe"),
        (
            [
                "check",
                "waive",
                "GATE",
                "infra.disk",
                "--justification",
                "j",
                "--role",
                "Janitor",
                "--days",
                "1",
            ],
            "unknown role 'Janitor'",
        ),
        (["check", "signoff", "GATE", "--role", "Cook"], "unknown role 'Cook'"),
    ],
)
def test_usage_errors_exit_2_naming_the_problem(
    gate: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *[str(gate) if a == "GATE" else a for a in args])
    assert code == 2 and message in err


def test_a_broken_checklist_file_names_its_line_and_field(
    gate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gate.write_text(CHECKLIST.format(free=1).replace('severity = "advisory"', 'severity = "meh"'))
    code, _, err = run(capsys, "check", "run", str(gate), "--target", "http://x")
    assert code == 2 and f"{gate}:" in err and "severity" in err


async def test_check_status_shows_the_consoles_attestations_without_release(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console and the CLI resolve the default release the same way (QD_RELEASE, else
    the running version): what one records, the other reads, with no --release."""
    from core import __version__
    from core.access import Role
    from tests.console.frozen import frozen_app
    from tests.console.pilot import wait_until
    from tests.console.test_readiness_screen import fill

    app = frozen_app(isolated_environment, role=Role.RELEASE_MANAGER, user="rita")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        tree = app.screen.query_one("ChecklistTree")
        await wait_until(pilot, lambda: tree.state is not None)
        assert tree.state.release.version == __version__
        tree.select_item("security.data_at_rest")
        await pilot.press("t")
        await fill(pilot, verdict="pass", note="schemas on every route")
        await wait_until(pilot, lambda: tree.state.items and any(
            s.result is not None for s in tree.state.items))  # fmt: skip
    app.deck.store.dispose()
    out = run(capsys, "check", "status", "production", "--json")[1]
    status = json.loads(out)
    assert status["version"] == __version__
    item = next(i for i in status["items"] if i["id"] == "security.data_at_rest")
    assert (item["verdict"], item["actor"]) == ("pass", "rita")


def test_qd_release_is_the_default_release_of_the_cli(
    gate: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QD_RELEASE", "7.1.0")
    code = run(capsys, "check", "attest", str(gate), "ops.rollback_rehearsed", "pass",
               "--note", "rehearsed", "--as", "olga")[0]  # fmt: skip
    assert code == 0
    status = json.loads(run(capsys, "check", "status", str(gate), "--json")[1])
    assert status["version"] == "7.1.0"
    rehearsed = next(i for i in status["items"] if i["id"] == "ops.rollback_rehearsed")
    assert rehearsed["actor"] == "olga"
