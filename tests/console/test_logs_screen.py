"""Pilot tests of the logs screen: a live tail of records from the loop and from threads,
a level floor, a search, follow and pause, and a burst that does not freeze the console."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from textual.widgets import Input, Static

from console.widgets.log_view import LogView, line_text
from core.config import Settings
from tests.console.pilot import make_app, static_text, wait_until

LOGGER = "tests.console.logs"


@pytest.fixture
def chatty_logger(request: pytest.FixtureRequest) -> Iterator[logging.Logger]:
    """A logger of this test's own at DEBUG, whatever the root logger's level is: the
    tail is the process's, so records of earlier tests may still be in it."""
    logger = logging.getLogger(f"{LOGGER}.{request.node.name}")
    logger.setLevel(logging.DEBUG)
    yield logger
    logger.setLevel(logging.NOTSET)


def shown(app) -> list[str]:
    return [line_text(entry) for entry in app.screen.query_one(LogView).entries]


def ours(app, logger: logging.Logger) -> list[str]:
    return [line for line in shown(app) if f" {logger.name} " in line]


def has(app, logger: logging.Logger, text: str) -> bool:
    return any(text in line for line in ours(app, logger))


def bottom_line(view: LogView) -> str:
    """The record drawn on the view's last line on screen (the drawn text is its start)."""
    height = view.scrollable_content_region.height
    drawn = view.render_line(height - 1).text.rstrip()
    record = line_text(view.entries[int(view.scroll_y) + height - 1])
    assert drawn and record.startswith(drawn)
    return record


def at_newest(view: LogView) -> bool:
    """The newest record is the last line on screen."""
    height = view.scrollable_content_region.height
    return (
        len(view.entries) > height
        and view.scroll_y + height == len(view.entries)
        and bottom_line(view) == line_text(view.entries[-1])
    )


