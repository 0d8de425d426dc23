"""How a run's exceptional outcomes read, the same in every front end.

Two outcomes need words rather than a number: a profit factor without a
losing trade (infinite: shown as ``∞``, and in JSON, which has no infinity,
as null with a ``profit_factor_note``: ``core.jsontext``) and a bankruptcy (the account's
equity reached zero and the run stopped; see ``core.research.backtest``).
Light on purpose (no numpy): the console's formatting imports it.
"""

from __future__ import annotations

from collections.abc import Mapping

#: How an infinite profit factor reads wherever a metric is shown, and why it is infinite.
INFINITE = "∞"
NO_LOSSES = "no losing trades"
#: What a bankruptcy did, after ``BacktestResult.bankruptcy``.
BANKRUPTCY_EFFECT = (
    "equity reached zero; the position was liquidated at that close and the run stopped"
)


def is_bankrupt(metrics: Mapping[str, float]) -> bool:
    """A run whose account was wiped out: its final equity is exactly 0 (see ``backtest``)."""
    return metrics["equity_final"] <= 0.0
