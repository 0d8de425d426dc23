"""The ``quarterdeck`` command.

With no command it opens the console on the built-in simulator. Errors in
arguments or configuration go to stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, cast

from console.commands import (
    account,
    audit,
    batch,
    check,
    datasets,
    db,
    export,
    jobs,
    optimize,
    replay,
    research,
    runbook,
    serve,
    users,
)
from console.commands.errors import UsageError
from console.commands.executor import add_executor_argument
from core import __version__
from core.config import ConfigurationError, Settings, load_settings, make_directories
from core.executor_spec import check_executor_spec
from core.logs import configure_logging
from core.research import strategy_sources

if TYPE_CHECKING:
    from checks import ReadinessService
    from core.deck import Deck, Service
    from core.deck_loop import DeckLoop

EXIT_USAGE = 2
EXIT_STORE_UNAVAILABLE = 3


def _unavailable(exc: Exception) -> bool:
    """Whether ``exc`` says a service Quarterdeck needs (its database, its Dask
    cluster, its account) cannot be had: a message and exit code 3, not a traceback."""
    from core.executor_spec import ExecutorUnavailable
    from core.store import StoreUnavailable  # loaded by whatever raised it
    from core.store.accounts import AccountInUse

    return isinstance(exc, StoreUnavailable | ExecutorUnavailable | AccountInUse)


def _bad_strategy_code(exc: Exception) -> bool:
    """Whether ``exc`` is a user strategy failing in a run (it raised, or returned a
    wrong output): its file and line on one line, exit code 2, not a traceback."""
    from core.research.strategies.user import StrategyCodeError

    return isinstance(exc, StrategyCodeError)


def _with_executor(settings: Settings, args: argparse.Namespace) -> Settings:
    """``settings`` with the ``--executor`` given (on the command, or before it)."""
    spec = getattr(args, "executor", None) or args.console_executor
    if spec is None:
        return settings
    try:
        return settings.model_copy(update={"executor": check_executor_spec(spec)})
    except ValueError as exc:
        raise UsageError(f"--executor: {exc}") from None


class Parser(argparse.ArgumentParser):
    """Usage errors on one line that names the command and the option, exit code 2:
    ``quarterdeck backtest: argument --cash: expected a number in (0, 1e+15], got 'inf'``.
    Its subcommands' parsers are of this class too (argparse's default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (--help for usage)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="quarterdeck",
        description="Operations console for a trading desk: paper trading, research, readiness.",
    )
    parser.add_argument("--version", action="version", version=f"quarterdeck {__version__}")
    parser.add_argument("--ssh-port", dest="console_ssh_port", type=serve.port_number,
                        default=None, metavar="N",
                        help="also serve the console over SSH on this port")  # fmt: skip
    parser.add_argument("--http-port", dest="console_http_port", type=serve.port_number,
                        default=None, metavar="N",
                        help="also serve /health and /metrics over HTTP on this port")  # fmt: skip
    add_executor_argument(parser, dest="console_executor")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    research.add_parsers(commands)
    optimize.add_parser(commands)
    batch.add_parser(commands)
    replay.add_parser(commands)
    jobs.add_parser(commands)
    datasets.add_parser(commands)
    audit.add_parser(commands)
    check.add_parser(commands)
    runbook.add_parser(commands)
    export.add_parser(commands)
    serve.add_parser(commands)
    account.add_parser(commands)
    users.add_parser(commands)
    db.add_parser(commands)
    return parser


def run_console(
    settings: Settings, ssh_port: int | None = None, http_port: int | None = None
) -> int:
    """The console on this terminal, its Deck on a loop and thread of its own
    (``core.deck_loop``): a screen's layout never holds the engine's loop."""
    from core.deck_loop import DeckLoop

    deck_loop = DeckLoop().start()
    try:
        return asyncio.run(_console(settings, deck_loop, ssh_port, http_port))
    finally:
        deck_loop.close()


async def _console(
    settings: Settings, deck_loop: DeckLoop, ssh_port: int | None, http_port: int | None
) -> int:
    # Imported here so that `quarterdeck --version` and headless commands stay fast.
    from console.app import QuarterdeckApp
    from console.boot import DeckRecipe
    from core.deck_loop import Remote, ServiceOn, on_loop

    recipe = DeckRecipe(settings)
    servers: list[Service] = []
    if ssh_port is None and http_port is None:
        app = QuarterdeckApp(recipe, handle_sigterm=True, manage_heap=True,
                             deck_loop=deck_loop.loop)  # fmt: skip
    else:  # the ports are bound before anything starts, so a taken one fails at once
        deck, readiness = recipe.build()
        remote = cast("Deck", Remote(deck, deck_loop.loop))
        remote_readiness = cast("ReadinessService", Remote(readiness, deck_loop.loop))
        try:
            ssh = None
            if ssh_port is not None:
                ssh = await serve.listen_ssh(remote, remote_readiness, settings.ssh_host, ssh_port)
                servers.append(ssh)
                print(f"quarterdeck: SSH on {settings.ssh_host}:{ssh.port}, host key "
                      f"{ssh.fingerprint}", file=sys.stderr)  # fmt: skip
            if http_port is not None:
                listening = serve.listen_web(deck, readiness, ssh, http_port)
                for web in await on_loop(deck_loop.loop, listening):
                    servers.append(ServiceOn(web, deck_loop.loop))
                    print(f"quarterdeck: {web.announcement}", file=sys.stderr)
        except BaseException:
            for server in servers:
                await server.stop()
            raise
        app = QuarterdeckApp(deck, readiness, handle_sigterm=True, manage_heap=True,
                             deck_loop=deck_loop.loop)  # fmt: skip
    try:
        result = await app.run_async()
    finally:
        if app.deck_ready.is_set():
            await app.deck.stop()  # a no-op after a normal quit; cleans up after a crash
        for server in servers:
            await server.stop()  # closes the port if the Deck never started
    return app.return_code if app.return_code is not None else (result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _with_executor(load_settings(), args)
        make_directories(settings)
    except (ConfigurationError, UsageError) as exc:
        print(f"quarterdeck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(
        settings.log_file, settings.log_level, settings.log_max_bytes, settings.log_backups
    )
    strategy_sources.use(settings.user_strategies_dir)
    if args.command is None:
        try:
            return run_console(settings, args.console_ssh_port, args.console_http_port)
        except UsageError as exc:
            print(f"quarterdeck: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except serve.CannotListen as exc:
            print(f"quarterdeck: {exc}", file=sys.stderr)
            return serve.EXIT_CANNOT_LISTEN
        except Exception as exc:
            if not _unavailable(exc):
                raise
            print(f"quarterdeck: {exc}", file=sys.stderr)
            return EXIT_STORE_UNAVAILABLE
    for option, given in (("ssh", args.console_ssh_port), ("http", args.console_http_port)):
        if given is not None:
            print(
                f"quarterdeck {args.command}: --{option}-port before a command serves "
                f"{option.upper()} beside the local console; headless, use: "
                f"quarterdeck serve --{option}-port N",
                file=sys.stderr,
            )
            return EXIT_USAGE
    args.settings = settings
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"quarterdeck {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if _bad_strategy_code(exc):
            print(f"quarterdeck {args.command}: strategy code: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if not _unavailable(exc):
            raise
        print(f"quarterdeck {args.command}: {exc}", file=sys.stderr)
        return EXIT_STORE_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
