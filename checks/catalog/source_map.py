"""Where in a TOML file each key is written: a best-effort scan of the source text.

``tomllib`` returns plain dicts with no positions, and pydantic reports an
error's location as a key path such as ``("items", 3, "severity")``. To name
the line a reviewer must fix, this module scans the text once and records the
line of every table header and ``key = value`` it can recognise. It handles
the TOML a person writes for a catalog (tables, arrays of tables, dotted and
quoted keys, inline tables, multi-line arrays and strings); anything stranger
falls back to the line of the enclosing table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

KeyPath = tuple[str | int, ...]

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED_KEY})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED_KEY})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED_KEY})\s*=")
_INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_-]+)\s*=")
_LEADING_WORD = re.compile(r"^\s*([A-Za-z0-9_.-]+)")


def split_key(text: str) -> tuple[str, ...]:
    """``a."b.c".d`` -> ``("a", "b.c", "d")``."""
    parts: list[str] = []
    for match in re.finditer(_KEY_PART, text):
        part = match.group(0)
        if part[0] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def format_path(path: Sequence[str | int]) -> str:
    """``("items", 3, "severity")`` -> ``items[3].severity``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class _Scanner:
    """Strips strings and comments from values, carrying multi-line state across lines."""

    open_string: str | None = None  # '"""' or "'''" while inside a multi-line string
    depth: int = 0  # open [ and { in values (multi-line arrays)

    def consume(self, text: str) -> str:
        kept: list[str] = []
        i = 0
        while i < len(text):
            if self.open_string:
                end = text.find(self.open_string, i)
                if end < 0:
                    return "".join(kept)
                i = end + 3
                self.open_string = None
                kept.append('""')
                continue
            if text.startswith('"""', i) or text.startswith("'''", i):
                self.open_string = text[i : i + 3]
                i += 3
                continue
            char = text[i]
            if char in "\"'":
                i = self._skip_string(text, i)
                kept.append('""')
                continue
            if char == "#":
                break
            kept.append(char)
            i += 1
        stripped = "".join(kept)
        self.depth += sum(stripped.count(c) for c in "[{") - sum(stripped.count(c) for c in "]}")
        self.depth = max(self.depth, 0)
        return stripped

    @staticmethod
    def _skip_string(text: str, start: int) -> int:
        quote = text[start]
        i = start + 1
        while i < len(text):
            if quote == '"' and text[i] == "\\":
                i += 2
                continue
            if text[i] == quote:
                return i + 1
            i += 1
        return i


@dataclass
class SourceMap:
    """Key paths (with array-of-tables indices) mapped to 1-based line numbers."""

    lines: dict[KeyPath, int] = field(default_factory=dict)
    tables: list[tuple[int, KeyPath]] = field(default_factory=list)
    keys: list[tuple[int, KeyPath]] = field(default_factory=list)

    def line_for(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, else of its nearest written ancestor (a missing field
        points at its table's header)."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def table_at(self, line: int) -> KeyPath:
        """The table a given line belongs to (``()`` for the top level)."""
        current: KeyPath = ()
        for header_line, path in self.tables:
            if header_line > line:
                break
            current = path
        return current

    def key_at(self, line: int) -> KeyPath | None:
        """The key written on ``line``, if the scan recognised one there."""
        for key_line, path in self.keys:
            if key_line == line:
                return path
        return None


def scan(source: str) -> SourceMap:
    """Scan TOML text (valid or not) and record where each key and table is written."""
    result = SourceMap()
    scanner = _Scanner()
    array_counts: dict[tuple[str, ...], int] = {}
    current: KeyPath = ()

    def resolve(names: tuple[str, ...]) -> KeyPath:
        # After every prefix that is an array of tables, insert its current index.
        path: list[str | int] = []
        for n in range(1, len(names) + 1):
            path.append(names[n - 1])
            if names[:n] in array_counts:
                path.append(array_counts[names[:n]])
        return tuple(path)

    def record(path: KeyPath, number: int) -> None:
        result.lines.setdefault(path, number)

    for number, line in enumerate(source.splitlines(), start=1):
        if scanner.open_string or scanner.depth:
            scanner.consume(line)
            continue
        if match := _ARRAY_HEADER.match(line):
            names = split_key(match.group(1))
            record((*resolve(names[:-1]), names[-1]), number)
            array_counts[names] = array_counts.get(names, -1) + 1
            current = resolve(names)
            record(current, number)
            result.tables.append((number, current))
        elif match := _TABLE_HEADER.match(line):
            current = resolve(split_key(match.group(1)))
            record(current, number)
            result.tables.append((number, current))
        elif match := _KEY_LINE.match(line):
            names = split_key(match.group(1))
            path = current + names
            for n in range(len(current) + 1, len(path) + 1):
                record(path[:n], number)
            result.keys.append((number, path))
            value = scanner.consume(line[match.end() :])
            for inline in _INLINE_KEY.finditer(value):
                record((*path, inline.group(1)), number)
        else:
            scanner.consume(line)
    return result


def leading_word(line: str) -> str | None:
    """The bare word a broken line starts with (``title "x"`` -> ``title``)."""
    match = _LEADING_WORD.match(line)
    return match.group(1) if match else None
