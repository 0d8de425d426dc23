"""The price increment of a symbol, for a widget that shows the symbol's prices."""

from __future__ import annotations

from textual.dom import DOMNode


def tick_size(node: DOMNode, symbol: str) -> float:
    """``symbol``'s tick on the node's app's Deck; 0 (none known) in an app without one,
    such as a widget's own test harness."""
    deck = getattr(node.app, "deck", None)
    return deck.tick_size(symbol) if deck is not None else 0.0
