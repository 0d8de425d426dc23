"""The tables. One class per table; columns say what they hold in their names."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class FillRow(SQLModel, table=True):
    __tablename__ = "fills"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    fill_id: int
    order_id: int
    strategy: str
    symbol: str = Field(index=True)
    side: str
    quantity: float
    price: float
    commission: float
    ts: float


class EquityRow(SQLModel, table=True):
    __tablename__ = "equity_points"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    ts: float
    equity: float
    cash: float


class JobRow(SQLModel, table=True):
    __tablename__ = "jobs"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    title: str
    state: str = Field(index=True)
    params_json: str = "{}"
    done: int = 0
    total: int = 0
    result_json: str | None = None
    error: str | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None


class JournalRow(SQLModel, table=True):
    """The trading journal: every order event, fill, risk event and feed cursor of a run,
    in the order it happened. The engine rebuilds its state from these rows."""

    __tablename__ = "journal"

    seq: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    kind: str
    ts: float
    payload_json: str
