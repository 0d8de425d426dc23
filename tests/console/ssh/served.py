"""An in-process Deck serving SSH on a free port, and an asyncssh client for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from checks import ReadinessService
from console.ssh.server import SSHService
from console.ssh.users import add_user, read_key_file
from core.access import Role
from core.config import Settings
from core.deck import Deck
from tests.console.ssh.keys import make_key


@dataclass
class Served:
    deck: Deck
    ssh: SSHService
    keys: dict[str, Path]


@asynccontextmanager
async def serving(settings: Settings, key_dir: Path,
                  users: dict[str, Role]) -> AsyncIterator[Served]:  # fmt: skip
    keys = {}
    for name, role in users.items():
        keys[name] = make_key(key_dir, name)
        add_user(settings.users_file, name, role, read_key_file(Path(f"{keys[name]}.pub")))
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    ssh = SSHService(deck, readiness, host="127.0.0.1", port=0)
    await ssh.listen()
    deck.add_service(ssh)
    await deck.start()
    try:
        yield Served(deck, ssh, keys)
    finally:
        await deck.stop()
        await ssh.stop()


class Screen(asyncssh.SSHClientSession[bytes]):
    """Everything the server sent on one session, and how it ended."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = asyncio.Event()
        self.exit_status: int | None = None

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.data += data

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    async def wait_for(self, text: bytes, timeout: float = 30.0) -> None:
        async def poll() -> None:
            while text not in self.data:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout)


async def connect(
    served: Served, user: str, key: Path | None = None
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1", served.ssh.port, username=user, client_keys=[str(key or served.keys[user])],
        known_hosts=None, agent_path=None, config=None,
    )  # fmt: skip


async def open_console(
    conn: asyncssh.SSHClientConnection, pty: bool = True
) -> tuple[asyncssh.SSHClientChannel[bytes], Screen]:
    extra = {"term_type": "xterm-256color", "term_size": (100, 30)} if pty else {}
    chan, screen = await conn.create_session(Screen, encoding=None, **extra)  # type: ignore[arg-type]
    return chan, screen


async def until(condition: object, timeout: float = 30.0) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)
