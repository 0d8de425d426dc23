"""Exports: Pine Script strategies and PDF reports of backtests and optimizations."""
