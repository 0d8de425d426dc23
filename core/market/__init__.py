"""Market data: prices, bars and the feeds that publish them."""

from core.market.bars import BarAggregator
from core.market.simulator import PriceSimulator, SymbolProfile
from core.market.simulator_feed import SimulatorFeed

__all__ = ["BarAggregator", "PriceSimulator", "SimulatorFeed", "SymbolProfile"]
