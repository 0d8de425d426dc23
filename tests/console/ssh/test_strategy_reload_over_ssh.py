"""A saved strategy file is news in every console: an SSH session of a served Deck
shows the reload's notice, as the local console does."""

from __future__ import annotations

from pathlib import Path

from core.access import Role
from core.config import Settings
from core.research.strategies import REGISTRY
from tests.console.ssh.served import connect, open_console, serving, until
from tests.strategy_files import CHANNEL_BREAKOUT as BREAKOUT
from tests.strategy_files import write_strategy as write


async def test_ssh_session_shows_the_notice_of_a_saved_strategy(
    settings: Settings,
    tmp_path: Path,
    strategy_folder: Path,
) -> None:
    write(strategy_folder, "channel_breakout.py", BREAKOUT)
    async with serving(settings, tmp_path / "keys", {"alice": Role.VIEWER}) as served:
        await until(lambda: served.deck.strategy_library.latest is not None)
        old = REGISTRY["channel_breakout"].version
        conn = await connect(served, "alice")
        chan, screen = await open_console(conn)
        await screen.wait_for(b"Dashboard")
        (session,) = served.ssh.sessions
        app = session.app
        assert app is not None
        await until(lambda: app.screen.id == "dashboard" and app.screen.is_mounted)
        write(strategy_folder, "channel_breakout.py", BREAKOUT.replace("shift(1)", "shift(2)"))
        await until(lambda: REGISTRY["channel_breakout"].version != old)
        notice = (
            f"strategies reloaded: channel_breakout {old} → {REGISTRY['channel_breakout'].version}"
        )
        await until(lambda: notice in [str(n.message) for n in app._notifications])
        chan.write(b"q")
        conn.close()
