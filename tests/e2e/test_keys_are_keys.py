"""Keys are keys: a screen key followed at once by one of that screen's keys, sent as one
gesture to a real terminal, runs the screen's action; it is never typed into a text field,
even while the screen is still mounting. Locally and over SSH (the real OpenSSH client).

The gestures are the ones that went wrong: `5a` renamed the release to "a", `2s` typed
"s" into the strategy filter, and `escape b` backtested a strategy other than the form's.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.widgets.strategy_browser import matches
from core.access import Role
from core.research.strategies import REGISTRY, Family
from tests.e2e.test_console_in_tmux import QUARTERDECK, ROOT, start
from tests.e2e.test_ssh_in_tmux import Server, login, open_terminal
from tests.e2e.tmux import TmuxSession

RESULT_TITLE = re.compile(r"(\w+) on sim:\w+, [\d,]+ bars · ")


def shown_in_filter(query: str) -> list[str]:
    """The strategy ids the Research list shows under ``query``, in its order."""
    kept = sorted((s for s in REGISTRY.values() if matches(s, query)), key=lambda s: s.id)
    return [s.id for family in Family for s in kept if s.family is family]


def backtested(terminal: TmuxSession, previous: str | None = None) -> str:
    """The strategy of the finished backtest on screen (one other than ``previous``)."""

    def done(screen: str) -> bool:
        found = RESULT_TITLE.search(screen)
        return found is not None and found.group(1) != previous and "Return" in screen

    found = RESULT_TITLE.search(terminal.wait_for(done, timeout=60))
    assert found is not None
    return found.group(1)


def release_field(screen: str) -> str:
    found = re.search(r"Release +(\S*)", screen)
    assert found, screen
    return found.group(1)


def play_the_gestures(terminal: TmuxSession) -> None:
    """The same tour, local or remote: each gesture's keys leave in one write."""
    everything = shown_in_filter("")
    # 2b while Research mounts for the first time: the backtest of the form's strategy
    terminal.type("2b")
    assert backtested(terminal) == "sma_cross"
    screen = terminal.screen()
    assert "/ filter" in screen and "68 of 68" in screen  # the filter got nothing

    # down b at once: the backtest of the strategy the cursor moved to, not the stale form's
    terminal.press("Down", "b")
    assert backtested(terminal, "sma_cross") == everything[everything.index("sma_cross") + 1]

    # 2s from another screen: back to the form, no "s" in the filter
    terminal.type("1")
    terminal.wait_for(lambda s: "Dashboard" in s.splitlines()[0], timeout=10)
    terminal.type("2s")
    screen = terminal.wait_for(lambda s: "Setup" in s and " · trend · " in s, timeout=10)
    assert "/ filter" in screen and "68 of 68" in screen

    # a filter, then escape: the list's cursor goes to the form's strategy, which `b` runs
    terminal.press("Up")
    terminal.wait_for(lambda s: "sma_cross · trend · " in s, timeout=10)
    cross = shown_in_filter("cross")
    assert cross[0] != "sma_cross"  # else the test could not tell the two apart
    terminal.type("/cross")
    terminal.wait_for(lambda s: f"{len(cross)} of 68" in s, timeout=10)
    terminal.press("Escape")
    # A terminal's escape is also the start of a key sequence: a key following within a
    # moment is read with it as one (escape b is alt+b), so the user's pause is needed.
    time.sleep(1)
    terminal.type("b")
    assert backtested(terminal, everything[everything.index("sma_cross") + 1]) == "sma_cross"

    # 5a while Readiness mounts: every probe runs; the release keeps its name
    terminal.type("5a")
    screen = terminal.wait_for(lambda s: "Ran every probe" in s, timeout=120)
    assert release_field(screen) == "0.1.0"


@pytest.fixture
def local_terminal(tmp_path: Path) -> Iterator[TmuxSession]:
    env = {"QD_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "HOME": os.environ.get("HOME", str(tmp_path))}  # fmt: skip
    terminal = TmuxSession(120, 40, env, ROOT)
    yield terminal
    terminal.close()


def test_gestures_in_the_local_console(local_terminal: TmuxSession) -> None:
    start(local_terminal)
    play_the_gestures(local_terminal)
    local_terminal.type("q")
    local_terminal.wait_for(lambda s: "EXIT=0" in s, timeout=30)


def test_gestures_over_ssh(tmp_path: Path) -> None:
    assert QUARTERDECK.exists()
    server = Server(tmp_path, {"ops": Role.ADMIN})
    terminals: list[TmuxSession] = []
    try:
        terminal = open_terminal(terminals, tmp_path)
        login(terminal, server.ssh("ops"))
        play_the_gestures(terminal)
    finally:
        for terminal in terminals:
            terminal.close()
        assert server.stop() == 0
