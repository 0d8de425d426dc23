"""A Textual driver whose terminal is an SSH channel, for an app that shares its process
and event loop with the Deck and with other sessions.

It subclasses the base ``Driver``: ``LinuxDriver`` installs process-wide signal
handlers and works the server's own stdin and termios. Everything here runs on
the event loop: input arrives from asyncssh callbacks, output goes to the
channel, and every event reaches the app through its ``post_message``.

Two things ``App.run_async`` does to the whole process are undone here, because
the driver is built inside ``run_async`` after the one and just before the
other: it may install an eager task factory on the shared loop (Python 3.12+),
and it redirects ``sys.stdout``/``sys.stderr`` to the app for as long as the app
runs. Overlapping sessions enter and leave those redirections out of order, so
each would restore another's streams and keep a finished app alive; pointing an
app's capture at the streams already in place makes its redirection a no-op.
"""

from __future__ import annotations

import asyncio
import codecs
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import constants, events
from textual._xterm_parser import XTermParser  # the parser LinuxDriver uses; no public one
from textual.app import App
from textual.driver import Driver
from textual.geometry import Size
from textual.message import Message

TaskFactory = Callable[..., Any] | None

ENTER = (
    "\x1b[?1049h"  # alternate screen
    "\x1b[?1000h\x1b[?1003h\x1b[?1015h\x1b[?1006h"  # mouse: clicks, motion, SGR coordinates
    "\x1b[?25l"  # hide the cursor
    "\x1b[?1004h"  # focus in/out reports
    "\x1b[?2026$p"  # does the terminal support synchronized output?
    "\x1b[?2004h"  # bracketed paste
    "\x1b[?7l"  # no line wrap
)
KITTY_KEYS = "\x1b[>25u"  # disambiguate escapes, report all keys with text: Esc needs no wait
LEAVE = (
    "\x1b[?2004l\x1b[?7h"
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"
    "\x1b[<u"  # kitty keyboard protocol off, before leaving the alternate screen
    "\x1b[?1049l\x1b[?25h\x1b[?1004l"
)


@dataclass
class Link:
    """What a session's driver is bound to: set up by the session before the app runs.

    ``write`` sends text to the client; ``size`` is the terminal's (columns, rows)
    from the PTY request; ``task_factory`` is the shared loop's own, to keep.
    """

    write: Callable[[str], None]
    size: tuple[int, int]
    task_factory: TaskFactory
    driver: SSHDriver | None = None
    pending: list[bytes] = field(default_factory=list)  # input before application mode

    def feed(self, data: bytes) -> None:
        if self.driver is not None:
            self.driver.feed(data)
        elif len(self.pending) < 64:  # typed before the app was up; a flood is dropped
            self.pending.append(data)

    def resize(self, width: int, height: int) -> None:
        if self.driver is not None:
            self.driver.resize(width, height)
        else:
            self.size = (width, height)


class SSHDriver(Driver):
    """Bound to one session's ``Link``; make it with ``functools.partial(SSHDriver, link=)``."""

    def __init__(
        self,
        app: App[Any],
        *,
        link: Link,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size or link.size)
        self._link = link
        self._parser = XTermParser()
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._accepting = False
        self._tick: asyncio.TimerHandle | None = None
        self._loop.set_task_factory(link.task_factory)
        app._capture_stdout = sys.stdout  # type: ignore[assignment]
        app._capture_stderr = sys.stderr  # type: ignore[assignment]
        link.driver = self

    @property
    def can_suspend(self) -> bool:
        return False  # there is no shell to suspend to

    def open_url(self, url: str, new_tab: bool = True) -> None:
        """Would open a browser on the server, not the user's machine: do nothing."""

    def send_message(self, message: Message) -> None:
        self._app.post_message(message)

    def write(self, data: str) -> None:
        self._link.write(data)

    def start_application_mode(self) -> None:
        self.write(ENTER + ("" if constants.DISABLE_KITTY_KEY else KITTY_KEYS))
        self.resize(*self._link.size)
        self._accepting = True
        pending, self._link.pending = self._link.pending, []
        for data in pending:
            self.feed(data)

    def disable_input(self) -> None:
        self._accepting = False
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def stop_application_mode(self) -> None:
        self.disable_input()
        self.write(LEAVE)

    def feed(self, data: bytes) -> None:
        """Bytes from the client: parse them into key, mouse and paste events."""
        if not self._accepting:
            return
        for event in self._parser.feed(self._decode(data)):
            self.process_message(event)
        # A lone ESC may be the Escape key or the start of a sequence; the parser decides
        # only when asked again after ESCAPE_DELAY. LinuxDriver's input thread asks every
        # 100 ms; here nothing would ask until the next byte, so Esc would arrive late.
        if self._tick is not None:
            self._tick.cancel()
        self._tick = self._loop.call_later(constants.ESCAPE_DELAY + 0.005, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        if self._accepting:
            for event in self._parser.tick():
                self.process_message(event)

    def resize(self, width: int, height: int) -> None:
        """The client's window changed (or its first size, from the PTY request)."""
        size = Size(max(width, 1), max(height, 1))
        self._link.size = (size.width, size.height)
        self._parser.terminal_size = self._link.size
        self.send_message(events.Resize(size, size))
