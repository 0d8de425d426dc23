"""The target's files a probe reads: its source tree and its release's CI reports.

``project_dir`` and ``reports_dir`` give the folder an item examines or raise
``OutOfReach`` naming the setting. ``read_json``, ``read_toml`` and ``read_xml``
parse one file or raise ``BadInput`` naming the file, the line where the parser
gives one, and what is wrong; a probe turns that into an ERROR result with
``bad_input``, never a traceback.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

# defusedxml is not installed in this project; these are reports written by the release's
# own CI, and the stdlib parser (expat >= 2.4) already refuses entity-expansion bombs.
from xml.etree import ElementTree  # nosec B405  our own CI's reports, see above

from checks.probes.base import ProbeContext, ProbeResult
from checks.probes.reach import OutOfReach
from core.events import Verdict


class BadInput(Exception):
    """A file the probe reads is missing, unreadable or malformed."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


def bad_input(exc: BadInput, evidence: dict[str, object] | None = None) -> ProbeResult:
    """The ERROR result for ``exc``: the reason names the file and line, so does evidence."""
    located = {"file": str(exc.path), **({"line": exc.line} if exc.line is not None else {})}
    return ProbeResult(Verdict.ERROR, str(exc), {**(evidence or {}), **located})


def _folder(value: Path | None, field: str, env: str, what: str) -> Path:
    if value is None:
        raise OutOfReach(f"target.{field} is not set: give {what} with {env}", field)
    if not value.is_dir():
        raise OutOfReach(f"target.{field} {value} is not a directory ({env})", field)
    return value


def project_dir(ctx: ProbeContext) -> Path:
    """The target's source tree (``QD_CHECK_PROJECT_DIR``)."""
    return _folder(ctx.target.project_dir, "project_dir", "QD_CHECK_PROJECT_DIR",
                   "the target's source tree")  # fmt: skip


def reports_dir(ctx: ProbeContext) -> Path:
    """The folder of the release's CI reports (``QD_CHECK_REPORTS_DIR``)."""
    return _folder(ctx.target.reports_dir, "reports_dir", "QD_CHECK_REPORTS_DIR",
                   "the folder of the release's CI reports")  # fmt: skip


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput(path, "not found") from None
    except OSError as exc:
        raise BadInput(path, f"cannot be read: {exc.strerror or exc}") from None


def read_text(path: Path) -> str:
    try:
        return read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise BadInput(
            path, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno
        ) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the place in its message: "... (at line 3, column 7)"
        raise BadInput(path, f"not valid TOML: {exc}") from None


def read_xml(path: Path) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(read_bytes(path))  # nosec B314  see the import above
    except ElementTree.ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":", 1)[0]  # expat's text without its own "line 3, column 4"
        raise BadInput(path, f"not valid XML: {message} (column {column})", line) from None
