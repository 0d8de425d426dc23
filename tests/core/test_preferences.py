"""Per-user preference files: round trip, isolation, and bad files never stop the console."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.preferences import Preferences


def test_preferences_round_trip_per_user(tmp_path: Path) -> None:
    prefs = Preferences(tmp_path / "prefs")
    prefs.set("alice", "theme", "quarterdeck-light")
    prefs.set("bob", "theme", "quarterdeck-high-contrast")
    prefs.set("alice", "other", 3)
    assert prefs.load("alice") == {"theme": "quarterdeck-light", "other": 3}
    assert prefs.load("bob") == {"theme": "quarterdeck-high-contrast"}
    assert prefs.load("carol") == {}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff"])
def test_unreadable_preferences_are_treated_as_empty(tmp_path: Path, content: str, caplog) -> None:
    (tmp_path / "alice.json").write_text(content, errors="surrogateescape")
    assert Preferences(tmp_path).load("alice") == {}
    assert "alice.json" in caplog.text


@pytest.mark.parametrize("user", ["../etc/passwd", "a/b", "", ".hidden", "x" * 65])
def test_user_names_that_could_escape_the_directory_are_refused(tmp_path: Path, user: str) -> None:
    with pytest.raises(ValueError, match="cannot name a preferences file"):
        Preferences(tmp_path).set(user, "theme", "x")


def test_a_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    prefs = Preferences(tmp_path)
    for n in range(5):
        prefs.set("alice", "n", n)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json"]
