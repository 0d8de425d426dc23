"""Research: indicators, the strategy registry, the backtest kernel and the optimizer."""
