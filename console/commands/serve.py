"""`quarterdeck serve`: the Deck without a local UI, its consoles served over SSH and,
with ``--http-port``, its health and metrics over HTTP.

It runs until SIGTERM or SIGINT, then ends every session and stops the Deck
(draining the store writer). ``listen_ssh`` and ``listen_http`` are shared with
``quarterdeck --ssh-port N --http-port N``, the local console that also serves.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from typing import TYPE_CHECKING, cast

from console.commands.errors import UsageError
from console.commands.executor import add_executor_argument
from console.commands.options import number
from core import bounds
from core.deck_loop import DeckLoop, Remote, ServiceOn, on_loop

if TYPE_CHECKING:
    from checks import ReadinessService
    from console.api.redirect import HttpsRedirect
    from console.api.server import ApiServer
    from console.ssh.server import SSHService
    from core.config import Settings
    from core.deck import Deck

log = logging.getLogger(__name__)
DEFAULT_SSH_PORT = 2222
EXIT_CANNOT_LISTEN = 1


class CannotListen(Exception):
    """The SSH or HTTP port could not be bound; the message says where and why."""


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
    parser.add_argument(
        "--http-port", type=port_number, default=None, metavar="N",
        help="also serve the control API (/api/v1), /health, /health/detailed and /metrics "
        "over HTTP on this port (0 picks a free one; address: the http_host setting, "
        "127.0.0.1)",
    )  # fmt: skip
    add_executor_argument(parser)
    parser.set_defaults(handler=serve_command)


#: An argparse type: a TCP port (0 picks a free one).
port_number = number(bounds.PORT)


def serve_command(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    host = args.ssh_host or settings.ssh_host
    try:
        return asyncio.run(_serve(settings, host, args.ssh_port, args.http_port))
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
    # Its sessions' apps run where it listens (the consoles' loop), wherever the Deck runs.
    deck.add_service(ServiceOn(ssh, asyncio.get_running_loop()))
    return ssh


async def listen_http(
    deck: Deck, readiness: ReadinessService | None, ssh: SSHService | None, port: int
) -> ApiServer:
    """Bind the HTTP port on the ``http_host`` setting and make the API server one of
    the Deck's services (it answers ``/health`` from the moment it is bound). Call it on
    the Deck's loop: the API runs there. Its callers are judged with ``ssh``'s lockout
    when there is one, so both front ends share it."""
    from console.api.authenticator import open_authenticator
    from console.api.context import ApiContext
    from console.api.jwt_key import JwtKeyError
    from console.api.server import ApiServer, server_tls
    from console.lockout import Lockout

    settings = deck.settings
    host = settings.http_host
    tls = None
    if settings.http_tls_cert_file is not None and settings.http_tls_key_file is not None:
        try:
            tls = server_tls(settings.http_tls_cert_file, settings.http_tls_key_file)
        except ValueError as exc:
            raise CannotListen(f"cannot serve HTTPS: {exc}") from None
    # One lockout for both front ends: a guesser stopped over SSH is stopped here too.
    lockout = ssh.lockout if ssh is not None else Lockout()
    try:
        authenticator = await open_authenticator(deck, lockout)
    except JwtKeyError as exc:
        raise UsageError(str(exc)) from None
    context = ApiContext(deck, readiness, ssh, authenticator=authenticator)
    http = ApiServer(context, host=host, port=port, tls=tls)
    try:
        await http.listen()
    except OSError as exc:
        raise CannotListen(
            f"cannot listen for HTTP on {host}:{port}: {exc.strerror or exc}"
        ) from None
    deck.add_service(http)
    return http


async def listen_web(
    deck: Deck, readiness: ReadinessService | None, ssh: SSHService | None, port: int
) -> list[ApiServer | HttpsRedirect]:
    """``listen_http``, and ``listen_redirect`` beside it when that is set (nothing is
    left bound if either fails). Call it on the Deck's loop."""
    http = await listen_http(deck, readiness, ssh, port)
    try:
        redirect = await listen_redirect(deck.settings, http)
    except CannotListen:
        await http.stop()
        raise
    return [http] if redirect is None else [http, redirect]


async def listen_redirect(settings: Settings, https: ApiServer) -> HttpsRedirect | None:
    """With the ``http_redirect_port`` setting, bind plain HTTP on the ``http_host``
    setting, redirecting every request to ``https``'s port. Call it on the Deck's loop,
    as ``listen_http``."""
    from console.api.redirect import HttpsRedirect

    if settings.http_redirect_port is None:
        return None
    host = settings.http_host
    redirect = HttpsRedirect(host=host, port=settings.http_redirect_port, https_port=https.port)
    try:
        await redirect.listen()
    except OSError as exc:
        raise CannotListen(
            f"cannot listen for HTTP on {host}:{settings.http_redirect_port} "
            f"(http_redirect_port): {exc.strerror or exc}"
        ) from None
    return redirect


async def _serve(settings: Settings, host: str, port: int, http_port: int | None) -> int:
    """The Deck on a loop and thread of its own (``core.deck_loop``), the monitoring port
    on that loop; the SSH server and its sessions' apps on this one."""
    from checks import ReadinessService
    from core.deck import Deck

    deck = Deck(settings)
    readiness = ReadinessService(deck, remember_target=True)
    deck.add_service(readiness)
    deck_loop = DeckLoop().start()
    remote = cast("Deck", Remote(deck, deck_loop.loop))
    try:
        ssh = await listen_ssh(remote, cast("ReadinessService", Remote(readiness, deck_loop.loop)),
                               host, port)  # fmt: skip
        print(f"quarterdeck: SSH on {host}:{ssh.port}, host key {ssh.fingerprint}", flush=True)
        servers: list[ApiServer | HttpsRedirect] = []  # on the Deck's loop
        if http_port is not None:
            try:
                servers = await on_loop(deck_loop.loop,
                                        listen_web(deck, readiness, ssh, http_port))  # fmt: skip
            except CannotListen:
                await ssh.stop()
                raise
            for server in servers:
                print(f"quarterdeck: {server.announcement}", flush=True)
        await _run_until_signalled(remote, ssh, servers, deck_loop)
    finally:
        deck_loop.close()
    return 0


async def _run_until_signalled(
    deck: Deck, ssh: SSHService, servers: list[ApiServer | HttpsRedirect], deck_loop: DeckLoop
) -> None:
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
        for server in servers:
            await on_loop(deck_loop.loop, server.stop())
