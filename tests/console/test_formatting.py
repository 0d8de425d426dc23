"""Every figure the user sees has a defined rounding: these tests pin it."""

import pytest

from console import formatting as fmt


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1234.5, "1,234.50"),
        (2.675, "2.68"),  # half away from zero on the decimal form, not binary rounding
        (-2.675, "-2.68"),
        (0.004, "0.00"),
        (-0.004, "0.00"),  # never "-0.00"
        (1_000_000, "1,000,000.00"),
    ],
)
def test_money(value: float, shown: str) -> None:
    assert fmt.money(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(12.5, "▲ +12.50"), (-3, "▼ -3.00"), (0.001, "• 0.00"), (-1234.565, "▼ -1,234.57")],
)
def test_signed_money_carries_sign_and_arrow(value: float, shown: str) -> None:
    assert fmt.signed_money(value) == shown


def test_percentages() -> None:
    assert fmt.percent(0.01234) == "1.23%"
    assert fmt.percent(0.000049) == "0.00%"
    assert fmt.signed_percent(-0.0125) == "▼ -1.25%"
    assert fmt.signed_percent(0.00125) == "▲ +0.13%"
    assert fmt.percent(0.5, 0) == "50%"


def test_quantities_and_prices() -> None:
    assert fmt.quantity(1.5) == "1.5"
    assert fmt.quantity(1200.0) == "1,200"
    assert fmt.quantity(0.1234567) == "0.123457"
    assert fmt.quantity(-0.0000001) == "0"
    assert fmt.price(1.084567) == "1.08457"
    assert fmt.price(60123.456) == "60,123.46"


@pytest.mark.parametrize(
    ("value", "tick", "shown"),
    [
        (1.0799800000000002, 0.00001, "1.07998"),  # the float noise of steps x tick
        (1.079995, 0.00001, "1.08000"),  # an average between ticks: to the nearest
        (450.12000000000006, 0.01, "450.12"),
        (60123.456, 0.01, "60,123.46"),
        (101.3, 0.25, "101.25"),
        (101.375, 0.25, "101.50"),  # half a tick rounds away from zero
        (1234.6, 5.0, "1,235"),
        (7.0, 0.00001, "7.00000"),  # a tick's decimals even when they are zeros
    ],
)
def test_prices_on_the_instruments_tick(value: float, tick: float, shown: str) -> None:
    assert fmt.price(value, tick) == shown


def test_durations_and_sizes() -> None:
    assert fmt.duration(None) == "--"
    assert fmt.duration(9.4) == "9s"
    assert fmt.duration(75) == "1m15s"
    assert fmt.duration(3 * 3600 + 125) == "3h02m"
    assert fmt.size_bytes(512) == "512 B"
    assert fmt.size_bytes(1536) == "1.5 KiB"
    assert fmt.size_bytes(300 * 1024**2) == "300.0 MiB"


def test_progress_bar_fills_in_eighths() -> None:
    assert fmt.bar(0.0, 4) == "    "
    assert fmt.bar(0.5, 4) == "██  "
    assert fmt.bar(1 / 32, 4) == "▏   "
    assert fmt.bar(1.0, 4) == "████"
    assert fmt.bar(2.0, 4) == "████"
    assert len(fmt.bar(0.37, 12)) == 12
