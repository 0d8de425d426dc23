"""A strategy as a TradingView Pine Script v6 ``strategy()``.

The exporter wraps a strategy's ``pine`` body (which defines the bool series
``longEntry`` and ``shortEntry``, and optionally ``longExit`` and
``shortExit``) in a script whose settings and order logic reproduce
``core.research.backtest`` for one ``BacktestConfig``:

- each bar's entries and exits are reduced to the one instruction the signal
  kernel would emit (an entry wins over an exit; a bar with both entries
  holds), narrowed to the run's direction as ``apply_direction`` does, and
  acted on only when it changes the position, as ``target_position`` does;
- orders are sized to a percentage of equity at their fill price (see
  ``entry_call``), charged the backtest's commission, and filled at the next
  bar's open (or at the signal bar's close with ``fill="close"``);
- stop-loss and take-profit levels are fractions of the entry price, watched
  from the bar after the entry.

What Pine cannot express exactly (slippage in basis points, a commission and a
fixed fee together, ...) is listed by ``unmatched`` and written into the
script's header. The output is deterministic: the same strategy, parameters
and configuration always give the same text.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from typing import Any

from core import __version__
from core.research.backtest import BacktestConfig
from core.research.strategies import Param, Params, Strategy

#: Entry and exit ids: the names TradingView's trade list shows.
LONG_ID = "Long"
SHORT_ID = "Short"

#: How far beyond the signal close an entry's limit price sits (see ``entry_call``).
LIMIT_REACH = 10


def export_pine(
    strategy: Strategy,
    params: Mapping[str, Any] | None = None,
    config: BacktestConfig | None = None,
) -> str:
    """The Pine Script v6 strategy for ``strategy`` with ``params`` (defaults updated,
    checked by ``Strategy.resolve``) under ``config`` (default: ``BacktestConfig()``)."""
    config = config or BacktestConfig()
    check_pine_body(strategy)
    resolved = strategy.resolve(params)
    direction = config.direction or strategy.direction.value
    sections = [
        header(strategy, resolved, config, direction),
        "//@version=6\n" + declaration(strategy, config),
        "\n".join(input_line(p, resolved[p.name]) for p in strategy.params) + "\n",
        "// Rule: " + strategy.name + "\n" + strategy.pine.rstrip("\n") + "\n",
        order_logic(strategy.pine, config, direction),
    ]
    return "\n".join(sections)


def check_pine_body(strategy: Strategy) -> None:
    """A ``ValueError`` for a strategy with no Pine body (a user strategy may give none)."""
    if not strategy.pine.strip():
        raise ValueError(
            f"{strategy.id} ({strategy.source}) has no Pine Script body, so it cannot be "
            "exported to Pine: give pine=... in its @strategy(...)"
        )


def header(strategy: Strategy, params: Params, config: BacktestConfig, direction: str) -> str:
    """The comment block that says what was exported, from what, with which settings."""
    lines = [
        f"Quarterdeck {__version__}: Pine Script export of {strategy.name} ({strategy.id})",
        "",
        *textwrap.wrap(strategy.description, 88),
        "",
        *textwrap.wrap(
            "Parameters: " + (", ".join(f"{k}={number(v)}" for k, v in params.items()) or "none"),
            88,
        ),
        *textwrap.wrap(
            "Backtest configuration: " + ", ".join(describe_config(config, direction)), 88
        ),
    ]
    notes = unmatched(config)
    if notes:
        lines += ["", "Not reproduced exactly in Pine:"]
        lines += [f"- {note}" for note in notes]
    return "\n".join(f"// {line}".rstrip() for line in lines) + "\n"


def describe_config(config: BacktestConfig, direction: str) -> list[str]:
    """``name=value`` for every setting of ``config``, in a fixed order."""
    values = {
        "cash": config.cash,
        "commission": config.commission,
        "fixed_fee": config.fixed_fee,
        "slippage_bps": config.slippage_bps,
        "fill": config.fill,
        "units": config.units,
        "size": config.size,
        "stop_loss": config.stop_loss,
        "take_profit": config.take_profit,
        "close_at_end": config.close_at_end,
        "direction": direction,
    }
    return [f"{name}={number(value)}" for name, value in values.items()]


def unmatched(config: BacktestConfig) -> list[str]:
    """Settings of ``config`` that the exported script can only approximate."""
    notes = []
    if config.slippage_bps:
        notes.append(
            f"slippage_bps={number(config.slippage_bps)}: Pine counts slippage in ticks "
            "and not on limit orders, so the script has none"
        )
    if config.commission and config.fixed_fee:
        notes.append(
            f"fixed_fee={number(config.fixed_fee)}: Pine has one commission type per script; "
            "the script charges only the percentage commission"
        )
    if config.units == "fractional":
        notes.append(
            "units=fractional: TradingView rounds quantities down to the symbol's lot size"
        )
    if config.stop_loss and config.take_profit:
        notes.append(
            "stop_loss with take_profit: when one bar reaches both levels Quarterdeck assumes "
            "the stop was hit first; TradingView decides by the bar's open, high and low"
        )
    return notes


def declaration(strategy: Strategy, config: BacktestConfig) -> str:
    """The ``strategy()`` call: capital, sizing, costs and fills as in ``config``."""
    if config.commission or not config.fixed_fee:
        commission = ("strategy.commission.percent", config.commission * 100)
    else:
        commission = ("strategy.commission.cash_per_order", config.fixed_fee)
    arguments = [
        pine_string(f"{strategy.name} (Quarterdeck)"),
        f"shorttitle={pine_string(strategy.id)}",
        "overlay=true",
        f"initial_capital={number(config.cash)}",
        "default_qty_type=strategy.percent_of_equity",
        f"default_qty_value={number(config.size * 100)}",
        f"commission_type={commission[0]}",
        f"commission_value={number(commission[1])}",
        "slippage=0",
        "pyramiding=0",
        "margin_long=0",
        "margin_short=0",
        f"process_orders_on_close={pine_bool(config.fill == 'close')}",
        "calc_on_every_tick=false",
        "calc_on_order_fills=false",
    ]
    return "strategy(" + ", ".join(arguments) + ")\n"


def input_line(param: Param, value: int | float) -> str:
    """``name = input.int(...)`` (or ``input.float``) with ``value`` as its default and the
    parameter's range and step."""
    kind = "int" if param.type is int else "float"
    arguments = [
        literal(param, value),
        pine_string(param.name),
        f"minval={literal(param, param.min)}",
        f"maxval={literal(param, param.max)}",
        f"step={literal(param, param.step)}",
    ]
    if param.description:
        arguments.append(f"tooltip={pine_string(param.description)}")
    return f"{param.name} = input.{kind}({', '.join(arguments)})"


