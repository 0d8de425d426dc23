"""The in-memory log tail: bounded, safe from any thread, never raising, never feeding itself."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator

import pytest

from core.announce import announce_logs
from core.bus import Bus
from core.events import LogsAppended
from core.logs import LogTail, log_tail


@pytest.fixture
def tail() -> Iterator[LogTail]:
    handler = LogTail(capacity=100)
    logger = logging.getLogger("tests.tail")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # pytest's own capture handler re-raises formatting errors
    yield handler
    logger.removeHandler(handler)
    logger.propagate = True


def test_records_keep_level_logger_message_and_extra_fields(tail: LogTail) -> None:
    logging.getLogger("tests.tail").warning("fill %s at %.2f", "BTCUSD", 64000, extra={"run": 7})
    (entry,) = tail.entries()
    assert (entry.seq, entry.level, entry.logger) == (1, "WARNING", "tests.tail")
    assert entry.message == "fill BTCUSD at 64000.00"
    assert entry.fields == (("run", "7"),)


def test_the_buffer_keeps_only_the_newest_records(tail: LogTail) -> None:
    logger = logging.getLogger("tests.tail")
    for i in range(250):
        logger.info("record %d", i)
    kept = tail.entries()
    assert len(kept) == 100
    assert kept[0].message == "record 150" and kept[-1].message == "record 249"
    assert [e.seq for e in tail.entries(after=245)] == [246, 247, 248, 249, 250]


def test_records_from_many_threads_are_all_numbered_once(tail: LogTail) -> None:
    handler = LogTail(capacity=10_000)
    logger = logging.getLogger("tests.tail.threads")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:

        def write(n: int) -> None:
            for i in range(500):
                logger.info("thread %d record %d", n, i)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logger.removeHandler(handler)
    assert [e.seq for e in handler.entries()] == list(range(1, 2001))


def test_emit_never_raises_on_a_bad_record_or_a_failing_listener(tail: LogTail) -> None:
    def broken(seq: int) -> None:
        raise RuntimeError("listener bug")

    tail.listen(broken)
    logging.getLogger("tests.tail").error("%d items", "not a number")
    (entry,) = tail.entries()
    assert "could not format" in entry.message
    assert tail.errors == 1


def test_a_listener_that_logs_does_not_feed_itself(tail: LogTail) -> None:
    heard: list[int] = []

    def chatty(seq: int) -> None:
        heard.append(seq)
        logging.getLogger("tests.tail").info("heard %d", seq)

    stop = tail.listen(chatty)
    logging.getLogger("tests.tail").info("one")
    stop()
    logging.getLogger("tests.tail").info("two")
    assert heard == [1]
    assert [e.message for e in tail.entries()] == ["one", "two"]


def test_exceptions_keep_their_last_line(tail: LogTail) -> None:
    try:
        raise ValueError("bad bar")
    except ValueError:
        logging.getLogger("tests.tail").exception("replay failed")
    assert tail.entries()[0].exception == "ValueError: bad bar"


def test_the_process_tail_is_one_handler_on_the_root_logger() -> None:
    assert log_tail() is log_tail()
    assert logging.getLogger().handlers.count(log_tail()) == 1


async def test_a_burst_from_a_thread_is_announced_coalesced(tail: LogTail) -> None:
    bus = Bus()
    loop = asyncio.get_running_loop()
    bus.attach(loop)
    subscription = bus.subscribe(LogsAppended)
    stop = announce_logs(tail, bus, loop)

    def burst() -> None:
        for i in range(1_000):
            logging.getLogger("tests.tail").info("burst %d", i)

    await asyncio.to_thread(burst)
    await asyncio.sleep(0)
    stop()
    events = subscription.drain()
    assert events and events[-1].seq == 1_000
    assert len(events) < 1_000  # coalesced: one announcement stands for many records
