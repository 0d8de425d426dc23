"""What a source tree pins: its lock files and its ``requirements*.txt`` files.

Shared by ``deps.pinned`` (is every dependency pinned, and does the lock satisfy what the
project declares) and ``deps.audit`` (does the vulnerability report cover every pin).
Malformed files raise ``BadInput`` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from checks.probes.inputs import BadInput, read_json, read_text, read_toml

#: Lock files, by the tool that writes them; each pins every package it lists.
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
#: Requirement files, relative to the tree's root.
REQUIREMENT_GLOBS = ("requirements*.txt", "requirements/*.txt")
#: A URL that names one immutable artefact: a file hash, or a VCS commit.
_IMMUTABLE_URL = re.compile(r"[#&](sha256|sha384|sha512)=[0-9a-f]+|@[0-9a-f]{40}(#|$)", re.I)
#: Options of a requirements line that take no requirement (``--hash`` is read apart).
_OPTION = re.compile(r"^\s*(-[a-zA-Z]|--[a-z-]+)")
_LOCAL_PATH = re.compile(r"^(\.{1,2}(/|$)|/|file:)")


@dataclass(frozen=True, slots=True)
class RequirementLine:
    """One requirement of a requirements file, where it is, and how tightly it is held."""

    path: Path
    line: int
    text: str
    name: str  # canonical; for an editable install, its target
    pinned_version: str | None  # the ``==`` version, None when not pinned to one
    hashed: bool
    immutable_url: bool = False  # ``name @ url`` naming a hash or a commit

    @property
    def pinned(self) -> bool:
        return self.pinned_version is not None or self.immutable_url

    @property
    def place(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(slots=True)
class Pins:
    """Every ``name == version`` a tree pins, and the files that say so."""

    versions: dict[str, set[str]] = field(default_factory=dict)  # canonical name -> versions
    files: list[str] = field(default_factory=list)

    def add(self, name: str, version: str) -> None:
        self.versions.setdefault(canonicalize_name(name), set()).add(version)


def requirement_files(root: Path) -> list[Path]:
    found = {path for pattern in REQUIREMENT_GLOBS for path in root.glob(pattern)}
    return sorted(path for path in found if path.is_file())


def lock_files(root: Path) -> list[Path]:
    return [root / name for name in LOCK_FILES if (root / name).is_file()]


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with ``\\`` continuations joined and comments removed, numbered by their first."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = re.sub(r"(^|\s)#.*$", "", pending + raw).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


def parse_requirements(path: Path) -> list[RequirementLine]:
    """The requirements of one pip requirements file (options other than ``-e`` skipped;
    an editable install of a local path is the project's own code and skipped too)."""
    found: list[RequirementLine] = []
    for number, line in _logical_lines(read_text(path)):
        hashed = "--hash" in line
        line = re.sub(r"\s--hash[=\s]\S+", "", line).strip()
        editable = re.match(r"^(-e|--editable)[=\s]+(.+)$", line)
        if editable:
            target = editable.group(2).strip()
            if not _LOCAL_PATH.match(target):
                immutable = bool(_IMMUTABLE_URL.search(target))
                found.append(RequirementLine(path, number, line, target, None, hashed, immutable))
            continue
        if _OPTION.match(line):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            problem = str(exc).splitlines()[0]  # packaging adds the line and a caret below
            raise BadInput(path, f"not a requirement: {problem}", number) from None
        found.append(_judged(requirement, path, number, line, hashed))
    return found


def _judged(
    requirement: Requirement, path: Path, number: int, line: str, hashed: bool
) -> RequirementLine:
    specs = list(requirement.specifier)
    exact = (
        specs[0].version
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version
        else None
    )
    immutable = bool(requirement.url and _IMMUTABLE_URL.search(requirement.url))
    name = canonicalize_name(requirement.name)
    return RequirementLine(path, number, line, name, exact, hashed, immutable)


def locked_packages(path: Path) -> list[tuple[str, str]]:
    """``(name, version)`` of every package a lock file pins (the project itself left out)."""
    if path.name == "Pipfile.lock":
        data = read_json(path)
        if not isinstance(data, dict):
            raise BadInput(path, "not a Pipfile.lock: the top level is not an object")
        return [
            (name, str(entry.get("version", "")).lstrip("="))
            for section in ("default", "develop")
            for name, entry in (data.get(section) or {}).items()
            if isinstance(entry, dict) and entry.get("version")
        ]
    packages = read_toml(path).get("package", [])
    if not isinstance(packages, list):
        raise BadInput(path, "its 'package' entries are not an array of tables")
    return [
        (str(entry["name"]), str(entry["version"]))
        for entry in packages
        if isinstance(entry, dict) and "name" in entry and "version" in entry
        and not _is_local(entry.get("source"))
    ]  # fmt: skip


def _is_local(source: Any) -> bool:
    """uv.lock marks the project itself (and workspace members) with a local source."""
    return isinstance(source, dict) and bool({"editable", "virtual", "directory"} & set(source))


def tree_pins(root: Path) -> Pins:
    """Every pin of the tree's lock files and pinned requirement lines."""
    pins = Pins()
    for path in lock_files(root):
        pins.files.append(str(path))
        for name, version in locked_packages(path):
            pins.add(name, version)
    for path in requirement_files(root):
        pinned = [r for r in parse_requirements(path) if r.pinned_version is not None]
        if pinned:
            pins.files.append(str(path))
        for requirement in pinned:
            pins.add(requirement.name, str(requirement.pinned_version))
    return pins
