"""Reading a readiness TOML document (a checklist or a runbook) with errors that point at
the line and field to fix.

A document is a header table plus an array of tables of entries with ids
(``[[items]]`` or ``[[steps]]``); ``table`` names that array and ``noun`` what
one entry is called in messages.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from checks.catalog.errors import ChecklistError, Problem
from checks.catalog.source_map import SourceMap, format_path, leading_word, scan
from checks.probes.registry import ProbeRegistry

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")

Document = TypeVar("Document", bound=BaseModel)
Loaded = TypeVar("Loaded")


def load_document(
    path: Path, model: type[Document], error: type[ChecklistError], table: str, noun: str,
    registry: ProbeRegistry | None,
) -> Document:  # fmt: skip
    """Parse and validate ``path`` as ``model``; every problem found is raised at once as
    ``error`` (probe names and params are checked against ``registry``)."""
    source = _read(path, error)
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise error(path, [syntax_problem(exc, source)]) from None
    source_map = scan(source)
    problems = _duplicate_ids(data, source_map, table, noun)
    context = {"registry": registry} if registry is not None else None
    try:
        document = model.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [_validation_problem(e, data, source_map, table, noun) for e in exc.errors()]
        raise error(path, problems) from None
    if problems:
        raise error(path, problems)
    return document


def load_directory(
    directory: Path, load: Callable[[Path], Loaded], error: type[ChecklistError], header: str
) -> dict[str, Loaded]:
    """Every ``*.toml`` in ``directory``, loaded, by id; two files may not share an id."""
    loaded: dict[str, Loaded] = {}
    for path in sorted(directory.glob("*.toml")):
        document = load(path)
        document_id = document.id  # type: ignore[attr-defined]
        if document_id in loaded:
            message = f"{header} id {document_id!r} is already used by another file"
            raise error(path, [Problem(None, None, f"{header}.id", message)])
        loaded[document_id] = document
    return loaded


def _read(path: Path, error: type[ChecklistError]) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(path, [Problem(None, None, "", f"cannot read file: {exc}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not valid UTF-8 (byte {raw[exc.start]:#04x})"
        raise error(path, [Problem(line, None, "", message)]) from None


def syntax_problem(exc: tomllib.TOMLDecodeError, source: str) -> Problem:
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
            table_key = source_map.table_at(line)
            key = (*table_key, *word.split(".")) if word else table_key
        field = format_path(key)
    return Problem(line, column, field, f"TOML syntax error: {message}")


def _duplicate_ids(data: dict[str, Any], source_map: SourceMap, table: str,
                   noun: str) -> list[Problem]:  # fmt: skip
    entries = data.get(table)
    if not isinstance(entries, list):
        return []
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str):
            continue
        if entry_id in first:
            loc = (table, index, "id")
            message = f"duplicate {noun} id {entry_id!r} (first used by {table}[{first[entry_id]}])"
            problems.append(Problem(source_map.line_for(loc), None, format_path(loc), message))
        else:
            first[entry_id] = index
    return problems


def _validation_problem(error: Any, data: dict[str, Any], source_map: SourceMap, table: str,
                        noun: str) -> Problem:  # fmt: skip
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
    entry_id = _entry_id(data, loc, table)
    if entry_id is not None and loc[2:] != ("id",):
        message += f" ({noun} {entry_id!r})"
    return Problem(source_map.line_for(loc), None, format_path(loc), message)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _entry_id(data: dict[str, Any], loc: tuple[Any, ...], table: str) -> str | None:
    """The id of the entry an error is in, to make the message easy to act on."""
    if len(loc) < 2 or loc[0] != table or not isinstance(loc[1], int):
        return None
    entries = data.get(table)
    if not isinstance(entries, list) or loc[1] >= len(entries):
        return None
    entry = entries[loc[1]]
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    return entry_id if isinstance(entry_id, str) else None
