"""``deps.audit``: no known vulnerability in the target's dependencies, from the release's
``pip-audit --format json`` report.

Quarterdeck does not query a vulnerability database itself (the probe host may have no
route to one); the release's CI runs pip-audit and leaves its report in the reports
folder. The probe judges that report: fresh enough (its file's age: pip-audit writes no
timestamp), free of vulnerabilities not explicitly ignored (by id or alias, as pip-audit's
``--ignore-vuln`` matches), and covering every version the tree pins, so a report of some
other environment cannot pass for this one.

The format, as pip-audit 2.x writes it::

    {"dependencies": [
        {"name": "jinja2", "version": "3.1.2",
         "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"],
                    "aliases": ["CVE-2024-22195"], "description": "..."}]},
        {"name": "quarterdeck", "skip_reason": "Dependency not found on PyPI ..."}],
     "fixes": [{"name": "jinja2", "old_version": "3.1.2", "new_version": "3.1.3"}]}

(``aliases`` and ``description`` only with ``--aliases`` and ``--desc``.)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.inputs import BadInput, bad_input, project_dir, read_json, reports_dir
from checks.probes.locks import tree_pins
from checks.probes.registry import probe
from core.events import Verdict

SHOWN = 10  # findings quoted in the evidence
DAY_S = 86_400.0


class AuditParams(ProbeParams):
    report: str = Field(default="pip-audit.json", min_length=1)  # in the reports folder
    #: Vulnerability ids (or aliases, such as a CVE) accepted for this release.
    ignore: list[str] = Field(default_factory=list)
    max_age_days: float = Field(default=7.0, gt=0)


@dataclass(frozen=True, slots=True)
class Vulnerability:
    id: str
    fix_versions: tuple[str, ...]
    aliases: frozenset[str]

    def matches(self, ids: set[str]) -> bool:
        return self.id in ids or bool(self.aliases & ids)


@dataclass(frozen=True, slots=True)
class Audited:
    """One entry of the report: a resolved dependency with its vulnerabilities, or one
    pip-audit skipped (``version`` None, ``skip_reason`` set)."""

    name: str  # canonical
    version: str | None
    vulns: tuple[Vulnerability, ...] = ()
    skip_reason: str | None = None


def parse_report(path: Path, data: Any) -> list[Audited]:
    """The dependencies of a pip-audit JSON report; ``BadInput`` naming what is off."""
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise BadInput(path, "not a pip-audit JSON report: no 'dependencies' array at the top")
    audited = []
    for index, entry in enumerate(data["dependencies"]):
        where = f"dependencies[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise BadInput(path, f"{where} has no 'name'")
        name = canonicalize_name(entry["name"])
        if "skip_reason" in entry:
            audited.append(Audited(name, None, skip_reason=str(entry["skip_reason"])))
            continue
        if not isinstance(entry.get("version"), str) or not isinstance(entry.get("vulns"), list):
            raise BadInput(path, f"{where} ({name}) needs 'version' and a 'vulns' array, "
                                 "or a 'skip_reason'")  # fmt: skip
        vulns = []
        for number, vuln in enumerate(entry["vulns"]):
            if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str):
                raise BadInput(path, f"{where}.vulns[{number}] ({name}) has no 'id'")
            vulns.append(Vulnerability(
                vuln["id"], tuple(str(v) for v in vuln.get("fix_versions") or ()),
                frozenset(str(a) for a in vuln.get("aliases") or ())))  # fmt: skip
        audited.append(Audited(name, entry["version"], tuple(vulns)))
    return audited


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def uncovered(audited: list[Audited], pins: dict[str, set[str]]) -> list[str]:
    """Pinned ``name==version`` the report did not audit (skipped entries count as listed)."""
    by_name: dict[str, list[Audited]] = {}
    for entry in audited:
        by_name.setdefault(entry.name, []).append(entry)
    missing = []
    for name, versions in sorted(pins.items()):
        entries = by_name.get(name, [])
        if any(entry.version is None for entry in entries):
            continue
        for version in sorted(versions):
            if not any(_same_version(version, str(entry.version)) for entry in entries):
                seen = ", ".join(str(entry.version) for entry in entries)
                audited_instead = f" (it audited {seen})" if seen else ""
                missing.append(f"{name}=={version}{audited_instead}")
    return missing


def _finding(entry: Audited, vuln: Vulnerability) -> str:
    fixes = f"fix: {', '.join(vuln.fix_versions)}" if vuln.fix_versions else "no fix yet"
    return f"{entry.name}=={entry.version}: {vuln.id} ({fixes})"


def _judge(path: Path, project: Path | None, params: AuditParams) -> ProbeResult:
    evidence: dict[str, object] = {"report": str(path)}
    if not path.is_file():
        reason = (f"{path}: not found; the release's CI writes it with "
                  f"`pip-audit --format json --output {path.name}`")  # fmt: skip
        return ProbeResult(Verdict.ERROR, reason, {**evidence, "file": str(path)})
    age_days = (time.time() - path.stat().st_mtime) / DAY_S
    evidence["age_days"] = round(age_days, 2)
    if age_days > params.max_age_days:
        reason = (f"{path} is {age_days:.1f} days old, over max_age_days "
                  f"{params.max_age_days:g}: audit the release again")  # fmt: skip
        return ProbeResult(Verdict.ERROR, reason, evidence)
    try:
        audited = parse_report(path, read_json(path))
        pins = tree_pins(project) if project is not None else None
    except BadInput as exc:
        return bad_input(exc, evidence)
    ignored = set(params.ignore)
    found = [(entry, vuln) for entry in audited for vuln in entry.vulns]
    blocking = [_finding(entry, vuln) for entry, vuln in found if not vuln.matches(ignored)]
    missing = uncovered(audited, pins.versions) if pins is not None else []
    skipped = [f"{entry.name}: {entry.skip_reason}" for entry in audited
               if entry.skip_reason is not None]  # fmt: skip
    evidence.update(
        dependencies=len(audited), skipped=skipped[:SHOWN],
        vulnerabilities=len(found), ignored=len(found) - len(blocking),
        blocking=blocking[:SHOWN],
        coverage_checked_against=pins.files if pins is not None else "no project_dir given",
        not_covered=missing[:SHOWN],
    )  # fmt: skip
    problems = [*blocking, *(f"report does not cover {m}" for m in missing)]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return ProbeResult(Verdict.FAIL, "; ".join(problems[:3]) + more, evidence)
    reason = f"no known vulnerability in {len(audited) - len(skipped)} audited dependencies"
    notes = [f"{len(skipped)} skipped by pip-audit"] if skipped else []
    notes += [f"{evidence['ignored']} ignored"] if evidence["ignored"] else []
    if notes:
        reason += f" ({', '.join(notes)})"
    return ProbeResult(Verdict.PASS, reason, evidence)


@probe("deps.audit", scopes=(Scope.TARGET,), params=AuditParams, needs=("reports_dir",))
async def audit(ctx: ProbeContext, params: AuditParams) -> ProbeResult:
    """The release's pip-audit report is fresh, covers the tree's pins, has no open vulnerability.

    The coverage of the tree's pins is checked when ``project_dir`` is given."""
    folder = reports_dir(ctx)
    project = project_dir(ctx) if ctx.target.project_dir is not None else None
    return await asyncio.to_thread(_judge, folder / params.report, project, params)
