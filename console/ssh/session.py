"""One SSH session: its own QuarterdeckApp on the shared Deck, drawn on the channel.

The session lives in the server's process and event loop. Whatever happens to
its app (a crash, a client that stops reading, an idle user) ends this session
only; a crash's traceback goes to the log, never to the server's terminal.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING

import asyncssh
from rich.console import Console
from textual._styles_cache import StylesCache
from textual.filter import ANSIToTruecolor

from console.ssh.driver import Link, SSHDriver
from core.access import Principal
from core.logs import correlated

if TYPE_CHECKING:
    from console.app import QuarterdeckApp
    from console.ssh.server import SSHService

log = logging.getLogger(__name__)
MAX_BACKLOG = 4_000_000  # bytes queued for a client that does not read; then it is dropped
FAREWELL = {
    "idle": "Quarterdeck: session closed after {minutes:g} minutes without input.",
    "backlog": "Quarterdeck: session closed: the terminal stopped reading.",
    "shutdown": "Quarterdeck: the server is shutting down.",
}


class _Discard:
    """The file of an app's console: Textual draws through the driver, not this."""

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def release_textual_caches() -> None:
    """Two of Textual's lru_caches are keyed by objects that belong to one app (each
    widget's StylesCache, the app's colour filter), so they keep a finished session's
    styles and rendered strips (about 0.6 MB) alive until 1,024 newer entries push
    them out. Emptying them when a session ends costs the live sessions a few
    recomputed styles."""
    StylesCache.get_inner_outer.cache_clear()
    ANSIToTruecolor.truecolor_style.cache_clear()


def client_console(term: str, env: Mapping[str, str]) -> Console:
    """The app's console, its colour depth read from the client's TERM and COLORTERM
    (the server's own environment says nothing about the user's terminal)."""
    environ = {"TERM": term, "COLORTERM": env.get("COLORTERM", "")}
    return Console(
        color_system="auto", file=_Discard(), markup=True, highlight=False, emoji=False,
        legacy_windows=False, _environ=environ, force_terminal=True, safe_box=False,
        soft_wrap=False,
    )  # fmt: skip


class ConsoleSession(asyncssh.SSHServerSession[bytes]):
    def __init__(self, service: SSHService, principal: Principal) -> None:
        self.service = service
        self.principal = principal
        self.source = principal.source
        self.app: QuarterdeckApp | None = None
        self.task: asyncio.Task[None] | None = None
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term: str | None = None
        self._link: Link | None = None
        self._reason: str | None = None
        self._last_input = 0.0
        self._idle: asyncio.TimerHandle | None = None

    # asyncssh callbacks -------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:  # type: ignore[override]
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Mapping[int, int]) -> bool:  # fmt: skip
        self._term = term_type
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.warning("ssh: %s from %s asked to run a command; refused (no shell, ever)",
                    self.principal.name, self.source)  # fmt: skip
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.warning("ssh: %s from %s asked for subsystem %r; refused",
                    self.principal.name, self.source, subsystem[:64])  # fmt: skip
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def session_started(self) -> None:
        assert self._chan is not None
        if self._term is None:
            self._refuse("Quarterdeck needs a terminal: connect with ssh -t.")
            return
        if not self.service.admit(self):
            limit = self.service.settings.ssh_max_sessions
            self._refuse(f"Quarterdeck: all {limit} sessions are in use; try again later.")
            return
        width, height = self._chan.get_terminal_size()[:2]
        loop = asyncio.get_running_loop()
        self._link = Link(self._write, (width or 80, height or 24), self.service.task_factory)
        self._last_input = loop.time()
        self._watch_idle()
        self.task = asyncio.create_task(
            self._run(), name=f"ssh session {self.principal.name}@{self.source}"
        )

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self._last_input = asyncio.get_running_loop().time()
        if self._link is not None:
            self._link.feed(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:  # fmt: skip
        if self._link is not None and width and height:
            self._link.resize(width, height)

    def eof_received(self) -> bool:
        self.end("eof")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.end("disconnected")

    # the app --------------------------------------------------------------

    async def _run(self) -> None:
        from console.app import QuarterdeckApp  # the app pulls in every screen: load late

        assert self._chan is not None and self._link is not None
        service = self.service
        app = self.app = QuarterdeckApp(
            service.deck, service.readiness, user=self.principal, start_deck=False
        )
        app.driver_class = partial(SSHDriver, link=self._link)  # type: ignore[assignment]
        app.console = client_console(self._term or "xterm", self._chan.get_environment())
        errors = io.StringIO()
        app.error_console = Console(file=errors, color_system=None, width=120)
        if self._reason is not None:  # the client left before the app started
            app.exit(1)
        service.heap.session_started()
        ids = {"session_id": uuid.uuid4().hex[:12], "user": self.principal.name}
        with correlated(**ids):  # on its records, and inherited by every task of the app
            try:
                await app.run_async(size=self._link.size)
            except Exception:
                log.exception("ssh session of %s from %s failed", self.principal.name, self.source)
            finally:
                if errors.getvalue().strip():
                    log.error("ssh session of %s from %s ended by an error:\n%s",
                              self.principal.name, self.source, errors.getvalue())  # fmt: skip
                self._finish(app.return_code or 0)
                service.heap.session_ended(app, self)

    def _finish(self, code: int) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        message = FAREWELL.get(self._reason or "")
        if message:
            self._write(message.format(minutes=self.service.settings.ssh_idle_timeout / 60)
                        + "\r\n")  # fmt: skip
        if self._chan is not None:
            self._chan.exit(code)
        self.service.release(self)
        if self._link is not None:
            self._link.driver = None  # the driver holds the app: let both go
        self.app = None
        release_textual_caches()

    def end(self, reason: str) -> None:
        """Stop this session's app (idle, shutdown, the client left...)."""
        if self._reason is None:
            self._reason = reason
        if self.app is not None:
            self.app.exit()

    # plumbing -------------------------------------------------------------

    def _refuse(self, message: str) -> None:
        assert self._chan is not None
        self._chan.write_stderr((message + "\r\n").encode())
        self._chan.exit(1)

    def _write(self, text: str) -> None:
        chan = self._chan
        if chan is None or chan.is_closing():
            return
        try:
            chan.write(text.encode("utf-8", "replace"))
        except (OSError, asyncssh.Error):
            self.end("disconnected")
            return
        if chan.get_write_buffer_size() > MAX_BACKLOG:
            log.warning("ssh session of %s from %s: the client is not reading; closing it",
                        self.principal.name, self.source)  # fmt: skip
            self.end("backlog")

    def _watch_idle(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = self.service.settings.ssh_idle_timeout
        left = self._last_input + timeout - loop.time()
        if left <= 0:
            log.info("ssh session of %s from %s idle for %gs: closing",
                     self.principal.name, self.source, timeout)  # fmt: skip
            self._idle = None
            self.end("idle")
            return
        self._idle = loop.call_later(left, self._watch_idle)
