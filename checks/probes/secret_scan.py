"""``secrets.scan``: no secret (cloud keys, private keys, tokens, high-entropy strings) in
the target's tree, by detect-secrets, except those its baseline already accepts.

detect-secrets keeps its plugins and filters in one process-wide settings object, so scans
run one at a time (``_LOCK``) inside ``transient_settings``, which restores the settings
after. The tree's ``.secrets.baseline`` is honoured as ``detect-secrets-hook --baseline``
honours it: its plugins and filters configure the scan, and a finding is new unless the
baseline lists the same secret (file, type and hash) for that file. Exclusions (the
params' and the baseline's ``--exclude-files`` patterns) are regexes searched in each
file's path relative to the tree, as detect-secrets applies them when run from its root.

Findings name file, line and secret type; the secret itself is never reported.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess  # nosec B404  runs git ls-files with a fixed argument list
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.inputs import BadInput, bad_input, project_dir, read_json
from checks.probes.registry import probe
from checks.probes.scan_cache import ScanCache, file_digest
from core.config import Settings
from core.events import Verdict

if TYPE_CHECKING:  # detect-secrets is imported where a scan runs: it costs the console's start
    from detect_secrets.core.potential_secret import PotentialSecret
    from detect_secrets.core.secrets_collection import SecretsCollection

#: Folders that are not the project's own source: version control, environments, caches.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv",
                          "venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
                          ".ruff_cache"})  # fmt: skip
EXCLUDE_FILES_FILTER = "detect_secrets.filters.regex.should_exclude_file"
SHOWN = 20  # findings quoted in the evidence
_LOCK = threading.Lock()


class ScanParams(ProbeParams):
    #: Regexes searched in each file's path relative to the tree; a match is not scanned.
    exclude: list[str] = Field(default_factory=list)
    baseline: str = ".secrets.baseline"  # relative to the tree; honoured when present

    @field_validator("exclude")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


def _generated(folder: Path) -> bool:
    """Not the project's own files: version control, a virtualenv (``pyvenv.cfg``), a
    cache (tagged ``CACHEDIR.TAG``, as the Cache Directory Tagging Specification has
    caches say), or build metadata (``*.egg-info``)."""
    markers = ("pyvenv.cfg", "CACHEDIR.TAG")
    return (folder.name in SKIPPED_DIRS or folder.name.endswith(".egg-info")
            or any((folder / marker).is_file() for marker in markers))  # fmt: skip


def tree_files(root: Path, exclude: list[re.Pattern[str]], skip: set[str]) -> list[str]:
    """Regular files under ``root`` (relative, POSIX), minus symlinks and excluded paths:
    in a git checkout the files git tracks and the untracked ones it does not ignore, as
    detect-secrets' own scan takes them (build output and test artefacts are ignored);
    elsewhere every file outside generated folders."""
    candidates = _git_files(root)
    if candidates is None:
        candidates = _walked_files(root)
    found = []
    for relative in candidates:
        path = root / relative
        if relative in skip or path.is_symlink() or not path.is_file():
            continue
        if not any(pattern.search(relative) for pattern in exclude):
            found.append(relative)
    return found


def _git_files(root: Path) -> list[str] | None:
    """What ``git ls-files`` lists as the tree's files, or None when it is no checkout."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return None
    listed = subprocess.run(  # nosec B603 B607  fixed argv, no shell
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    if listed.returncode != 0:
        return None
    return sorted({name for name in listed.stdout.decode(errors="replace").split("\0") if name})


def _walked_files(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _generated(Path(folder, d)))
        found += [Path(folder, name).relative_to(root).as_posix() for name in sorted(files)]
    return found


def load_baseline(path: Path) -> tuple[dict[str, Any], SecretsCollection]:
    """The baseline's settings (upgraded to this detect-secrets' format) and its secrets."""
    from detect_secrets.core import baseline as ds_baseline
    from detect_secrets.core.secrets_collection import SecretsCollection

    data = read_json(path)
    try:
        upgraded = ds_baseline.upgrade(data)
        return upgraded, SecretsCollection.load_from_baseline(upgraded)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadInput(path, f"not a detect-secrets baseline: {type(exc).__name__} {exc}") from None


def _file_exclusions(settings: dict[str, Any]) -> list[str]:
    """The baseline's ``--exclude-files`` patterns, which we apply to relative paths."""
    for entry in settings.get("filters_used", []):
        if isinstance(entry, dict) and entry.get("path") == EXCLUDE_FILES_FILTER:
            pattern = entry.get("pattern", [])
            return [pattern] if isinstance(pattern, str) else list(pattern)
    return []


def scan(
    root: Path, params: ScanParams, settings_: Settings
) -> tuple[list[str], dict[str, object]]:
    """Findings (``file:line: type``) not in the baseline, and the evidence. Files whose
    bytes were scanned before with the same settings are not scanned again
    (``scan_cache``)."""
    from detect_secrets.__version__ import VERSION as detect_secrets_version
    from detect_secrets.core.potential_secret import PotentialSecret
    from detect_secrets.core.secrets_collection import SecretsCollection

    baseline_path = root / params.baseline
    settings: dict[str, Any] | None = None
    accepted = SecretsCollection()
    if baseline_path.is_file():
        settings, accepted = load_baseline(baseline_path)
    patterns = [*params.exclude, *(_file_exclusions(settings) if settings else [])]
    try:
        exclude = [re.compile(pattern) for pattern in patterns]
    except re.error as exc:
        raise BadInput(
            baseline_path, f"an --exclude-files pattern does not compile: {exc}"
        ) from None
    files = tree_files(root, exclude, {params.baseline})
    cache = ScanCache(settings_, "detect-secrets", root, [detect_secrets_version, settings])
    kept = cache.load()
    digests = {name: file_digest(root / name) for name in files}
    stale = [name for name in files if kept.get(name, {}).get("sha256") != digests[name]]
    results: dict[str, dict[str, Any]] = {
        name: {"sha256": digests[name], "secrets": [] if name in stale else kept[name]["secrets"]}
        for name in files
    }  # fmt: skip
    with _LOCK, ExitStack() as stack:
        try:
            stack.enter_context(_settings(settings))
        except (OSError, KeyError, TypeError, ValueError) as exc:  # a word list it cannot load...
            raise BadInput(baseline_path, f"its settings cannot be applied: {exc}") from None
        for name, secret in _scan_files(root, stale):
            secret.filename = name  # as the baseline names it: relative to the root
            results[name]["secrets"].append(secret.json())
    cache.save(results)
    found = SecretsCollection()
    for name, result in results.items():
        for data in result["secrets"]:
            found[name].add(PotentialSecret.load_secret_from_dict(data))
    new = found - accepted
    findings = [f"{name}:{secret.line_number}: {secret.type}" for name, secret in new]
    evidence: dict[str, object] = {
        "project_dir": str(root), "files_scanned": len(files),
        "files_unchanged_since_last_scan": len(files) - len(stale),
        "baseline": str(baseline_path) if settings is not None else None,
        "accepted_by_baseline": sum(1 for _ in found) - len(findings),
        "exclude": patterns, "finding_count": len(findings), "findings": findings[:SHOWN],
    }  # fmt: skip
    return findings, evidence


def _scan_files(root: Path, files: list[str]) -> Iterator[tuple[str, PotentialSecret]]:
    """Each secret found, with its file, scanned in this process. (A pool of spawned
    worker processes was tried and taken out: a full test run was left with two of them
    alive and idle, and the tests after them timing out; the scan cache makes a repeat
    scan instant anyway.)"""
    from detect_secrets.core.scan import scan_file

    for name in files:
        yield from ((name, secret) for secret in scan_file(str(root / name)))


def _settings(baseline: dict[str, Any] | None) -> AbstractContextManager[Any]:
    """The baseline's plugins and filters, minus the file-exclusion filter (its patterns are
    relative to the tree's root, and were applied in ``tree_files``); else the defaults."""
    from detect_secrets.settings import default_settings, transient_settings

    if baseline is None:
        return default_settings()
    if "filters_used" not in baseline:  # detect-secrets keeps its default filters then
        return transient_settings(baseline)
    filters = [f for f in baseline["filters_used"]
               if not (isinstance(f, dict) and f.get("path") == EXCLUDE_FILES_FILTER)]  # fmt: skip
    return transient_settings({**baseline, "filters_used": filters})


@probe("secrets.scan", scopes=(Scope.TARGET,), params=ScanParams, needs=("project_dir",))
async def secrets_scan(ctx: ProbeContext, params: ScanParams) -> ProbeResult:
    """detect-secrets finds no secret in the target's tree beyond those its baseline accepts.

    Each finding is named by file, line and type, never by value."""
    root = project_dir(ctx)
    try:
        findings, evidence = await asyncio.to_thread(scan, root, params, ctx.settings)
    except BadInput as exc:
        return bad_input(exc, {"project_dir": str(root)})
    if findings:
        more = f" (and {len(findings) - 3} more)" if len(findings) > 3 else ""
        reason = f"{len(findings)} secret(s) in the tree: {'; '.join(findings[:3])}{more}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    accepted = evidence["accepted_by_baseline"]
    reason = f"no secret in {evidence['files_scanned']} file(s) scanned"
    if accepted:
        reason += f" ({accepted} accepted by the baseline)"
    return ProbeResult(Verdict.PASS, reason, evidence)