def defines(body: str, name: str) -> bool:
    """Whether the Pine ``body`` declares the variable ``name`` at its top level."""
    declaration = rf"^(?:(?:var|varip)\s+)?(?:\w+\s+)?{name}\s*=(?!=)"
    return re.search(declaration, body, re.MULTILINE) is not None


def order_logic(body: str, config: BacktestConfig, direction: str) -> str:
    """The lines that turn the body's signals into orders, as the backtest does.

    One instruction per bar, as the signal kernels emit: an entry wins over an
    exit and a bar with both entries holds. A long-only run turns a short entry
    into "close the long" and ignores short exits; a short-only run mirrors
    that. An entry while already on that side, or an exit while flat, does
    nothing (``target_position``). On a bar that orders nothing else, an open
    position gets its stop-loss and take-profit orders (when configured).
    """
    exit_long = "longExit" if defines(body, "longExit") else "false"
    exit_short = "shortExit" if defines(body, "shortExit") else "false"
    lines = [
        f"// Orders: Quarterdeck's position rules, trading {direction_words(direction)}",
        "qdGoLong = longEntry and not shortEntry",
        "qdGoShort = shortEntry and not longEntry",
        f"qdExitLong = {exit_long}",
        f"qdExitShort = {exit_short}",
    ]
    if config.stop_loss or config.take_profit:
        lines.append(
            "// Stop-loss and take-profit: fractions of the entry price, from the bar after it"
        )
    keyword = "if"
    for condition, actions in branches(config, direction):
        lines.append(f"{keyword} {condition}")
        lines += [f"    {action}" for action in actions]
        keyword = "else if"
    if config.close_at_end:
        lines += [
            "// close_at_end: the position still open on the last bar is sold at its close",
            "if barstate.islast",
            '    strategy.close_all(comment="close at end", immediately=true)',
        ]
    return "\n".join(lines) + "\n"


