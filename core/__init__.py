"""Quarterdeck's trading domain: configuration, bus, store, market data, research,
trading, jobs and health. Nothing in here knows that a user interface exists."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quarterdeck")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
