"""Keymap files: both spellings accepted, every mistake named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import all_binding_ids
from console.keymap import KeymapError, load_keymap, parse_keymap

KNOWN = {"jobs.cancel", "trading.kill", "app.screen.jobs", "app.quit"}


def test_quoted_ids_and_tables_both_map_binding_ids() -> None:
    text = '"jobs.cancel" = "x"\n[trading]\nkill = "ctrl+k"\n[app.screen]\njobs = "j, 3"\n'
    assert parse_keymap(text, "keymap.toml", KNOWN) == {
        "jobs.cancel": "x",
        "trading.kill": "ctrl+k",
        "app.screen.jobs": "j,3",
    }


def test_unknown_binding_id_is_named_with_its_line() -> None:
    text = '"jobs.cancel" = "x"\n\n"jobs.cancle" = "y"\n'
    with pytest.raises(KeymapError, match=r"^keymap.toml:3: unknown binding id 'jobs.cancle'"):
        parse_keymap(text, "keymap.toml", KNOWN)


@pytest.mark.parametrize("value", ["3", '""', '" , "', '["x"]'])
def test_keys_must_be_a_non_empty_string(value: str) -> None:
    with pytest.raises(KeymapError, match=r"^km:1: jobs.cancel must be a string of keys"):
        parse_keymap(f'"jobs.cancel" = {value}\n', "km", KNOWN)


def test_broken_toml_names_the_file_and_position() -> None:
    with pytest.raises(KeymapError, match=r"^km: not valid TOML: .*line 2"):
        parse_keymap('"jobs.cancel" = "x"\nthis is not toml\n', "km", KNOWN)


def test_a_missing_file_means_no_remapping(tmp_path: Path) -> None:
    assert load_keymap(tmp_path / "absent.toml", KNOWN) == {}


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KeymapError, match=r"keymap\.toml: cannot be read"):
        load_keymap(path, KNOWN)


def test_every_screen_binding_has_a_unique_stable_id() -> None:
    ids = all_binding_ids()
    assert {"app.quit", "app.help", "app.screen.dashboard", "app.screen.logs"} <= ids
    assert {"jobs.cancel", "trading.kill", "trading.reset_risk", "reason.cancel"} <= ids
