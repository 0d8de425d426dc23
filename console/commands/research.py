"""`quarterdeck strategies` and `quarterdeck backtest`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.commands import strategies
from console.commands.errors import UsageError
from console.commands.options import number
from core import bounds, jsontext

if TYPE_CHECKING:
    from core.research.backtest import BacktestConfig
    from core.research.runner import BacktestResult
    from core.research.strategies import Strategy


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    listing = commands.add_parser("strategies", help="list the strategy library")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=strategies_command)
    strategies.add_subcommands(listing)

    backtest = commands.add_parser("backtest", help="backtest one strategy on a data file")
    backtest.add_argument("strategy", metavar="STRATEGY")
    backtest.add_argument("--data", required=True, metavar="FILE", help="CSV or Parquet OHLCV")
    backtest.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="repeatable"
    )
    add_config_arguments(backtest)
    backtest.add_argument("--json", action="store_true", help="machine-readable output")
    backtest.set_defaults(handler=backtest_command)


def add_cost_arguments(parser: argparse.ArgumentParser) -> None:
    """Cash and the costs of a fill: shared by backtest, optimize, batch and replay."""
    parser.add_argument("--cash", type=number(bounds.CASH), default=100_000.0, metavar="X")
    parser.add_argument("--commission", type=number(bounds.COMMISSION), default=0.0, metavar="F",
                        help="fraction of notional per fill")  # fmt: skip
    parser.add_argument(
        "--fixed-fee", type=number(bounds.FEE), default=0.0, metavar="X", help="per fill"
    )
    parser.add_argument(
        "--slippage-bps", type=number(bounds.SLIPPAGE_BPS), default=0.0, metavar="B"
    )


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The backtest configuration flags, shared by backtest, optimize and batch."""
    add_cost_arguments(parser)
    parser.add_argument("--fill", choices=["next_open", "close"], default="next_open")
    parser.add_argument("--units", choices=["whole", "fractional"], default="whole")
    parser.add_argument("--size", type=number(bounds.FRACTION), default=1.0, metavar="F",
                        help="fraction of equity per entry")  # fmt: skip
    parser.add_argument("--stop-loss", type=number(bounds.STOP_LOSS), default=None, metavar="F")
    parser.add_argument("--take-profit", type=number(bounds.TAKE_PROFIT), default=None, metavar="F")
    parser.add_argument("--close-at-end", action="store_true")
    parser.add_argument("--direction", choices=["long", "short", "both"], default=None,
                        help="sides to trade (default: the strategy's own)")  # fmt: skip


def config_from(args: argparse.Namespace) -> BacktestConfig:
    """A validated BacktestConfig from the flags (ValueError names the bad one)."""
    from core.research.backtest import BacktestConfig

    return BacktestConfig(
        cash=args.cash, commission=args.commission, fixed_fee=args.fixed_fee,
        slippage_bps=args.slippage_bps, fill=args.fill, units=args.units, size=args.size,
        stop_loss=args.stop_loss, take_profit=args.take_profit, close_at_end=args.close_at_end,
        direction=args.direction,
    )  # fmt: skip


def describe(strategy: Strategy) -> dict[str, Any]:
    return {
        "id": strategy.id,
        "name": strategy.name,
        "family": strategy.family.value,
        "direction": strategy.direction.value,
        "description": strategy.description,
        "params": [
            {
                "name": p.name,
                "type": p.type.__name__,
                "default": p.default,
                "min": p.min,
                "max": p.max,
                "step": p.step,
            }
            for p in strategy.params
        ],
        "source": strategy.source,
        "version": strategy.version,
    }


def strategies_command(args: argparse.Namespace) -> int:
    """The library, built-ins and user strategies; what did not load goes to stderr
    (``strategies list --json`` has it in the document)."""
    from core.research.strategies import all_strategies, load_errors

    described = [describe(s) for s in all_strategies()]
    if args.json:
        print(jsontext.dumps(described, indent=2))
    else:
        print_listing(described)
    strategies.print_errors(load_errors())
    return 0


