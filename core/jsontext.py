"""JSON that is JSON, for every document Quarterdeck prints or stores.

``json.dumps`` writes NaN and the infinities as ``NaN`` and ``Infinity``, which no
strict parser reads. Here a non-finite float becomes ``null`` (a metric with no value,
such as a Sharpe ratio of a run without variance), and anything else that cannot be
JSON is an error rather than text that looks like it. An infinite profit factor (no
losing trade) is a value, not a gap: its null gets a ``profit_factor_note`` beside it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from core.outcomes import NO_LOSSES


def finite(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, replaced by None (and an
    infinite ``profit_factor`` explained by a ``profit_factor_note``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key] = finite(item)
            if key == "profit_factor" and item == math.inf:
                out["profit_factor_note"] = f"infinite: {NO_LOSSES}"
        return out
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``finite(value)``, never writing ``NaN`` or ``Infinity``."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
