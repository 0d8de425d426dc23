"""The SSH server in process, with asyncssh as the client: sessions are contained, the
limits hold, and a hundred sessions come and go without leaving anything behind."""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc
from pathlib import Path

import pytest

from console.app import QuarterdeckApp
from console.screens.help import HelpScreen
from console.ssh.session import ConsoleSession
from core.access import Role
from core.config import Settings
from core.logs import log_tail
from tests.console.ssh.served import connect, open_console, serving, until

DASHBOARD = b"Dashboard"


def live(kind: type) -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


async def test_quitting_a_session_ends_it_and_leaves_the_deck_running(
    settings: Settings, tmp_path: Path
) -> None:
    async with serving(settings, tmp_path / "keys", {"alice": Role.OPERATOR}) as served:
        conn = await connect(served, "alice")
        chan, screen = await open_console(conn)
        await screen.wait_for(DASHBOARD)
        assert [s.user for s in served.deck.sessions.sessions] == ["alice"]
        assert served.deck.sessions.sessions[0].source.startswith("ssh 127.0.0.1:")
        chan.write(b"q")
        await asyncio.wait_for(screen.closed.wait(), 30)
        assert screen.exit_status == 0
        assert served.deck.running
        await until(lambda: served.deck.sessions.sessions == ())
        conn.close()


async def test_a_crash_ends_that_session_only_with_its_traceback_in_the_log(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def broken(self: HelpScreen) -> None:
        raise RuntimeError("help screen exploded")

    users = {"alice": Role.OPERATOR, "bob": Role.VIEWER}
    async with serving(settings, tmp_path / "keys", users) as served:
        alice = await connect(served, "alice")
        bob = await connect(served, "bob")
        (a_chan, a_screen), (_, b_screen) = await open_console(alice), await open_console(bob)
        await a_screen.wait_for(DASHBOARD)
        await b_screen.wait_for(DASHBOARD)
        monkeypatch.setattr(HelpScreen, "compose", broken)
        with caplog.at_level(logging.ERROR):
            a_chan.write(b"?")
            await asyncio.wait_for(a_screen.closed.wait(), 30)
        assert a_screen.exit_status == 1
        assert "help screen exploded" in caplog.text and "ended by an error" in caplog.text
        crash = [e for e in log_tail().entries() if "ended by an error" in e.message][-1]
        ids = dict(crash.fields)  # the session's correlation ids, on the record
        assert ids["user"] == "alice" and len(ids["session_id"]) == 12
        assert "Traceback" not in capfd.readouterr().err
        # bob's console goes on: it still redraws
        seen = len(b_screen.data)
        await until(lambda: len(b_screen.data) > seen + 1000)
        assert not b_screen.closed.is_set()
        assert served.deck.running
        alice.close()
        bob.close()


async def test_no_pty_too_many_sessions_and_idle_sessions_are_turned_away(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"ssh_max_sessions": 1, "ssh_idle_timeout": 2.0})
    async with serving(settings, tmp_path / "keys", {"alice": Role.VIEWER}) as served:
        conn = await connect(served, "alice")
        _, bare = await open_console(conn, pty=False)
        await asyncio.wait_for(bare.closed.wait(), 30)
        assert b"needs a terminal" in bare.data and bare.exit_status == 1

        _, first = await open_console(conn)
        await first.wait_for(DASHBOARD)
        _, second = await open_console(conn)
        await asyncio.wait_for(second.closed.wait(), 30)
        assert b"all 1 sessions are in use" in second.data

        await asyncio.wait_for(first.closed.wait(), 30)  # nobody types: the idle limit
        assert b"without input" in first.data
        conn.close()


@pytest.mark.timeout(900)  # 200-300 s with tracemalloc on: near the suite's 300 s default
async def test_a_hundred_sessions_come_and_go_without_leaking(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"sim_tick_rate": 200.0})
    earlier = live(QuarterdeckApp)  # left by other tests in this process, if any
    earlier_sessions = live(ConsoleSession)
    async with serving(settings, tmp_path / "keys", {"alice": Role.OPERATOR}) as served:

        async def cycle() -> None:
            conn = await connect(served, "alice")
            _, screen = await open_console(conn)
            await screen.wait_for(DASHBOARD)
            conn.close()
            await conn.wait_closed()
            await until(lambda: not served.ssh.sessions and not served.deck.sessions.sessions)

        for _ in range(3):  # first sessions fill Textual's and SQLAlchemy's caches
            await cycle()
        # A finished app can stay reachable for a moment through the context of a
        # cancelled timer still in the loop's heap; it goes when the timer falls due.
        await until(lambda: live(QuarterdeckApp) <= earlier, timeout=10)
        tasks = len(asyncio.all_tasks())
        tracemalloc.start()

        for _ in range(100):
            await cycle()

        # The store writer waits for work through a task of its own, there or not from
        # one moment to the next: one task either way is the Deck's, a leak is a hundred.
        await until(lambda: len(asyncio.all_tasks()) <= tasks + 1, timeout=10)
        await until(lambda: live(QuarterdeckApp) <= earlier, timeout=10)
        assert live(ConsoleSession) <= earlier_sessions
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        # One console kept alive is about 1 MB, its cached styles 0.6 MB: a hundred kept
        # would be 100 MB. What remains is the engine's own growth and bounded caches.
        assert growth < 10_000_000, f"memory grew {growth / 1e6:.1f} MB over 100 sessions"