def print_listing(described: list[dict[str, Any]]) -> None:
    """One line a strategy; a user strategy's source and version after its parameters."""
    width = max(len(s["id"]) for s in described)
    for s in described:
        params = ", ".join(f"{p['name']}={p['default']}" for p in s["params"])
        line = f"{s['id']:<{width}}  {s['family']:<20} {s['direction']:<5}  {params}"
        if s["source"] != "built-in":
            line += f"  [{s['source']} {s['version']}]"
        print(line)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param {pair!r}: expected NAME=VALUE")
        params[name.strip()] = value.strip()
    return params


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def backtest_command(args: argparse.Namespace) -> int:
    from core.market.loader import DataFileError, load_bars
    from core.research.runner import run_backtest
    from core.research.strategies import ParameterError, get_strategy

    try:
        strategy = get_strategy(args.strategy)
        params = strategy.resolve(parse_params(args.param))
        config = config_from(args)
        bars = load_bars(args.data)
    except (KeyError, ParameterError, ValueError, DataFileError) as exc:
        raise UsageError(str(exc)) from None
    result = run_backtest(strategy, bars, params, config)
    document = backtest_document(strategy, result)
    if args.json:
        print(jsontext.dumps(document, indent=2))
        return 0
    print_report(strategy, params, result.metrics, document["trades"], result.bankruptcy)
    return 0


def backtest_document(strategy: Strategy, result: BacktestResult) -> dict[str, Any]:
    """``backtest --json``: the run's figures, trades and the code that produced them."""
    return {
        "strategy": strategy.id,
        "strategy_version": strategy.version,
        "strategy_source": strategy.source,
        "params": result.params,
        "metrics": result.metrics,
        "trades": [
            {**t.as_json(), "entry_time": iso(t.entry_time), "exit_time": iso(t.exit_time)}
            for t in result.trades
        ],
        "equity_final": result.metrics["equity_final"],
        "bankrupt": result.bankrupt_bar is not None,
        "bankrupt_bar": result.bankrupt_bar,
        "bankrupt_time": iso(result.bankrupt_time),
    }


def print_report(
    strategy: Strategy,
    params: dict[str, Any],
    metrics: dict[str, float],
    trades: list[dict[str, Any]],
    bankruptcy: str | None = None,
) -> None:
    from console import formatting as fmt
    from core.outcomes import BANKRUPTCY_EFFECT, INFINITE, NO_LOSSES

    shown = " ".join(f"{k}={v}" for k, v in params.items())
    print(f"{strategy.name} ({strategy.id}) {shown}")
    percent = {"total_return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure",
               "avg_trade", "best_trade", "worst_trade"}  # fmt: skip
    for name, value in metrics.items():
        if name in percent:
            text = fmt.percent(value)
        elif name == "trades":
            text = f"{int(value):,}"
        elif name == "equity_final":
            text = fmt.money(value)
        elif value == float("inf"):
            text = INFINITE
        else:
            text = f"{value:.3f}"
        note = f"  ({NO_LOSSES})" if text == INFINITE else ""
        print(f"  {name:<14}{text:>16}{note}")
    if bankruptcy:
        print(f"\n  {bankruptcy}: {BANKRUPTCY_EFFECT}")
    print(
        f"\n  {'entry':<25} {'exit':<25} {'size':>10} {'entry px':>12} {'exit px':>12} {'pnl':>14}"
    )
    for t in trades:
        exit_price = "open" if t["exit_price"] is None else fmt.price(t["exit_price"])
        print(
            f"  {t['entry_time']:<25} {t['exit_time'] or '':<25} {fmt.quantity(t['size']):>10} "
            f"{fmt.price(t['entry_price']):>12} {exit_price:>12} {fmt.signed_money(t['pnl']):>14}"
        )
