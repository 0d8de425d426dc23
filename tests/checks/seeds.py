"""Parse the seed checklists (``/work/shared/seeds/NNN_*.txt``) into their items.

The readiness catalog cites seed items as ``"NNN: <label>"``. This module
decides what one seed item is, so a test can prove every one is covered.

The unit
--------
A seed is markdown. Two kinds of thing count as one item each:

1. **A checklist entry**: a list line (``-``, ``*`` or ``1.``) whose text
   starts with a checkbox (``[ ]``, ``[x]``) or a status mark (the ✅ / ⚠️ /
   ⏳ bullets of seed 000). Everything nested deeper under it (its
   sub-checkboxes, sub-bullets, code blocks, "Status:" lines) belongs to it
   and is not an item of its own. Its label is its leading bold text when it
   has one (``- [ ] **Secret Management**`` -> ``Secret Management``;
   ``**Label**: text`` and ``**Label:** text`` both give ``Label``);
   otherwise its whole text (``- [ ] Notify stakeholders``).
2. **A procedure section**: a heading (level 2 or deeper) whose own body,
   up to the next heading of any level, holds no checklist entry but does
   hold lists, code blocks or tables, e.g. seed 003's "Immediate Rollback
   (< 5 min)" (a code block) or "Escalation Path" (a numbered list). Its
   label is the heading text. Headings that hold checklist entries count
   via their entries, not themselves; headings with only prose or nothing
   (document titles, "Version/Date" blocks) are not items.

A list line that is neither a checkbox nor a status mark, with checkboxes
nested under it (seed 001's ``1. **Immediate Actions**``), is a group label
like a heading: the checkboxes under it are the items.

Normalising a label: mis-decoded emoji (UTF-8 read as Mac Roman, e.g.
``\u201a\u00fa\u00d6``) are repaired, then every emoji is removed; markdown (bold, italics,
code ticks, links) is stripped; a leading ``1.`` / ``I.`` number on a heading
and a trailing colon are dropped; whitespace is collapsed. Labels are unique
within a seed: the same label written twice in one seed (001's two "Redis
Configuration" entries) is one item, so one citation covers both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

#: A copy of the five seed documents (``../shared/seeds`` beside the repository), kept
#: with the tests so the coverage proof runs on any checkout.
SEEDS_DIR = Path(__file__).parent / "seed_documents"

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST = re.compile(r"^(\s*)(?:[-*+]|\d+\.)\s+(.*)$")
_CHECKBOX = re.compile(r"^\[[ xX]\]\s*")
_BOLD_LABEL = re.compile(r"^\*\*(.+?)\*\*")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE = re.compile(r"^\s*\|")
_HEADING_NUMBER = re.compile(r"^(?:\d+|[IVXLC]+)\.\s+")
_STATUS_MARKS = ("✅", "⚠", "⏳", "❌", "☑", "✔")


@dataclass(frozen=True)
class SeedItem:
    seed: str  # "001"
    label: str  # "Secret Management"
    line: int  # 1-based line of its first occurrence

    @property
    def source(self) -> str:
        """The form a catalog item cites it in: ``"001: Secret Management"``."""
        return f"{self.seed}: {self.label}"


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 bytes decoded as Mac Roman (``\u201a\u00fa\u00d6`` -> ``✅``), token by token."""

    def fix(token: str) -> str:
        if token.isascii():
            return token
        try:
            return token.encode("mac_roman").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return token

    return " ".join(fix(token) for token in text.split(" "))


def strip_emoji(text: str) -> str:
    """Remove pictographs and their joiners/variation selectors; keep math signs like ≥."""
    kept = []
    for char in text:
        if unicodedata.category(char) == "So" or char in "\ufe0f\u200d":
            continue
        kept.append(char)
    return "".join(kept)


