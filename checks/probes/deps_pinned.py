"""``deps.pinned``: the target's tree pins its dependencies, and the pins satisfy what the
project declares.

Pinned means a lock file (uv.lock, poetry.lock, pdm.lock, Pipfile.lock) or requirements
files whose every requirement is held to one version with ``==`` (or to one artefact by a
hashed URL or a commit). Current means every dependency of ``[project].dependencies`` in
``pyproject.toml`` (those whose marker applies here) is pinned to a version its specifier
allows: a lock written before the last change of the declared dependencies fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.inputs import BadInput, bad_input, project_dir, read_toml
from checks.probes.locks import (
    LOCK_FILES,
    Pins,
    RequirementLine,
    lock_files,
    parse_requirements,
    requirement_files,
    tree_pins,
)
from checks.probes.registry import probe
from core.events import Verdict

SHOWN = 10  # problems quoted in the evidence


class PinnedParams(ProbeParams):
    #: Every requirement line must also carry ``--hash`` (pip's hash-checking mode).
    require_hashes: bool = False
    #: Also check the pins against ``pyproject.toml``'s ``[project].dependencies``.
    current: bool = True


@dataclass(slots=True)
class Findings:
    unpinned: list[str] = field(default_factory=list)
    unhashed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    pinned_by: list[Path] = field(default_factory=list)  # lock and requirement files


def stale_pins(pyproject: Path, pins: Pins) -> list[str]:
    """Declared dependencies that no pin satisfies."""
    project = read_toml(pyproject).get("project") or {}
    declared = (project.get("dependencies") or []) if isinstance(project, dict) else []
    stale = []
    for index, text in enumerate(declared):
        try:
            requirement = Requirement(str(text))
            applies = requirement.marker is None or requirement.marker.evaluate({"extra": ""})
        except (InvalidRequirement, UndefinedEnvironmentName) as exc:
            problem = str(exc).splitlines()[0]
            raise BadInput(
                pyproject, f"project.dependencies[{index}] {text!r}: {problem}"
            ) from None
        if not applies:
            continue
        versions = pins.versions.get(canonicalize_name(requirement.name))
        if not versions:
            stale.append(f"{requirement} is declared in pyproject.toml but pinned nowhere")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            pinned = ", ".join(sorted(versions))
            stale.append(f"pyproject.toml requires {requirement} but the lock pins {pinned}")
    return stale


def _examine(root: Path, params: PinnedParams) -> tuple[Findings, dict[str, object]]:
    findings = Findings()
    requirements: list[RequirementLine] = []
    findings.pinned_by = lock_files(root)
    for path in requirement_files(root):
        lines = parse_requirements(path)
        if lines:
            findings.pinned_by.append(path)
        requirements += lines
    for requirement in requirements:
        if not requirement.pinned:
            findings.unpinned.append(f"{requirement.place}: {requirement.text}")
        elif params.require_hashes and not requirement.hashed:
            findings.unhashed.append(f"{requirement.place}: {requirement.text}")
    pins = tree_pins(root)
    pyproject = root / "pyproject.toml"
    if params.current and pins.files and pyproject.is_file():
        findings.stale = stale_pins(pyproject, pins)
    evidence: dict[str, object] = {
        "project_dir": str(root),
        "pinned_by": [str(path) for path in findings.pinned_by],
        "requirements": len(requirements),
        "pinned": sum(r.pinned for r in requirements),
        "hashed": sum(r.hashed for r in requirements),
        "packages_pinned": len(pins.versions),
        "unpinned": findings.unpinned[:SHOWN],
        "unhashed": findings.unhashed[:SHOWN],
        "stale": findings.stale[:SHOWN],
    }
    return findings, evidence


def _some(problems: list[str]) -> str:
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


@probe("deps.pinned", scopes=(Scope.TARGET,), params=PinnedParams, needs=("project_dir",))
async def pinned(ctx: ProbeContext, params: PinnedParams) -> ProbeResult:
    """Dependencies pinned and current: a lock, or ``==`` requirements, satisfying pyproject.

    Every requirements*.txt line must be pinned, whatever lock sits beside it."""
    root = project_dir(ctx)
    try:
        findings, evidence = await asyncio.to_thread(_examine, root, params)
    except BadInput as exc:
        return bad_input(exc, {"project_dir": str(root)})
    if findings.unpinned:
        reason = f"{len(findings.unpinned)} unpinned requirement(s): {_some(findings.unpinned)}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if not findings.pinned_by:
        reason = (f"no lock file ({', '.join(LOCK_FILES)}) and no requirements*.txt "
                  f"in {root}: nothing pins the dependencies")  # fmt: skip
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if findings.unhashed:
        reason = (f"{len(findings.unhashed)} requirement(s) without --hash: "
                  f"{_some(findings.unhashed)}")  # fmt: skip
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if findings.stale:
        reason = f"the pins are not current: {_some(findings.stale)}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    held = ", ".join(str(path.relative_to(root)) for path in findings.pinned_by)
    reason = f"{evidence['packages_pinned']} package(s) pinned by {held}"
    if evidence["requirements"]:
        reason += f"; {evidence['hashed']}/{evidence['requirements']} requirement(s) with hashes"
    return ProbeResult(Verdict.PASS, reason, evidence)
