"""The rollback's dry run in the console, in a real terminal at 80x24: with nothing set up
it names the step it would fail at and why, never "succeeded", and the RTO clock stays
still."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.e2e.tmux import TmuxSession, console_env

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")


def test_the_rollback_dry_run_in_the_console_says_where_it_would_fail(tmp_path: Path) -> None:
    terminal = TmuxSession(80, 24, console_env(tmp_path), ROOT)
    try:
        terminal.type(f'env -u QD_SERVICE -u QD_VENV {QUARTERDECK}; echo "EXIT=$?"')
        terminal.press("Enter")
        terminal.wait_for(lambda s: "Quarterdeck Dashboard" in s, timeout=60)
        terminal.press("6")
        terminal.wait_for(lambda s: "Rollback · 10 steps" in s, timeout=30)
        terminal.press("d")
        screen = terminal.wait_for(lambda s: "would fail at step 4: QD_SERVICE" in s, timeout=30)
        assert "✘ would fail" in screen and "◌ ready" in screen
        assert "succeeded" not in screen and "RTO 00:00 / 05:00" in screen
        terminal.press("q")  # a dry run is not a run under way: no question
        screen = terminal.wait_for(lambda s: re.search(r"^EXIT=\d+", s, re.M) is not None, 60)
        assert re.search(r"^EXIT=0$", screen, re.M) and "Traceback" not in screen
    finally:
        terminal.close()
    entries = (tmp_path / "data" / "logs" / "quarterdeck.jsonl").read_text()
    assert "Traceback" not in entries
