import pytest

from core.events import Fill, Side
from core.trading.portfolio import Portfolio, Position


def make_fill(
    side: Side, qty: float, price: float, commission: float = 0.0, symbol: str = "X"
) -> Fill:
    return Fill(1, 1, "s", symbol, side, qty, price, commission, 0.0)


def test_adding_to_a_position_averages_the_price() -> None:
    p = Position()
    assert p.apply(10, 100.0) == 0
    assert p.apply(30, 104.0) == 0
    assert p.quantity == 40
    assert p.avg_price == pytest.approx(103.0)  # (10*100 + 30*104) / 40


def test_reducing_realizes_pnl_at_the_average_price() -> None:
    p = Position()
    p.apply(40, 103.0)
    assert p.apply(-15, 110.0) == pytest.approx(15 * 7.0)
    assert p.quantity == 25
    assert p.avg_price == 103.0


def test_crossing_through_zero_opens_the_remainder_at_the_fill_price() -> None:
    p = Position()
    p.apply(10, 50.0)
    assert p.apply(-25, 45.0) == pytest.approx(10 * -5.0)
    assert p.quantity == -15
    assert p.avg_price == 45.0
    # covering a short below its price is a gain
    assert p.apply(15, 40.0) == pytest.approx(15 * 5.0)
    assert p.quantity == 0
    assert p.avg_price == 0


def test_account_figures_after_a_round_trip_with_commission() -> None:
    portfolio = Portfolio(10_000.0)
    portfolio.apply_fill(make_fill(Side.BUY, 20, 100.0, commission=2.0))
    assert portfolio.cash == pytest.approx(10_000 - 2_000 - 2)
    portfolio.mark("X", 105.0, 1.0)
    assert portfolio.unrealized_pnl == pytest.approx(100.0)
    assert portfolio.equity == pytest.approx(10_000 - 2 + 100)
    portfolio.apply_fill(make_fill(Side.SELL, 20, 103.0, commission=2.06))
    snap = portfolio.snapshot()
    assert snap.realized_pnl == pytest.approx(60.0)
    assert snap.commissions == pytest.approx(4.06)
    assert snap.cash == pytest.approx(10_000 + 60 - 4.06)
    assert snap.equity == snap.cash
    assert snap.total_pnl == pytest.approx(55.94)
    # the peak was seen at the 105 mark, equity 10,098
    assert snap.peak_equity == pytest.approx(10_098.0)
    assert snap.drawdown == pytest.approx(1 - 10_055.94 / 10_098.0)
