"""Exports of research results into other tools' formats (Pine Script for TradingView)."""
