"""`quarterdeck serve`: the Deck without a local UI, its consoles served over SSH.

It runs until SIGTERM or SIGINT, then ends every session and stops the Deck
(draining the store writer). ``listen_ssh`` is shared with ``quarterdeck
--ssh-port N``, the local console that also serves SSH.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from typing import TYPE_CHECKING

from console.commands.errors import UsageError

if TYPE_CHECKING:
    from checks import ReadinessService
    from console.ssh.server import SSHService
    from core.config import Settings
    from core.deck import Deck

log = logging.getLogger(__name__)
DEFAULT_SSH_PORT = 2222
EXIT_CANNOT_LISTEN = 1


class CannotListen(Exception):
    """The SSH port could not be bound; the message says where and why."""


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("serve", help="run the Deck headless; consoles over SSH")
    parser.add_argument(
        "--ssh-port", type=port_number, default=DEFAULT_SSH_PORT, metavar="N",
        help=f"SSH port (default {DEFAULT_SSH_PORT}; 0 picks a free one)",
    )  # fmt: skip
    parser.add_argument(
        "--ssh-host", default=None, metavar="ADDR",
        help="address to listen on (default: the ssh_host setting, 127.0.0.1)",
    )  # fmt: skip
    parser.add_argument("--http-port", type=port_number, default=None, metavar="N",
                        help="the HTTP API: not served yet")  # fmt: skip
    parser.set_defaults(handler=serve_command)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def serve_command(args: argparse.Namespace) -> int:
    if args.http_port is not None:
        # Refused rather than ignored: a monitor pointed at a port that nobody serves
        # would fail later and further from the cause.
        raise UsageError("--http-port: the HTTP API is not served yet; leave the option out")
    settings: Settings = args.settings
    host = args.ssh_host or settings.ssh_host
    try:
        return asyncio.run(_serve(settings, host, args.ssh_port))
    except CannotListen as exc:
        print(f"quarterdeck serve: {exc}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN


async def listen_ssh(
    deck: Deck, readiness: ReadinessService | None, host: str, port: int
) -> SSHService:
    """Bind the SSH port and make the server one of the Deck's services (it lets users
    in once the Deck runs, and ends their sessions before the Deck stops)."""
    from console.ssh.host_key import HostKeyError
    from console.ssh.server import SSHService
    from console.ssh.users import UsersFileError

    ssh = SSHService(deck, readiness, host=host, port=port)
    try:
        await ssh.listen()
    except (HostKeyError, UsersFileError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise CannotListen(
            f"cannot listen for SSH on {host}:{port}: {exc.strerror or exc}"
        ) from None
    deck.add_service(ssh)
    return ssh


async def _serve(settings: Settings, host: str, port: int) -> int:
    from checks import ReadinessService
    from core.deck import Deck

    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    ssh = await listen_ssh(deck, readiness, host, port)
    print(f"quarterdeck: SSH on {host}:{ssh.port}, host key {ssh.fingerprint}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await deck.start()
        gc.freeze()  # as the console does: keep full collections off the long-lived heap
        print("quarterdeck: deck started; SIGTERM or Ctrl-C stops it", flush=True)
        await stopping.wait()
        log.info("signal received: shutting down")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await deck.stop()
        await ssh.stop()  # a no-op after the Deck stopped it; closes the port if start failed
    return 0
