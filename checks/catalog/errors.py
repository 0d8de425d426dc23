"""``ChecklistError``: a broken catalog file, reported by file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a catalog file."""

    line: int | None  # 1-based; None when the problem has no place (e.g. a missing table)
    column: int | None
    field: str  # e.g. "items[3].severity"; "" when no field applies
    message: str

    def format(self, path: Path) -> str:
        where = str(path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class ChecklistError(Exception):
    """A checklist file that cannot be loaded. ``str()`` gives one ``file:line: field: message``
    line per problem, the way compilers report errors."""

    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = Path(path)
        self.problems = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [problem.format(self.path) for problem in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{self.path}: {len(lines)} problems\n" + "\n".join(f"  {line}" for line in lines)
