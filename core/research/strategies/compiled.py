"""Numba user functions: the calling convention and the rule made of one.

A numba function cannot take a dict of arrays or keywords from a kernel, so a
``@strategy`` on an ``@njit`` function calls it positionally::

    fn(open, high, low, close, volume, *features, *params)

the five bar columns as float64 arrays, then the declared features' arrays (in
declared order, none without features), then the parameters (in declared order,
``int`` parameters as integers), returning a tuple of 2 or 4 boolean arrays as a
plain function does. ``compiled_rule`` wraps it in a numba rule returning signal
codes, which a sweep calls from inside its parallel kernel and the backtest,
replay and live engine through the strategy's signal kernel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba.extending import is_jitted

from core.research.signals import both_sides_codes, entry_exit_codes

_TEMPLATE = """\
def rule(open_, high, low, close, volume{arguments}):
    got = fn(open_, high, low, close, volume{arguments})
    n = close.shape[0]
{checks}    return codes({outputs})
"""


def is_compiled(fn: Any) -> bool:
    """Whether ``fn`` is a numba-compiled function (a ``Dispatcher``)."""
    return bool(is_jitted(fn))


@functools.cache
def compiled_rule(fn: Callable[..., Any], arguments: int, arrays: int,
                  origin: str) -> Callable[..., np.ndarray]:  # fmt: skip
    """A numba rule ``(open, high, low, close, volume, *rest) -> int8 codes`` around
    ``fn``, which takes ``arguments`` values after the five columns and returns
    ``arrays`` (2 or 4) boolean arrays. An output of another length raises a
    ``ValueError`` naming ``origin`` (compiled code cannot check more cheaply)."""
    names = "".join(f", a{i}" for i in range(arguments))
    message = f"{origin}: the function must return arrays of one value per bar"
    checks = "".join(
        f"    if got[{i}].shape[0] != n:\n        raise ValueError({message!r})\n"
        for i in range(arrays)
    )  # fmt: skip
    outputs = ", ".join(f"got[{i}]" for i in range(arrays))
    namespace: dict[str, Any] = {
        "fn": fn, "codes": entry_exit_codes if arrays == 2 else both_sides_codes,
    }  # fmt: skip
    source = _TEMPLATE.format(arguments=names, checks=checks, outputs=outputs)
    exec(compile(source, f"<rule of {origin}>", "exec"), namespace)  # nosec B102  our template
    rule = numba.njit(nogil=True)(namespace["rule"])
    rule.__wrapped__ = fn  # type: ignore[attr-defined]
    return rule