def branches(config: BacktestConfig, direction: str) -> list[tuple[str, list[str]]]:
    """The order logic's ``if`` / ``else if`` chain as (condition, statements) pairs."""
    protect = bool(config.stop_loss or config.take_profit)
    long_side = (LONG_ID, "strategy.long", "strategy.position_size > 0")
    short_side = (SHORT_ID, "strategy.short", "strategy.position_size < 0")

    def enter(side: tuple[str, str, str], other: tuple[str, str, str]) -> list[str]:
        # A reversal must not leave the old position's exit orders working: they
        # would fill at the same open as the reversal and open a stray position.
        cancel = [f'strategy.cancel("{other[0]} exit")'] if protect else []
        exits = [exit_call(side[0], config, "close")] if protect and config.fill == "close" else []
        return [*cancel, entry_call(side[0], side[1], config), *exits]

    def leave(side: tuple[str, str, str]) -> list[str]:
        cancel = [f'strategy.cancel("{side[0]} exit")'] if protect else []
        return [*cancel, f'strategy.close("{side[0]}")']

    if direction == "long":
        chain = [
            ("qdGoLong and strategy.position_size <= 0", enter(long_side, short_side)),
            (f"(qdGoShort or qdExitLong) and {long_side[2]}", leave(long_side)),
        ]
    elif direction == "short":
        chain = [
            ("qdGoShort and strategy.position_size >= 0", enter(short_side, long_side)),
            (f"(qdGoLong or qdExitShort) and {short_side[2]}", leave(short_side)),
        ]
    else:
        chain = [
            ("qdGoLong and strategy.position_size <= 0", enter(long_side, short_side)),
            ("qdGoShort and strategy.position_size >= 0", enter(short_side, long_side)),
            (f"qdExitLong and {long_side[2]}", leave(long_side)),
            (f"qdExitShort and {short_side[2]}", leave(short_side)),
        ]
    if protect:
        held = (
            [long_side, short_side]
            if direction == "both"
            else [long_side if direction == "long" else short_side]
        )
        chain += [
            (side[2], [exit_call(side[0], config, "strategy.position_avg_price")]) for side in held
        ]
    return chain


def direction_words(direction: str) -> str:
    return {"long": "long only", "short": "short only", "both": "both sides"}[direction]


def entry_call(entry_id: str, side: str, config: BacktestConfig) -> str:
    """``strategy.entry`` for one side.

    Quarterdeck sizes an entry at its fill price, the next bar's open. Pine
    sizes a market order at the close of the bar that places it, so a gap
    would change the quantity (and at 100% of equity a gap up would leave the
    order unaffordable). A limit order is sized when it fills, and one placed
    ``LIMIT_REACH`` times beyond the close fills at the next open exactly like
    a market order (unless the price moves that far overnight). With fills on
    the close both prices are the same, so a market order serves.
    """
    if config.fill == "close":
        return f'strategy.entry("{entry_id}", {side})'
    limit = f"close * {LIMIT_REACH}" if side == "strategy.long" else f"close / {LIMIT_REACH}"
    return f'strategy.entry("{entry_id}", {side}, limit={limit})'


def exit_call(entry_id: str, config: BacktestConfig, entry_price: str) -> str:
    """``strategy.exit`` with the stop-loss and take-profit levels of the ``entry_id``
    position, as fractions of ``entry_price`` (a Pine expression)."""
    sign = -1 if entry_id == LONG_ID else 1
    levels = []
    if config.stop_loss:
        levels.append(f"stop={entry_price} * {number(1 + sign * config.stop_loss)}")
    if config.take_profit:
        levels.append(f"limit={entry_price} * {number(1 - sign * config.take_profit)}")
    return f'strategy.exit("{entry_id} exit", "{entry_id}", {", ".join(levels)})'


def number(value: Any) -> str:
    """A setting or parameter as Pine (and the header) writes it: shortest round-trip
    form, integers without a decimal point, 12 significant digits for products."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return pine_bool(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = float(f"{value:.12g}")
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def literal(param: Param, value: int | float) -> str:
    """``value`` as a literal of ``param``'s type: ``14`` for an int, ``2.0`` for a float."""
    if param.type is int:
        return str(int(value))
    return repr(float(f"{float(value):.12g}"))


def pine_bool(value: bool) -> str:
    return "true" if value else "false"


def pine_string(text: str) -> str:
    """A double-quoted Pine string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
