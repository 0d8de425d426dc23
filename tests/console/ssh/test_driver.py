"""The SSH driver on its own: a small app drawn into a buffer, fed bytes as a client would."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.geometry import Size

from console.ssh.driver import Link, SSHDriver
from console.ssh.session import client_console


class KeyApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def on_key(self, event: events.Key) -> None:
        self.keys.append(event.key)


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


class Running:
    def __init__(self, size: tuple[int, int] = (100, 30)) -> None:
        self.output: list[str] = []
        self.link = Link(self.output.append, size, asyncio.get_running_loop().get_task_factory())
        self.app = KeyApp()
        self.app.driver_class = partial(SSHDriver, link=self.link)  # type: ignore[assignment]
        self.task = asyncio.create_task(self.app.run_async(size=size))

    async def started(self) -> Running:
        await until(lambda: self.app.is_running and self.link.driver is not None)
        return self

    async def stop(self) -> None:
        self.app.exit()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    session = await Running().started()
    yield session
    await session.stop()


async def test_size_comes_from_the_pty_and_follows_window_changes(running: Running) -> None:
    await until(lambda: running.app.size == Size(100, 30))
    running.link.resize(132, 43)
    await until(lambda: running.app.screen.size == Size(132, 43))  # laid out again


async def test_a_lone_escape_arrives_without_another_key_behind_it(running: Running) -> None:
    running.link.feed(b"a")
    await until(lambda: running.app.keys == ["a"])
    running.link.feed(b"\x1b")  # nothing follows: only a timed tick can settle it
    await until(lambda: running.app.keys == ["a", "escape"], timeout=2.0)
    running.link.feed(b"\x1b[A")  # a whole sequence is one key, not Esc + text
    await until(lambda: running.app.keys[-1] == "up")
    assert running.app.keys == ["a", "escape", "up"]


async def test_application_mode_is_entered_and_left_on_the_channel() -> None:
    session = await Running().started()
    await until(lambda: any("\x1b[?1049h" in chunk for chunk in session.output))
    await session.stop()
    written = "".join(session.output)
    assert written.rindex("\x1b[?1049l") > written.rindex("\x1b[?1049h")  # screen given back
    assert written.rindex("\x1b[?25h") > written.rindex("\x1b[?25l")  # cursor shown again


async def test_overlapping_sessions_leave_the_process_streams_alone() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    first = await Running().started()
    second = await Running().started()
    assert (sys.stdout, sys.stderr) == (stdout, stderr)
    await first.stop()  # out of order: the first to start ends first
    assert (sys.stdout, sys.stderr) == (stdout, stderr)
    await second.stop()
    assert (sys.stdout, sys.stderr) == (stdout, stderr)


async def test_the_shared_loop_keeps_its_task_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12+ App.run_async installs asyncio.eager_task_factory on the running loop;
    on 3.11 the attribute is absent, so it is planted here to make run_async do it."""
    loop = asyncio.get_running_loop()
    mine = loop.get_task_factory()
    planted: list[Any] = []

    def eager(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        planted.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    monkeypatch.setattr(asyncio, "eager_task_factory", eager, raising=False)
    session = await Running().started()
    assert loop.get_task_factory() is mine
    await session.stop()
    assert loop.get_task_factory() is mine


@pytest.mark.parametrize(
    ("term", "colorterm", "system"),
    [("xterm", "", "standard"), ("xterm-256color", "", "256"),
     ("xterm-256color", "truecolor", "truecolor"), ("dumb", "", None)],
)  # fmt: skip
def test_colour_depth_comes_from_the_client(term: str, colorterm: str, system: str | None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("COLORTERM", "truecolor")  # the server's own: must not count
    monkeypatch.setenv("TERM", "xterm-256color")
    env = {"COLORTERM": colorterm} if colorterm else {}
    assert client_console(term, env).color_system == system
