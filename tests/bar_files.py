"""Bar files as a user would upload them: CSV text with ISO dates, a broken one, and
Parquet bytes."""

from __future__ import annotations

import io

import pandas as pd

from tests.core.data import random_bars

START = 1_700_000_000.0  # 2023-11-14


def bars_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    bars = random_bars(rows, seed)
    frame = pd.DataFrame({k: bars[k] for k in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "date", pd.to_datetime(START + bars["ts"], unit="s", utc=True))
    return frame


def bars_csv(rows: int = 300, seed: int = 1) -> bytes:
    return bars_frame(rows, seed).to_csv(index=False).encode()


def bars_parquet(rows: int = 300, seed: int = 1) -> bytes:
    out = io.BytesIO()
    bars_frame(rows, seed).to_parquet(out, index=False)
    return out.getvalue()


def broken_csv() -> bytes:
    """Line 4 (the third bar) has a close that is not a number."""
    lines = bars_csv(5).decode().splitlines()
    cells = lines[3].split(",")
    cells[4] = "oops"
    lines[3] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()