async def test_records_from_the_loop_and_a_thread_appear_live(
    settings: Settings, chatty_logger: logging.Logger
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        chatty_logger.info("before the screen opened")
        await pilot.press("8")
        assert app.screen.id == "logs"
        await wait_until(pilot, lambda: has(app, chatty_logger, "before the screen opened"))
        chatty_logger.warning("from the loop", extra={"order_id": 17})
        await asyncio.to_thread(chatty_logger.error, "from a worker thread")
        await wait_until(pilot, lambda: has(app, chatty_logger, "from a worker thread"))
        lines = ours(app, chatty_logger)
        assert all(part in lines[-2] for part in ("WARNING", "from the loop", "order_id=17"))
        assert "ERROR" in lines[-1]
        await pilot.press("q")


async def test_level_floor_and_search_filter_the_tail(
    settings: Settings, chatty_logger: logging.Logger
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("8")
        for level, text in (
            (logging.DEBUG, "quiet detail"),
            (logging.INFO, "fill BTCUSD"),
            (logging.WARNING, "spike ETHUSD"),
            (logging.ERROR, "job 4 failed"),
        ):
            chatty_logger.log(level, text)  # fmt: skip
        await wait_until(pilot, lambda: len(ours(app, chatty_logger)) == 4)
        level = app.screen.query_one("#logs-level", Static)
        await pilot.press("l")  # DEBUG -> INFO
        assert "INFO" in static_text(level)
        assert [x.split(chatty_logger.name)[1].strip() for x in ours(app, chatty_logger)] == [
            "fill BTCUSD", "spike ETHUSD", "job 4 failed",
        ]  # fmt: skip
        await pilot.press("l", "l")  # -> WARNING -> ERROR
        assert len(ours(app, chatty_logger)) == 1 and "job 4 failed" in ours(app, chatty_logger)[0]
        await pilot.press("l")  # back to DEBUG: everything again
        assert len(ours(app, chatty_logger)) == 4
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#logs-search", Input)
        app.focused.value = "usd"  # typing it key by key is slow under a live Deck
        await wait_until(pilot, lambda: len(ours(app, chatty_logger)) == 2)
        assert all("usd" in line.casefold() for line in shown(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(ours(app, chatty_logger)) == 4)
        assert app.focused is app.screen.query_one(LogView)
        await pilot.press("q")


async def test_pausing_holds_the_view_and_following_catches_up(
    settings: Settings, chatty_logger: logging.Logger
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("8")
        chatty_logger.info("first")
        await wait_until(pilot, lambda: len(ours(app, chatty_logger)) == 1)
        await pilot.press("f")
        chatty_logger.info("while paused")
        follow = app.screen.query_one("#logs-follow", Static)
        await wait_until(pilot, lambda: "PAUSED" in static_text(follow)
                         and "0 new" not in static_text(follow))  # fmt: skip
        assert len(ours(app, chatty_logger)) == 1
        (resume,) = app.screen.palette_commands()
        assert resume.title.startswith("Resume following the log (")
        await pilot.press("f")
        assert [x.rsplit(" ", 1)[-1] for x in ours(app, chatty_logger)][-1] == "paused"
        assert "following" in static_text(follow)
        await pilot.press("q")


async def test_logs_open_at_the_newest_line_and_follow_until_scrolled_up(
    settings: Settings, chatty_logger: logging.Logger
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        for i in range(200):  # more than a screenful before the screen opens
            chatty_logger.info("older record %d", i)
        await pilot.press("8")
        view = app.screen.query_one(LogView)
        follow = app.screen.query_one("#logs-follow", Static)
        await wait_until(pilot, lambda: has(app, chatty_logger, "older record 199"))
        await wait_until(pilot, lambda: at_newest(view))
        assert "following" in static_text(follow)
        assert view.scroll_y > 0

        chatty_logger.info("arrived while following")
        await wait_until(pilot, lambda: has(app, chatty_logger, "arrived while following"))
        await wait_until(pilot, lambda: at_newest(view))  # the newest still in sight

        await pilot.press("up", "up")  # the user scrolls up: following stops
        await wait_until(pilot, lambda: "PAUSED" in static_text(follow))
        held = view.scroll_y
        chatty_logger.info("arrived while paused")
        await wait_until(pilot, lambda: "0 new" not in static_text(follow))
        assert view.scroll_y == held and not has(app, chatty_logger, "arrived while paused")

        await pilot.press("f")  # follow again: back at the bottom, caught up
        await wait_until(pilot, lambda: at_newest(view))
        assert has(app, chatty_logger, "arrived while paused")  # (the engine's fills may
        # have pushed it above the screen since: they are logged too)
        assert "following" in static_text(follow)

        await pilot.press("f")  # and f pauses too, where the view is
        assert "PAUSED" in static_text(follow)
        held = view.scroll_y
        chatty_logger.info("arrived after f paused")
        await wait_until(pilot, lambda: "0 new" not in static_text(follow))
        assert view.scroll_y == held and not has(app, chatty_logger, "arrived after f paused")
        await pilot.press("q")


async def test_a_burst_of_records_keeps_the_console_responsive_and_bounded(
    settings: Settings, chatty_logger: logging.Logger
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("8")

        def burst() -> None:
            for i in range(10_000):
                chatty_logger.debug("burst record %d", i)

        writer = asyncio.create_task(asyncio.to_thread(burst))
        for i in range(5_000):
            chatty_logger.debug("loop record %d", i)
        await writer
        await pilot.press("l")  # the console still answers a key
        assert "INFO" in static_text(app.screen.query_one("#logs-level", Static))
        await pilot.press("l", "l", "l")
        assert len(deck.logs.entries()) == deck.logs.capacity
        view = app.screen.query_one(LogView)
        await wait_until(pilot, lambda: has(app, chatty_logger, "burst record 9999"))
        assert len(view.entries) <= deck.logs.capacity
        await pilot.press("q")
