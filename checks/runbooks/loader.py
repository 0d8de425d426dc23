"""Loading runbooks from TOML files, with errors that name file, line and field.

The error reporting is the catalog's (``checks.catalog.errors`` and
``checks.catalog.source_map``): a broken runbook raises ``RunbookError``, a
``ChecklistError`` whose ``str()`` is one ``file:line: field: message`` per problem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from checks.catalog.errors import ChecklistError, Problem
from checks.catalog.loader import _syntax_problem
from checks.catalog.models import StrictModel
from checks.catalog.source_map import SourceMap, format_path, scan
from checks.probes.registry import ProbeRegistry
from checks.runbooks.models import Runbook, RunbookHeader, Steps

#: Where the built-in runbooks live (beside this module).
RUNBOOK_DIR = Path(__file__).resolve().parent


class RunbookError(ChecklistError):
    """A runbook file that cannot be loaded."""


class _RunbookFile(StrictModel):
    runbook: RunbookHeader
    steps: Steps


def load_runbook(path: Path | str, *, registry: ProbeRegistry | None = None) -> Runbook:
    """Read and validate one runbook file; probe steps are checked against ``registry``
    (the built-in probe registry by default). Raises ``RunbookError``."""
    path = Path(path)
    source = _read(path)
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise RunbookError(path, [_syntax_problem(exc, source)]) from None

    source_map = scan(source)
    problems = _duplicate_ids(data, source_map)
    context = {"registry": registry} if registry is not None else None
    try:
        document = _RunbookFile.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [_validation_problem(error, data, source_map) for error in exc.errors()]
        raise RunbookError(path, problems) from None
    if problems:
        raise RunbookError(path, problems)
    return Runbook(**document.runbook.model_dump(), steps=document.steps)


def builtin_runbooks(*, registry: ProbeRegistry | None = None) -> dict[str, Runbook]:
    """Every runbook shipped in ``checks/runbooks/*.toml``, by runbook id."""
    runbooks: dict[str, Runbook] = {}
    for path in sorted(RUNBOOK_DIR.glob("*.toml")):
        runbook = load_runbook(path, registry=registry)
        if runbook.id in runbooks:
            message = f"runbook id {runbook.id!r} is already used by another runbook file"
            raise RunbookError(path, [Problem(None, None, "runbook.id", message)])
        runbooks[runbook.id] = runbook
    return runbooks


def builtin_runbook(runbook_id: str, *, registry: ProbeRegistry | None = None) -> Runbook:
    """One built-in runbook by id (e.g. ``"rollback"``)."""
    runbooks = builtin_runbooks(registry=registry)
    try:
        return runbooks[runbook_id]
    except KeyError:
        known = ", ".join(sorted(runbooks)) or "none"
        raise KeyError(f"no built-in runbook {runbook_id!r}; known: {known}") from None


def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunbookError(path, [Problem(None, None, "", f"cannot read file: {exc}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not valid UTF-8 (byte {raw[exc.start]:#04x})"
        raise RunbookError(path, [Problem(line, None, "", message)]) from None


def _duplicate_ids(data: dict[str, Any], source_map: SourceMap) -> list[Problem]:
    steps = data.get("steps")
    if not isinstance(steps, list):
        return []
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, step in enumerate(steps):
        step_id = step.get("id") if isinstance(step, dict) else None
        if not isinstance(step_id, str):
            continue
        if step_id in first:
            loc = ("steps", index, "id")
            message = f"duplicate step id {step_id!r} (first used by steps[{first[step_id]}])"
            problems.append(Problem(source_map.line_for(loc), None, format_path(loc), message))
        else:
            first[step_id] = index
    return problems


def _validation_problem(error: Any, data: dict[str, Any], source_map: SourceMap) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        message = f"missing required field {loc[-1]!r}"
    elif kind == "extra_forbidden":
        message = f"unknown field {loc[-1]!r}"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if kind != "value_error":
            message += f", got {_short(error['input'])}"
    step_id = _step_id(data, loc)
    if step_id is not None and loc[2:] != ("id",):
        message += f" (step {step_id!r})"
    return Problem(source_map.line_for(loc), None, format_path(loc), message)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _step_id(data: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    if len(loc) < 2 or loc[0] != "steps" or not isinstance(loc[1], int):
        return None
    steps = data.get("steps")
    if not isinstance(steps, list) or loc[1] >= len(steps) or not isinstance(steps[loc[1]], dict):
        return None
    step_id = steps[loc[1]].get("id")
    return step_id if isinstance(step_id, str) else None
