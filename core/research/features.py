"""The feature model: a rule's indicators, each declared with the parameters it uses.

A ``Feature`` is an indicator kernel over some bar columns and a subset of the
strategy's parameters (a channel's upper band depends on ``n`` only). A
``FeatureModel`` is the features plus a rule of them giving the signal codes,
``rule(open, high, low, close, volume, *features, *params) -> int8 codes``, in
declared order. A sweep then computes each distinct feature once, not once per
combination: a 199 x 199 grid of a two-band rule needs 398 bands, not 79,202.

``FeatureTable`` holds the distinct features of a sweep in a fixed number of
rows, so memory stays bounded however large the grid: the combinations are
ordered by their features' values and taken in blocks whose features fit the
table; a block reuses the rows the previous one computed, and rows no longer
needed are overwritten. Built-in and user strategies are meant to share this
model (user strategies declare it through ``core.sdk``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Params = dict[str, int | float]
#: The columns a feature may read.
COLUMNS = ("open", "high", "low", "close", "volume")
#: Bytes the feature rows of one sweep may take (in this process, or on a worker).
FEATURE_MEMORY = 256 * 2**20


@dataclass(frozen=True, slots=True)
class Feature:
    """``kernel(*inputs, *params)``: one float value per bar, from the bar columns
    ``inputs`` and the values of the parameters ``params`` (by name, in order)."""

    name: str
    kernel: Callable[..., Any]
    params: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ("close",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "inputs", tuple(self.inputs))

    def key(self, values: Mapping[str, int | float]) -> tuple[int | float, ...]:
        """What tells two computations of this feature apart: its parameters' values."""
        return tuple(values[p] for p in self.params)

    def compute(self, bars: Mapping[str, np.ndarray], key: tuple[int | float, ...]) -> Any:
        """The kernel's output for the parameter values ``key`` (see ``key``)."""
        return self.kernel(*(bars[c] for c in self.inputs), *key)


@dataclass(frozen=True, slots=True)
class FeatureModel:
    """Features and the rule that turns them (and the parameters) into signal codes.

    ``compiled``: the rule is a numba function, so a sweep runs it for every
    combination in one parallel kernel; otherwise in a pool of threads.
    """

    features: tuple[Feature, ...]
    rule: Callable[..., np.ndarray]
    compiled: bool


def feature_array(feature: Feature, value: Any, n: int) -> np.ndarray:
    """A feature kernel's output as float64, or a ``ValueError`` naming the feature."""
    array = np.asarray(value)
    if array.shape != (n,) or array.dtype.kind not in "biuf":
        raise ValueError(f"feature {feature.name!r} must be {n} numbers, one per bar, got "
                         f"{array.dtype} of shape {array.shape}")  # fmt: skip
    return array.astype(np.float64, copy=False)


def model_signal(model: FeatureModel, names: Sequence[str]) -> Callable[..., np.ndarray]:
    """The model as a signal kernel ``(open, high, low, close, volume, *params)``: its
    features computed for these parameters, then its rule."""

    def signal(*arguments: Any) -> np.ndarray:
        columns, values = arguments[:5], dict(zip(names, arguments[5:], strict=True))
        bars = dict(zip(COLUMNS, columns, strict=True))
        n = bars["close"].shape[0]
        features = [feature_array(f, f.compute(bars, f.key(values)), n) for f in model.features]
        return model.rule(*columns, *features, *arguments[5:])

    signal.__wrapped__ = getattr(model.rule, "__wrapped__", model.rule)  # type: ignore[attr-defined]
    return signal


class FeaturePlan:
    """Which distinct features the combinations of one sweep need: ``ids[j, i]`` numbers
    the value of feature i that combination j needs (distinct over all features), and
    ``keys[id]`` is (feature index, its parameters' values) for each number."""

    def __init__(self, model: FeatureModel, values: np.ndarray, names: Sequence[str],
                 kinds: Sequence[type]) -> None:  # fmt: skip
        """``values``: the combinations' parameters (combinations x parameters, in the
        order of ``names``, each of the type in ``kinds``)."""
        self.ids = np.empty((values.shape[0], len(model.features)), dtype=np.int64)
        self.keys: list[tuple[int, tuple[int | float, ...]]] = []
        for i, feature in enumerate(model.features):
            columns = [names.index(p) for p in feature.params]
            distinct, inverse = np.unique(values[:, columns], axis=0, return_inverse=True)
            self.ids[:, i] = inverse.reshape(-1) + len(self.keys)
            for row in distinct:
                typed = tuple(kinds[c](v) for c, v in zip(columns, row, strict=True))
                self.keys.append((i, typed))

    def blocks(self, rows: int, size: int) -> Iterator[np.ndarray]:
        """Combinations in blocks of at most ``size`` whose distinct features fit in
        ``rows``, ordered by their features so that neighbouring blocks share most."""
        ids = self.ids
        order = np.lexsort(ids.T[::-1]) if ids.shape[1] else np.arange(ids.shape[0])
        if len(self.keys) <= rows:  # every feature fits at once: plain chunks
            for i in range(0, order.shape[0], size):
                yield order[i : i + size]
            return
        block: list[int] = []
        seen: set[int] = set()
        for k in order.tolist():
            needed = seen.union(ids[k].tolist())
            if block and (len(block) == size or len(needed) > rows):
                yield np.array(block, dtype=np.int64)
                block, needed = [], set(ids[k].tolist())
            block.append(k)
            seen = needed
        if block:
            yield np.array(block, dtype=np.int64)


class FeatureTable:
    """The distinct features of one sweep, computed once each, in at most ``rows`` rows
    (the least recently used row is reused when the table is full)."""

    def __init__(self, model: FeatureModel, plan: FeaturePlan, bars: Mapping[str, np.ndarray],
                 rows: int) -> None:  # fmt: skip
        self.model, self.plan, self.bars = model, plan, bars
        self.n = bars["close"].shape[0]
        self.table = np.empty((max(rows, 1), self.n))
        self.slot_of = np.full(len(plan.keys), -1, dtype=np.int64)
        self.held: OrderedDict[int, int] = OrderedDict()  # feature id -> row, LRU first
        #: Features computed so far (one evicted and needed again counts twice).
        self.computed = 0

    def rows_of(self, block: np.ndarray) -> np.ndarray:
        """The row of each feature of each combination in ``block`` (combinations x
        features), computing those not in the table; ``block`` must need at most
        ``rows`` distinct features."""
        needed = np.unique(self.plan.ids[block])
        for fid in needed[self.slot_of[needed] >= 0].tolist():
            self.held.move_to_end(fid)
        missing = needed[self.slot_of[needed] < 0].tolist()
        free = sorted(set(range(self.table.shape[0])) - set(self.held.values()))
        wanted = set(needed.tolist())
        for fid in missing:
            if not free:  # the least recently used row this block does not need
                stale = next(f for f in self.held if f not in wanted)
                free.append(self.held.pop(stale))
                self.slot_of[stale] = -1
            slot = free.pop()
            index, values = self.plan.keys[fid]
            feature = self.model.features[index]
            self.table[slot] = feature_array(feature, feature.compute(self.bars, values), self.n)
            self.held[fid] = slot
            self.slot_of[fid] = slot
            self.computed += 1
        return self.slot_of[self.plan.ids[block]]


def table_rows(model: FeatureModel, n: int) -> int:
    """Rows of ``n`` bars that fit ``FEATURE_MEMORY``, at least one combination's features."""
    return max(len(model.features), FEATURE_MEMORY // (8 * max(n, 1)))
