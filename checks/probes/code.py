"""Static analysis probe: bandit over the project's source tree.

Bandit runs as a child process (``python -m bandit``, the interpreter running
Quarterdeck) in a worker thread, so the event loop never waits on it and a
crash inside bandit cannot take the process down. Its JSON report is read
back and judged here: findings at or above ``max_severity`` with at least
``min_confidence`` fail the probe. ``# nosec`` comments in the code are
honoured as bandit honours them (and counted in the evidence).
"""

from __future__ import annotations

import asyncio
import json
import subprocess  # nosec B404  runs bandit with a fixed argument list, no shell
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.registry import probe
from checks.probes.scan_cache import ScanCache, tree_digest
from core.config import Settings
from core.events import Verdict

Level = Literal["LOW", "MEDIUM", "HIGH"]
RANK = {"UNDEFINED": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}
SHOWN = 5  # findings quoted in the evidence


class BanditParams(ProbeParams):
    paths: list[str] = Field(default_factory=lambda: ["core", "checks", "console"], min_length=1)
    max_severity: Level = "MEDIUM"  # findings of this severity or higher fail
    min_confidence: Level = "MEDIUM"  # ... when bandit is at least this sure of them
    # Passed to bandit's --exclude, which drops a file when one of these is a glob
    # matching its path or simply a part of its path.
    exclude: list[str] = Field(default_factory=lambda: ["tests"])
    timeout_seconds: float = Field(default=300.0, gt=0)


def bandit_command(paths: list[str], exclude: list[str]) -> list[str]:
    command = [sys.executable, "-m", "bandit", "--recursive", "--format", "json", "--quiet"]
    if exclude:
        command += ["--exclude", ",".join(exclude)]
    return [*command, "--", *paths]


def run_bandit(project_dir: Path, command: list[str], timeout: float) -> dict[str, Any]:
    """Run bandit in ``project_dir``; its parsed JSON report.

    Bandit exits 1 when it finds anything, so the exit code alone says little;
    a report that does not parse is the failure that matters.
    """
    completed = subprocess.run(  # nosec B603  fixed argv: this interpreter, bandit, paths
        command, cwd=project_dir, capture_output=True, text=True, timeout=timeout, check=False
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        raise RuntimeError(
            f"bandit exited {completed.returncode} without a report: {' | '.join(tail)}"
        ) from None
    report["exit_code"] = completed.returncode
    return report


def cached_bandit(
    settings: Settings, project_dir: Path, paths: list[str], command: list[str], timeout: float
) -> tuple[dict[str, Any], bool]:
    """Bandit's report on the files under ``paths``, run again only when their bytes
    changed since the kept report (``scan_cache``: bandit takes the tree whole); and
    whether the kept one served."""
    names = [path.relative_to(project_dir).as_posix() for top in paths
             for path in (project_dir / top).rglob("*") if path.is_file()]  # fmt: skip
    digest = tree_digest(project_dir, names)
    cache = ScanCache(settings, "bandit", project_dir, [version("bandit"), command[1:]])
    kept = cache.load()
    if kept.get("digest") == digest and isinstance(kept.get("report"), dict):
        return kept["report"], True
    report = run_bandit(project_dir, command, timeout)
    cache.save({"digest": digest, "report": report})
    return report, False


def _location(finding: dict[str, Any]) -> str:
    return (
        f"{finding.get('filename')}:{finding.get('line_number')} {finding.get('test_id')} "
        f"{finding.get('issue_severity')}/{finding.get('issue_confidence')}: "
        f"{finding.get('issue_text')}"
    )


@probe("code.bandit", scopes=(Scope.TARGET,), params=BanditParams, needs=("project_dir",))
async def bandit(ctx: ProbeContext, params: BanditParams) -> ProbeResult:
    """Bandit finds no security issue of medium severity or worse in the source tree."""
    project_dir = ctx.target.project_dir
    if project_dir is None:
        return ProbeResult(Verdict.ERROR, "target.project_dir is not set")
    evidence: dict[str, object] = {
        "project_dir": str(project_dir),
        "paths": params.paths,
        "exclude": params.exclude,
        "max_severity": params.max_severity,
        "min_confidence": params.min_confidence,
    }
    missing = [path for path in params.paths if not (project_dir / path).exists()]
    if missing:
        reason = f"path(s) {', '.join(missing)} not found under target.project_dir {project_dir}"
        return ProbeResult(Verdict.ERROR, reason, evidence)
    command = bandit_command(params.paths, params.exclude)
    evidence["command"] = " ".join(command[1:])
    try:
        report, unchanged = await asyncio.to_thread(
            cached_bandit, ctx.settings, project_dir, params.paths, command, params.timeout_seconds
        )
        evidence["tree_unchanged_since_last_scan"] = unchanged
    except subprocess.TimeoutExpired:
        reason = f"bandit did not finish within {params.timeout_seconds:g}s"
        return ProbeResult(Verdict.ERROR, reason, evidence)
    except RuntimeError as exc:
        return ProbeResult(Verdict.ERROR, str(exc), evidence)

    findings: list[dict[str, Any]] = report.get("results", [])
    totals = report.get("metrics", {}).get("_totals", {})
    by_severity = Counter(str(f.get("issue_severity")) for f in findings)
    blocking = [
        f
        for f in findings
        if RANK.get(str(f.get("issue_severity")), 0) >= RANK[params.max_severity]
        and RANK.get(str(f.get("issue_confidence")), 0) >= RANK[params.min_confidence]
    ]
    blocking.sort(key=lambda f: (-RANK.get(str(f.get("issue_severity")), 0), _location(f)))
    errors = report.get("errors", [])
    evidence.update(
        findings_by_severity={lvl: by_severity.get(lvl, 0) for lvl in ("HIGH", "MEDIUM", "LOW")},
        blocking=len(blocking),
        first_blocking=[_location(f) for f in blocking[:SHOWN]],
        lines_scanned=totals.get("loc"),
        nosec_comments=totals.get("nosec"),
        parse_errors=[f"{e.get('filename')}: {e.get('reason')}" for e in errors[:SHOWN]],
    )
    if blocking:
        worst = _location(blocking[0])
        reason = (
            f"{len(blocking)} finding(s) at {params.max_severity} severity or above "
            f"(confidence {params.min_confidence}+), e.g. {worst}"
        )
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if errors:
        reason = f"bandit could not read {len(errors)} file(s), e.g. {evidence['parse_errors'][0]}"  # type: ignore[index]
        return ProbeResult(Verdict.WARN, reason, evidence)
    below = sum(by_severity.values())
    reason = f"no finding at {params.max_severity}+ in {', '.join(params.paths)}"
    if below:
        reason += f" ({below} below the threshold)"
    return ProbeResult(Verdict.PASS, reason, evidence)
