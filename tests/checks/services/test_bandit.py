"""code.bandit on throwaway projects, and on Quarterdeck's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.probes import REGISTRY
from checks.probes.code import BanditParams, bandit
from core.events import Verdict

from .conftest import MakeContext

REPO = Path(__file__).resolve().parents[3]

BAD = """\
import subprocess

import yaml


def run(command):
    return subprocess.call(command, shell=True)


def load(text):
    return yaml.load(text)
"""

CLEAN = """\
import json


def load(text):
    return json.loads(text)
"""


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_bandit_probe_is_registered_with_its_defaults() -> None:
    assert REGISTRY.get("code.bandit").params is BanditParams
    defaults = BanditParams()
    assert defaults.paths == ["core", "checks", "console"]
    assert (defaults.max_severity, defaults.min_confidence, defaults.exclude) == (
        "MEDIUM", "MEDIUM", ["tests"],
    )  # fmt: skip


async def test_shell_injection_and_unsafe_yaml_fail(tmp_path: Path, make_ctx: MakeContext):
    root = project(tmp_path / "p", {"app/bad.py": BAD, "app/ok.py": CLEAN})
    result = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"]))
    assert result.verdict is Verdict.FAIL
    evidence = result.evidence
    assert evidence["blocking"] == 2
    assert evidence["findings_by_severity"]["HIGH"] == 1  # B602 shell=True
    assert evidence["findings_by_severity"]["MEDIUM"] == 1  # B506 yaml.load
    first = evidence["first_blocking"]
    assert first[0].startswith("app/bad.py:7 B602 HIGH/HIGH")
    assert first[1].startswith("app/bad.py:11 B506 MEDIUM/HIGH")
    assert result.reason.startswith("2 finding(s) at MEDIUM severity or above")
    # Only HIGH counts when asked: the shell call still fails the probe, alone.
    only_high = BanditParams(paths=["app"], max_severity="HIGH")
    high = await bandit(make_ctx(project_dir=root), only_high)
    assert high.verdict is Verdict.FAIL and high.evidence["blocking"] == 1


async def test_clean_project_passes(tmp_path: Path, make_ctx: MakeContext) -> None:
    root = project(tmp_path / "p", {"app/ok.py": CLEAN, "tests/test_bad.py": BAD})
    result = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app", "tests"]))
    # tests/ is excluded by default, so its bad file does not count.
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["findings_by_severity"] == {"HIGH": 0, "MEDIUM": 0, "LOW": 0}
    included = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app", "tests"],
                                                                     exclude=[]))  # fmt: skip
    assert included.verdict is Verdict.FAIL


async def test_an_unchanged_tree_is_not_scanned_again(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    root = project(tmp_path / "p", {"app/ok.py": CLEAN})
    first = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"]))
    assert first.evidence["tree_unchanged_since_last_scan"] is False
    again = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"]))
    assert again.evidence["tree_unchanged_since_last_scan"] is True
    assert again.verdict is Verdict.PASS
    (root / "app/ok.py").write_text(BAD)  # the same name, other bytes: scanned again
    changed = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"]))
    assert changed.evidence["tree_unchanged_since_last_scan"] is False
    assert changed.verdict is Verdict.FAIL
    other = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"], exclude=[]))
    assert other.evidence["tree_unchanged_since_last_scan"] is False  # another command


async def test_nosec_comment_is_honoured(tmp_path: Path, make_ctx: MakeContext) -> None:
    justified = BAD.replace("shell=True)", "shell=True)  # nosec B602  fixed command").replace(
        "yaml.load(text)", "yaml.safe_load(text)"
    )
    root = project(tmp_path / "p", {"app/ok.py": justified})
    result = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"]))
    assert result.verdict is Verdict.PASS, result.reason
    assert "below the threshold" in result.reason  # import subprocess (B404, LOW) remains


async def test_unparsable_file_warns(tmp_path: Path, make_ctx: MakeContext) -> None:
    root = project(tmp_path / "p", {"app/broken.py": "def (:\n"})
    result = await bandit(make_ctx(project_dir=root), BanditParams(paths=["app"]))
    assert result.verdict is Verdict.WARN
    assert "could not read 1 file(s)" in result.reason


@pytest.mark.parametrize(
    ("target", "params", "reason"),
    [
        ({}, {}, "target.project_dir is not set"),
        ({"project_dir": Path("/")}, {"paths": ["no-such-dir"]}, "path(s) no-such-dir not found"),
    ],
)
async def test_bad_configuration_is_an_error(
    make_ctx: MakeContext, target: dict, params: dict, reason: str
) -> None:
    result = await bandit(make_ctx(**target), BanditParams(**params))
    assert result.verdict is Verdict.ERROR
    assert reason in result.reason


async def test_quarterdecks_own_code_has_no_medium_or_high_findings(make_ctx: MakeContext):
    """core/, checks/ and console/ pass the default policy. The LOW findings left are
    asserts that narrow types (B101) and Verdict.PASS = "pass" (B105, not a password)."""
    result = await bandit(make_ctx(project_dir=REPO), BanditParams())
    assert result.verdict is Verdict.PASS, result.evidence["first_blocking"]
    assert result.evidence["findings_by_severity"]["HIGH"] == 0
    assert result.evidence["findings_by_severity"]["MEDIUM"] == 0
    assert result.evidence["parse_errors"] == []
