"""User strategy files for tests: the issue's example, and saving a file as editors do."""

from __future__ import annotations

from pathlib import Path

#: The strategy SDK issue's example, exactly as written there.
CHANNEL_BREAKOUT = """\
import pandas as pd
from core.sdk import Param, strategy

@strategy(
    id="channel_breakout",
    name="Channel breakout",
    params=[Param("n", int, default=20, min=2, max=200, step=1),
            Param("m", int, default=10, min=2, max=200, step=1)],
)
def channel_breakout(bars, n, m):
    close = bars["close"]
    upper = pd.Series(bars["high"]).rolling(n).max().shift(1).to_numpy()
    lower = pd.Series(bars["low"]).rolling(m).min().shift(1).to_numpy()
    return close > upper, close < lower
"""


def write_strategy(folder: Path, name: str, text: str) -> Path:
    """Save a private (0600) strategy file whole at once, as editors do (a new file
    renamed over the old): a watcher never sees it half written."""
    path = folder / name
    draft = folder / f".{name}.draft"  # a dot file: not a strategy file
    draft.write_text(text)
    draft.chmod(0o600)
    draft.replace(path)
    return path