def normalise(text: str) -> str:
    """A label as the catalog cites it: no emoji, no markdown, no trailing colon."""
    text = strip_emoji(repair_mojibake(text))
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links
    text = text.replace("**", "").replace("`", "")
    text = re.sub(r"(?<!\w)\*(\S[^*]*?)\*(?!\w)", r"\1", text)  # *italics*
    text = re.sub(r"(?<!\w)_(\S[^_]*?)_(?!\w)", r"\1", text)  # _italics_
    text = " ".join(text.split())
    return text.rstrip(":").strip()


def _status_marked(text: str) -> str | None:
    """The text after a status mark (✅ ...), or None if it has none."""
    repaired = repair_mojibake(text)
    for mark in _STATUS_MARKS:
        if repaired.startswith(mark):
            return repaired[len(mark) :].lstrip("\ufe0f").strip()
    return None


def _entry_label(text: str) -> str:
    if match := _BOLD_LABEL.match(text):
        return normalise(match.group(1))
    return normalise(text)


def parse_seed_text(seed: str, text: str) -> list[SeedItem]:
    """The items of one seed, in document order, one per distinct label."""
    found: list[SeedItem] = []

    # The heading whose direct body is being read: its label, line, level, and
    # whether that body has entries / procedural content.
    heading: dict[str, object] | None = None

    def close_heading() -> None:
        if heading is None or heading["entries"] or not heading["content"]:
            return
        if int(heading["level"]) >= 2 and heading["label"]:  # type: ignore[call-overload]
            found.append(SeedItem(seed, str(heading["label"]), int(heading["line"])))  # type: ignore[call-overload]

    entry_indent: int | None = None  # indent of the entry whose nested lines we skip
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            if heading is not None:
                heading["content"] = True
            continue
        if in_fence:
            continue
        if match := _HEADING.match(line):
            close_heading()
            label = _HEADING_NUMBER.sub("", normalise(match.group(2)))
            heading = {
                "label": label,
                "line": number,
                "level": len(match.group(1)),
                "entries": False,
                "content": False,
            }
            entry_indent = None
            continue
        if not line.strip():
            continue
        if _TABLE.match(line):
            if heading is not None:
                heading["content"] = True
            entry_indent = None
            continue
        match = _LIST.match(line)
        if match is None:
            indent = len(line) - len(line.lstrip())
            if entry_indent is None or indent <= entry_indent:
                entry_indent = None  # a paragraph at the entry's level ends it
            continue
        indent = len(match.group(1).expandtabs(4))
        body = match.group(2)
        if entry_indent is not None and indent > entry_indent:
            continue  # nested under the current entry: part of it
        entry_indent = None
        if heading is not None:
            heading["content"] = True
        checkbox = _CHECKBOX.match(body)
        rest = body[checkbox.end() :] if checkbox else _status_marked(body)
        if rest is None:
            continue  # a plain bullet, numbered step or group label
        label = _entry_label(rest)
        if not label:
            continue
        found.append(SeedItem(seed, label, number))
        entry_indent = indent
        if heading is not None:
            heading["entries"] = True
    close_heading()

    unique: dict[str, SeedItem] = {}
    for item in found:
        unique.setdefault(item.label, item)
    return list(unique.values())


def seed_files(directory: Path = SEEDS_DIR) -> dict[str, Path]:
    """``{"000": path, ...}`` for every ``NNN_*.txt`` seed file."""
    files: dict[str, Path] = {}
    for path in sorted(directory.glob("[0-9][0-9][0-9]_*.txt")):
        files[path.name[:3]] = path
    return files


def parse_seeds(directory: Path = SEEDS_DIR) -> list[SeedItem]:
    """Every item of every seed file, seed by seed."""
    items: list[SeedItem] = []
    for seed, path in seed_files(directory).items():
        items.extend(parse_seed_text(seed, path.read_text(encoding="utf-8")))
    return items


def seed_sources(directory: Path = SEEDS_DIR) -> set[str]:
    """Every seed item as ``"NNN: label"``."""
    return {item.source for item in parse_seeds(directory)}


if __name__ == "__main__":  # a listing to write catalog sources against
    for item in parse_seeds():
        print(f"{item.source}  (line {item.line})")
