"""How a run's exceptional outcomes read, the same in every front end, and metrics as JSON.

Two outcomes need words rather than a number: a profit factor without a
losing trade (infinite: shown as ``∞``, and in JSON, which has no infinity,
as null with a ``profit_factor_note``) and a bankruptcy (the account's
equity reached zero and the run stopped; see ``core.research.backtest``).
Light on purpose (no numpy): the console's formatting imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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


def json_ready(document: Any) -> Any:
    """``document`` as valid JSON can hold it: an infinite profit factor becomes null with a
    ``profit_factor_note`` beside it saying why; any other non-finite number becomes null."""
    if isinstance(document, Mapping):
        out: dict[str, Any] = {}
        for key, value in document.items():
            out[key] = json_ready(value)
            if key == "profit_factor" and value == math.inf:
                out["profit_factor_note"] = f"infinite: {NO_LOSSES}"
        return out
    if isinstance(document, list | tuple):
        return [json_ready(item) for item in document]
    if isinstance(document, float) and not math.isfinite(document):
        return None
    return document
