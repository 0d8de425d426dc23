"""Numeric options: ``type=number(bound)`` makes argparse check a value against its
``core.bounds.Bound``, so a bad number is a usage error naming the option, exit 2."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from core.bounds import Bound, OutOfBounds


def number(bound: Bound) -> Callable[[str], int | float]:
    """An argparse ``type`` that accepts what ``bound`` does."""

    def parse(text: str) -> int | float:
        try:
            return bound.check(text)
        except OutOfBounds as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse
