"""`quarterdeck replay`: a data file through the live engine and paper broker, no UI."""

from __future__ import annotations

import argparse
from typing import Any

from console.commands.errors import UsageError
from console.commands.options import number
from console.commands.research import add_cost_arguments, iso, parse_params
from core import bounds, jsontext


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "replay", help="run a data file through the live engine and paper broker"
    )
    parser.add_argument("strategy", metavar="STRATEGY")
    parser.add_argument("--data", required=True, metavar="FILE", help="CSV or Parquet OHLCV")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    add_cost_arguments(parser)
    parser.add_argument("--units", choices=["whole", "fractional"], default="whole")
    parser.add_argument("--direction", choices=["long", "short", "both"], default=None,
                        help="sides to trade (default: the strategy's own)")  # fmt: skip
    parser.add_argument("--size", type=number(bounds.FRACTION), default=1.0, metavar="F",
                        help="fraction of equity per entry")  # fmt: skip
    parser.add_argument("--journal", default=None, metavar="PATH",
                        help="SQLite journal: commit as it goes, resume after a crash")  # fmt: skip
    parser.add_argument("--run-id", default=None, metavar="NAME",
                        help="journal run name (default: replay:STRATEGY:FILE)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=replay_command)


def replay_command(args: argparse.Namespace) -> int:
    from core.market.loader import DataFileError, load_bars
    from core.research.backtest import BacktestConfig
    from core.research.strategies import ParameterError, get_strategy
    from core.trading.fill_model import FillModel
    from core.trading.replay import replay_history

    try:
        strategy = get_strategy(args.strategy)
        params = strategy.resolve(parse_params(args.param))
        BacktestConfig(cash=args.cash, commission=args.commission, fixed_fee=args.fixed_fee,
                       slippage_bps=args.slippage_bps, size=args.size)  # fmt: skip
        bars = load_bars(args.data)
    except (KeyError, ParameterError, ValueError, DataFileError) as exc:
        raise UsageError(str(exc)) from None
    fill_model = FillModel(args.commission, args.fixed_fee, args.slippage_bps)
    journal = None
    if args.journal:
        from pathlib import Path

        from core.trading.journal import Journal
        from core.trading.journal_file import JournalFileError, open_journal_store

        try:
            store = open_journal_store(Path(args.journal))
        except JournalFileError as exc:
            raise UsageError(f"--journal: {exc}") from None
        journal = Journal(store, args.run_id or f"replay:{strategy.id}:{Path(args.data).name}")
    result = replay_history(strategy, bars, params, cash=args.cash, size=args.size,
                            fill_model=fill_model, whole_units=args.units == "whole",
                            journal=journal)  # fmt: skip
    trades = [
        {**t.as_json(), "entry_time": iso(t.entry_time), "exit_time": iso(t.exit_time)}
        for t in result.trades
    ]
    fills = [
        {"fill_id": f.fill_id, "order_id": f.order_id, "time": iso(f.ts), "side": f.side.value,
         "quantity": f.quantity, "price": f.price, "commission": f.commission}
        for f in result.fills
    ]  # fmt: skip
    p = result.portfolio
    portfolio: dict[str, Any] = {
        "cash": p.cash, "equity": p.equity, "realized_pnl": p.realized_pnl,
        "unrealized_pnl": p.unrealized_pnl, "commissions": p.commissions,
        "positions": [{"symbol": v.symbol, "quantity": v.quantity, "avg_price": v.avg_price}
                      for v in p.positions if v.quantity],
    }  # fmt: skip
    if args.json:
        document = {"strategy": strategy.id, "params": params, "fills": fills, "trades": trades,
                    "portfolio": portfolio, "equity_final": p.equity}  # fmt: skip
        print(jsontext.dumps(document, indent=2))
        return 0
    shown = " ".join(f"{k}={v}" for k, v in params.items())
    print(f"{strategy.name} ({strategy.id}) {shown}: {len(fills)} fills, {len(trades)} trades")
    for t in trades:
        print(f"  {t['entry_time']} -> {t['exit_time'] or 'open':<25} size {t['size']:>12,.4f}"
              f"  pnl {t['pnl']:>14,.2f}")  # fmt: skip
    print(f"  equity {p.equity:,.2f}  cash {p.cash:,.2f}  realized {p.realized_pnl:,.2f}")
    return 0
