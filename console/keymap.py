"""The user's keymap: a TOML file that rebinds keys by binding id.

    # ~/.config/quarterdeck/keymap.toml
    "jobs.cancel" = "x"          # a quoted id...
    [trading]
    kill = "ctrl+k"              # ...or a table per screen: trading.kill
    [app.screen]
    jobs = "j,2"                 # several keys, comma-separated

Every mistake names the file and the line, and the console opens with the
default keys rather than not at all.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class KeymapError(ValueError):
    """A keymap file that cannot be used; the message names the file and line."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def _line_of(text: str, binding_id: str) -> int | None:
    """The line that sets ``binding_id`` (quoted or as its last dotted part)."""
    last = binding_id.rpartition(".")[2]
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith((f'"{binding_id}"', f"{binding_id} ", f"{binding_id}=")) or (
            stripped.startswith((f"{last} ", f"{last}="))
        ):
            return number
    return None


def parse_keymap(text: str, source: str, known_ids: Iterable[str]) -> dict[str, str]:
    """Binding id -> keys from a keymap's text; ``source`` names it in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeymapError(f"{source}: not valid TOML: {exc}") from None
    known = set(known_ids)
    keymap: dict[str, str] = {}
    for binding_id, keys in _flatten(document):
        line = _line_of(text, binding_id)
        where = f"{source}:{line}" if line else source
        if binding_id not in known:
            raise KeymapError(
                f"{where}: unknown binding id {binding_id!r} (the help screen lists them)"
            )
        if not isinstance(keys, str) or not [k for k in keys.split(",") if k.strip()]:
            raise KeymapError(f'{where}: {binding_id} must be a string of keys, e.g. "x"')
        keymap[binding_id] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap


def load_keymap(path: Path, known_ids: Iterable[str]) -> dict[str, str]:
    """The keymap in ``path``; no file means no remapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise KeymapError(f"{path}: cannot be read: {exc}") from None
    return parse_keymap(text, str(path), known_ids)
