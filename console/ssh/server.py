"""The SSH server: public-key logins with lockout and audit, one console per session.

``SSHService`` binds its port (``listen()``, early, so that a taken port is
reported before anything else starts) and is a Deck service: ``start()`` makes
the port accept connections once the Deck's parts run and the users are
loaded, ``stop()`` ends every session before the Deck drains. Each connection
gets a ``_Gate`` that authenticates it; each session on it a ``ConsoleSession``.

Refused outright: passwords and keyboard-interactive, exec and subsystems (no
shell, ever), TCP/Unix port forwarding, agent and X11 forwarding, sessions
without a PTY.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING, Any

import asyncssh

from console.lockout import Lockout
from console.ssh.heap import HeapKeeper
from console.ssh.host_key import fingerprint, load_or_create_host_key
from console.ssh.session import ConsoleSession
from console.ssh.users import User, UsersFile
from core.access import Principal
from core.audit import append_entry

if TYPE_CHECKING:
    from checks import ReadinessService
    from core.config import Settings
    from core.deck import Deck

log = logging.getLogger(__name__)
LOGIN_TIMEOUT = 30.0  # seconds a client has to authenticate


def bind_port(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and not yet listening (``OSError`` if taken)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


NO_NAME = "(no user name)"  # never a user's name: parentheses and spaces are not allowed


def printable(text: str, limit: int = 64) -> str:
    """A client-chosen string (a user name) made safe for the log and the audit trail;
    an empty or blank one is ``NO_NAME``, since an audit entry needs an actor and a
    refused login is recorded all the same."""
    cleaned = "".join(c if c.isprintable() else "?" for c in text[:limit])
    if not cleaned.strip():
        return NO_NAME
    return cleaned + ("..." if len(text) > limit else "")


class SSHService:
    def __init__(
        self,
        deck: Deck,
        readiness: ReadinessService | None,
        *,
        host: str,
        port: int,
        lockout: Lockout | None = None,
    ) -> None:
        self.deck = deck
        self.readiness = readiness
        self.settings: Settings = deck.settings
        self.host = host
        self.port = port
        self.users = UsersFile(self.settings.users_file)
        self.lockout = lockout or Lockout()
        self.heap = HeapKeeper()
        self.task_factory: Any = None
        self.fingerprint = ""
        self.sessions: set[ConsoleSession] = set()
        self.failed_logins = 0  # refused keys since start, for /metrics
        self._accepting = False
        self._server: asyncssh.SSHAcceptor | None = None
        self._socket: socket.socket | None = None
        self._host_key: asyncssh.SSHKey | None = None
        self._audits: set[asyncio.Task[None]] = set()

    async def listen(self) -> None:
        """Load (or create) the host key, load the users, and bind the port. Raises
        ``HostKeyError``, ``UsersFileError`` or ``OSError`` (the port is taken).

        The port is bound here, so a taken one is reported before anything starts, but
        it accepts connections only from ``start`` (the Deck then runs): until then the
        kernel refuses a connection, so the first one the port accepts can log in."""
        key, created = await asyncio.to_thread(load_or_create_host_key, self.settings.host_key_file)
        self.fingerprint = fingerprint(key)
        self._host_key = key
        log.info("ssh host key %s %s (%s)", "created" if created else "loaded",
                 self.fingerprint, self.settings.host_key_file)  # fmt: skip
        from console.ssh.users import load_users  # a broken file stops the start, loudly

        users = await asyncio.to_thread(load_users, self.settings.users_file)
        if not users.users:
            log.warning("no SSH users in %s: add one with `quarterdeck users add`",
                        self.settings.users_file)  # fmt: skip
        await asyncio.to_thread(self.users.current)  # loaded now, not at the first login
        self._socket = await asyncio.to_thread(bind_port, self.host, self.port)
        self.port = self._socket.getsockname()[1]

    async def start(self) -> None:
        """Accept connections: every login from now on finds the Deck and the users."""
        assert self._socket is not None, "listen() first"
        logging.getLogger("asyncssh").setLevel(logging.WARNING)  # its INFO is per packet
        self.task_factory = asyncio.get_running_loop().get_task_factory()
        self._accepting = True
        self._server = await asyncssh.listen(
            sock=self._socket, server_factory=lambda: _Gate(self),
            server_host_keys=[self._host_key], encoding=None, line_editor=False,
            allow_pty=True, agent_forwarding=False, x11_forwarding=False,
            login_timeout=LOGIN_TIMEOUT,
        )  # fmt: skip
        log.info("ssh listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Turn new logins away, end every session, close the port."""
        self._accepting = False
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif self._socket is not None:  # bound, never started
            self._socket.close()
        self._socket = None
        sessions = list(self.sessions)
        for session in sessions:
            session.end("shutdown")
        tasks = [s.task for s in sessions if s.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        if self._audits:
            await asyncio.wait(list(self._audits), timeout=10)

    @property
    def accepting(self) -> bool:
        return self._accepting

    def admit(self, session: ConsoleSession) -> bool:
        if len(self.sessions) >= self.settings.ssh_max_sessions:
            log.warning("ssh: %s from %s turned away: %d sessions open", session.principal.name,
                        session.source, len(self.sessions))  # fmt: skip
            return False
        self.sessions.add(session)
        return True

    def release(self, session: ConsoleSession) -> None:
        self.sessions.discard(session)

    def audit(self, actor: str, action: str, source: str, **detail: Any) -> None:
        """Append to the audit trail off the loop; ``stop()`` waits for what is pending."""
        task = asyncio.create_task(asyncio.to_thread(
            append_entry, self.deck.store, actor, action, source, {"source": source, **detail}
        ))  # fmt: skip
        self._audits.add(task)
        task.add_done_callback(self._audit_done)

    def _audit_done(self, task: asyncio.Task[None]) -> None:
        self._audits.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("ssh audit entry not written: %s", task.exception())


class _Gate(asyncssh.SSHServer):
    """One connection: who it is, whether they may in, and what they may open."""

    def __init__(self, service: SSHService) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.source = "?"
        # asyncssh calls begin_auth only for a name other than the empty one it starts
        # from, so a client that sends an empty name is judged (and audited) under this.
        self.name = printable("")
        self.user: User | None = None
        self.logged_in = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        self.source = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        if self.logged_in:
            log.info("ssh logout %s from %s", self.name, self.source)
            self.service.audit(self.name, "ssh.logout", self.address, port=self._port())
        self.conn = None

    def begin_auth(self, username: str) -> bool:
        self.name = printable(username)
        if not self.service.accepting:
            self._banner("Quarterdeck is starting or stopping; try again in a moment.")
            self.user = None
            return True
        left = self.service.lockout.remaining(self.name, self.address)
        if left:
            self._banner(f"Too many failed logins: locked for {left / 60:.0f} more minute(s).")
            log.warning("ssh login refused: %s from %s is locked out", self.name, self.source)
            self.service.audit(self.name, "ssh.locked_out", self.address, port=self._port(),
                               seconds_left=round(left))  # fmt: skip
            self.user = None
            return True
        self.user = self.service.users.current().get(username)
        return True  # everyone authenticates; an unknown name simply never succeeds

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return self._judge(self.user is not None and self.user.holds(key), key, "key")

    def validate_ca_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        trusted = self.user is not None and self.service.users.current().trusts(key)
        return self._judge(trusted, key, "certificate authority")

    def auth_completed(self) -> None:
        assert self.user is not None
        self.logged_in = True
        self.service.lockout.success(self.name, self.address)
        log.info("ssh login %s (%s) from %s", self.name, self.user.role.value, self.source)
        self.service.audit(self.name, "ssh.login", self.address, port=self._port(),
                           role=self.user.role.value)  # fmt: skip

    def session_requested(self) -> ConsoleSession | bool:
        if self.user is None:
            return False
        return ConsoleSession(
            self.service, Principal(self.user.name, self.user.role, source=f"ssh {self.source}")
        )

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:  # fmt: skip
        log.warning("ssh: %s from %s asked to forward a port; refused", self.name, self.source)
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.warning("ssh: %s from %s asked to listen on a port; refused", self.name, self.source)
        return False

    def _judge(self, accepted: bool, key: asyncssh.SSHKey, what: str) -> bool:
        """Count a refused key; the fifth within the window locks the name and address."""
        service = self.service
        if not service.accepting or service.lockout.remaining(self.name, self.address):
            return False  # locked (perhaps during this connection): nothing more is counted
        if accepted:
            return True
        service.failed_logins += 1
        print_ = key.get_fingerprint("sha256")
        log.warning("ssh failed login %s from %s (%s %s)", self.name, self.source, what, print_)
        service.audit(self.name, "ssh.auth_failed", self.address, port=self._port(), key=print_)
        if service.lockout.failure(self.name, self.address):
            minutes = service.lockout.duration / 60
            log.warning("ssh lockout: %s and %s locked for %g minutes after %d failures",
                        self.name, self.address, minutes, service.lockout.attempts)  # fmt: skip
            service.audit(self.name, "ssh.lockout", self.address, port=self._port(),
                          minutes=minutes)  # fmt: skip
            self._banner(f"Too many failed logins: locked for {minutes:g} minutes.")
        return False

    def _banner(self, text: str) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):  # authentication already finished
                self.conn.send_auth_banner(text + "\r\n")

    def _port(self) -> int:
        return int(self.source.rsplit(":", 1)[-1]) if ":" in self.source else 0
