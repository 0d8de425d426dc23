"""Research: indicators, the strategy registry, the backtest kernel and the optimizer."""

from core.research.kernel_cache import key_the_cache

key_the_cache()
