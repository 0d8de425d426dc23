"""Loading checklists from TOML files, with errors that point at the line to fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from checks.catalog.errors import ChecklistError, Problem
from checks.catalog.models import Checklist, ChecklistHeader, Items, StrictModel
from checks.catalog.source_map import SourceMap, format_path, leading_word, scan
from checks.probes.registry import ProbeRegistry

#: Where the built-in catalog files live (shipped as package data).
CATALOG_DIR = Path(__file__).resolve().parent

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")


class _CatalogFile(StrictModel):
    """The file's own shape: a ``[checklist]`` table and an array of ``[[items]]``."""

    checklist: ChecklistHeader
    items: Items


def load_checklist(path: Path | str, *, registry: ProbeRegistry | None = None) -> Checklist:
    """Read and validate one catalog file.

    Probe names (and their params) are checked against ``registry``, the
    built-in probe registry by default. Raises ``ChecklistError`` naming the
    file, line and field of every problem found.
    """
    path = Path(path)
    source = _read(path)
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise ChecklistError(path, [_syntax_problem(exc, source)]) from None

    source_map = scan(source)
    problems = _duplicate_ids(data, source_map)
    context = {"registry": registry} if registry is not None else None
    try:
        document = _CatalogFile.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [_validation_problem(error, data, source_map) for error in exc.errors()]
        raise ChecklistError(path, problems) from None
    if problems:
        raise ChecklistError(path, problems)
    return Checklist(**document.checklist.model_dump(), items=document.items)


def builtin_checklists(*, registry: ProbeRegistry | None = None) -> dict[str, Checklist]:
    """Every checklist shipped in ``checks/catalog/*.toml``, by checklist id."""
    checklists: dict[str, Checklist] = {}
    for path in sorted(CATALOG_DIR.glob("*.toml")):
        checklist = load_checklist(path, registry=registry)
        if checklist.id in checklists:
            message = f"checklist id {checklist.id!r} is already used by another catalog file"
            raise ChecklistError(path, [Problem(None, None, "checklist.id", message)])
        checklists[checklist.id] = checklist
    return checklists


def builtin_checklist(checklist_id: str, *, registry: ProbeRegistry | None = None) -> Checklist:
    """One built-in checklist by id (e.g. ``"production"``)."""
    checklists = builtin_checklists(registry=registry)
    try:
        return checklists[checklist_id]
    except KeyError:
        known = ", ".join(sorted(checklists)) or "none"
        raise KeyError(f"no built-in checklist {checklist_id!r}; known: {known}") from None


def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ChecklistError(path, [Problem(None, None, "", f"cannot read file: {exc}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not valid UTF-8 (byte {raw[exc.start]:#04x})"
        raise ChecklistError(path, [Problem(line, None, "", message)]) from None


def _syntax_problem(exc: tomllib.TOMLDecodeError, source: str) -> Problem:
    """tomllib puts the position in its message: ``... (at line 5, column 9)``."""
    message = str(exc)
    line: int | None = None
    column: int | None = None
    if match := _TOML_POSITION.search(message):
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()]
    elif match := _TOML_AT_END.search(message):
        line = max(len(source.splitlines()), 1)
        message = message[: match.start()] + " at end of file"
    field = ""
    if line is not None:
        source_map = scan(source)
        key = source_map.key_at(line)
        if key is None:
            text = source.splitlines()[line - 1] if line <= len(source.splitlines()) else ""
            word = leading_word(text)
            table = source_map.table_at(line)
            key = (*table, *word.split(".")) if word else table
        field = format_path(key)
    return Problem(line, column, field, f"TOML syntax error: {message}")


def _duplicate_ids(data: dict[str, Any], source_map: SourceMap) -> list[Problem]:
    items = data.get("items")
    if not isinstance(items, list):
        return []
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, item in enumerate(items):
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str):
            continue
        if item_id in first:
            loc = ("items", index, "id")
            message = f"duplicate item id {item_id!r} (first used by items[{first[item_id]}])"
            problems.append(Problem(source_map.line_for(loc), None, format_path(loc), message))
        else:
            first[item_id] = index
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
    item_id = _item_id(data, loc)
    if item_id is not None and loc[2:] != ("id",):
        message += f" (item {item_id!r})"
    return Problem(source_map.line_for(loc), None, format_path(loc), message)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _item_id(data: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    """The id of the item an error is in, to make the message easy to act on."""
    if len(loc) < 2 or loc[0] != "items" or not isinstance(loc[1], int):
        return None
    items = data.get("items")
    if not isinstance(items, list) or loc[1] >= len(items) or not isinstance(items[loc[1]], dict):
        return None
    item_id = items[loc[1]].get("id")
    return item_id if isinstance(item_id, str) else None
