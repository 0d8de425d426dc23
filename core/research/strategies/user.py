"""A user's strategy function made into a ``Strategy`` like the built-ins.

A user writes ``fn(bars, **params)`` returning boolean arrays, one value per
bar: ``(long_entries, long_exits)`` for the long side, or ``(long_entries,
long_exits, short_entries, short_exits)`` for both. ``as_strategy`` wraps it
in a signal kernel of the built-ins' shape (one signal code per bar), so the
backtest, the optimizer, walk-forward, batch, replay and the exports take it
unchanged. With declared ``features``, the function is the rule of them
(``fn(bars, **features, **params)``) and the strategy carries a
``FeatureModel``, so a sweep computes each distinct feature once. A numba
function is called positionally instead (``core.research.strategies.compiled``)
and always carries a model, so a sweep runs it in one parallel kernel. A bar's
codes, read at its close like every built-in's:

- a long entry is ``LONG``, a short entry ``SHORT`` (both at once: no signal);
- otherwise a long exit is ``EXIT_LONG``, a short exit ``EXIT_SHORT`` (both:
  ``FLAT``, close whatever is held);
- an entry on the same bar as an exit wins, as in the built-ins' band rules.

Comparisons with NaN are False in numpy, so a rule's warm-up (NaN
indicators) gives no signal by itself.
"""

from __future__ import annotations

import inspect
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.research.features import COLUMNS, Feature, FeatureModel, feature_array, model_signal
from core.research.signals import both_sides_codes, entry_exit_codes
from core.research.strategies.base import Direction, Family, Param, Params, Strategy
from core.research.strategies.compiled import compiled_rule, is_compiled

UserFunction = Callable[..., Any]
Constraint = tuple[str, Callable[[Params], bool]]
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: The attribute ``@strategy`` sets on the function it decorates (the loader looks for it).
ATTRIBUTE = "__quarterdeck_strategy__"


class StrategyCodeError(ValueError):
    """A user strategy is malformed or its code failed. ``at`` is ``path:line`` when the
    place is known (a raising line, the function returning a wrong output)."""

    def __init__(self, message: str, at: str | None = None) -> None:
        super().__init__(message)
        self.message, self.at = message, at

    def __str__(self) -> str:
        return f"{self.at}: {self.message}" if self.at else self.message

    def __reduce__(self) -> tuple[Any, ...]:  # raised on a Dask worker, re-raised here
        return type(self), (self.message, self.at)


def where(fn: UserFunction) -> str:
    """``path:line`` of ``fn``'s definition."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    return f"{code.co_filename}:{code.co_firstlineno}"


def raised_at(exc: BaseException, filename: str | None = None) -> str:
    """``path:line`` where ``exc`` was raised: the deepest frame in ``filename`` if
    given (the user's file, not a library it called), else the deepest frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    if filename is not None:
        mine = [f for f in frames if f.filename == filename]
        frames = mine or frames
    if not frames:
        return filename or "?"
    return f"{frames[-1].filename}:{frames[-1].lineno}"


def describe_exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def check_definition(
    id: str, name: str, params: Sequence[Param], constraints: Sequence[Constraint]
) -> None:
    """A ``StrategyCodeError`` for a definition that cannot work: a bad id, a parameter
    whose type, range, step or default is wrong, duplicate names, or defaults that break
    a constraint. One layer of checks, run when the decorator runs."""
    if not isinstance(id, str) or not ID_PATTERN.fullmatch(id):
        raise StrategyCodeError(
            f"id {id!r}: expected lowercase letters, digits and _ (starting with a letter)"
        )
    if not isinstance(name, str) or not name.strip():
        raise StrategyCodeError(f"{id}: name must be a non-empty string")
    seen: set[str] = set()
    for p in params:
        if not isinstance(p, Param):
            raise StrategyCodeError(f"{id}: params must be Param(...) objects, got {p!r}")
        label = f"{id}: parameter {p.name!r}"
        if not p.name.isidentifier() or p.name in seen:
            raise StrategyCodeError(f"{label}: not a unique Python name")
        seen.add(p.name)
        if p.type not in (int, float):
            raise StrategyCodeError(f"{label}: type must be int or float")
        numbers = {"default": p.default, "min": p.min, "max": p.max, "step": p.step}
        for field, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise StrategyCodeError(f"{label}: {field} {value!r} is not a number")
            if p.type is int and value != int(value):
                raise StrategyCodeError(f"{label}: {field} {value!r} is not a whole number")
        if not p.min <= p.default <= p.max:
            raise StrategyCodeError(f"{label}: default {p.default} is outside [{p.min}, {p.max}]")
        if not p.step > 0:
            raise StrategyCodeError(f"{label}: step {p.step} must be above 0")
    defaults = {p.name: p.type(p.default) for p in params}
    for text, holds in constraints:
        if not isinstance(text, str) or not callable(holds):
            raise StrategyCodeError(f"{id}: a constraint is a (text, function) pair, got {text!r}")
        if not holds(defaults):
            raise StrategyCodeError(f"{id}: the defaults {defaults} break the constraint {text}")


def read_only_bars(columns: Iterable[np.ndarray]) -> dict[str, np.ndarray]:
    """The bars a user function sees: read-only views, so it cannot change a history
    that the next call (in a sweep, the next combination) reads again."""
    bars = {}
    for name, column in zip(COLUMNS, columns, strict=True):
        view = np.asarray(column, dtype=np.float64).view()
        view.flags.writeable = False
        bars[name] = view
    return bars


def signal_codes(output: Any, n: int, origin: str) -> np.ndarray:
    """The signal codes of a user function's ``output``, or a ``StrategyCodeError``
    naming ``origin`` when it is not 2 or 4 boolean arrays of ``n`` values."""
    if not isinstance(output, tuple | list) or len(output) not in (2, 4):
        got = f"a {type(output).__name__}"
        if isinstance(output, tuple | list):
            got += f" of {len(output)}"
        raise StrategyCodeError(
            "must return 2 arrays (entries, exits) or 4 (long entries, long exits, "
            f"short entries, short exits), got {got}",
            origin,
        )
    names = ("long entries", "long exits", "short entries", "short exits")
    arrays = []
    for label, value in zip(names, output, strict=False):
        array = np.asarray(value) if not isinstance(value, np.ndarray) else value
        if array.dtype != np.bool_:
            message = (f"{label} must be a boolean array, got dtype {array.dtype} "
                       "(compare, e.g. close > upper)")  # fmt: skip
            raise StrategyCodeError(message, origin)
        if array.shape != (n,):
            raise StrategyCodeError(f"{label} must have one value per bar "
                                    f"({n}), got shape {array.shape}", origin)  # fmt: skip
        arrays.append(array)
    return entry_exit_codes(*arrays) if len(arrays) == 2 else both_sides_codes(*arrays)


def call(fn: UserFunction, bars: Mapping[str, np.ndarray], params: Params) -> Any:
    """``fn(bars, **params)``; what it raises becomes a ``StrategyCodeError`` naming the
    line of the user's file it came from."""
    try:
        return fn(bars, **params)
    except Exception as exc:
        filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
        raise StrategyCodeError(describe_exception(exc), raised_at(exc, filename)) from exc


def user_kernel(fn: UserFunction, names: Sequence[str]) -> Callable[..., np.ndarray]:
    """A signal kernel ``(open, high, low, close, volume, *values)`` around ``fn``, which
    takes the ``values`` by ``names`` (features, then parameters). The read-only bars
    are made once for the columns a sweep passes to every call, not once per call."""
    origin = where(fn)
    last: tuple[tuple[Any, ...], dict[str, np.ndarray]] = ((), {})

    def signal(*arguments: Any) -> np.ndarray:
        nonlocal last
        columns, values = arguments[:5], arguments[5:]
        seen, bars = last
        if len(seen) != 5 or any(a is not b for a, b in zip(seen, columns, strict=True)):
            bars = read_only_bars(columns)
            last = (columns, bars)
        output = call(fn, bars, dict(zip(names, values, strict=True)))
        return signal_codes(output, bars["close"].shape[0], origin)

    signal.__wrapped__ = fn  # type: ignore[attr-defined]
    signal.__module__ = __name__
    signal.__qualname__ = f"user_kernel({getattr(fn, '__qualname__', fn)})"
    return signal


def as_strategy(
    fn: UserFunction,
    *,
    id: str,
    name: str,
    params: Sequence[Param] = (),
    constraints: Sequence[Constraint] = (),
    family: Family | str = Family.CUSTOM,
    description: str = "",
    direction: Direction | str | None = None,
    pine: str = "",
    lookback: int | Callable[[Params], int] | None = None,
    features: Sequence[Feature] = (),
) -> Strategy:
    """``fn`` as a ``Strategy``; see ``core.sdk.strategy`` for the arguments."""
    params, constraints = tuple(params), tuple(tuple(c) for c in constraints)  # type: ignore[misc]
    check_definition(id, name, params, constraints)  # type: ignore[arg-type]
    try:
        family = Family(family)
    except ValueError:
        known = ", ".join(f.value for f in Family)
        raise StrategyCodeError(f"{id}: family {family!r} is not one of: {known}") from None
    features = check_features(id, features, params)
    compiled = is_compiled(fn)
    check_signature(id, fn, compiled, [f.name for f in features], [p.name for p in params])
    arrays = _probe(fn, compiled, features, {p.name: p.type(p.default) for p in params})
    if direction is None:
        direction = Direction.BOTH if arrays == 4 else Direction.LONG
    try:
        direction = Direction(direction)
    except ValueError:
        raise StrategyCodeError(f"{id}: direction must be long, short or both") from None
    model, signal = _rule(fn, compiled, features, [p.name for p in params], arrays)
    return Strategy(
        id=id,
        name=name,
        family=family,
        direction=direction,
        description=description or (inspect.getdoc(fn) or name),
        params=params,
        signal=signal,
        features=model,
        lookback=_lookback(lookback, params),
        pine=pine,
        constraints=constraints,  # type: ignore[arg-type]
        recursive=lookback is None,  # unknown look-back: the live engine keeps a long history
        source=(getattr(fn, "__code__", None) and fn.__code__.co_filename) or "?",
        version="unloaded",  # the loader sets the hash of the file or package
    )


def check_features(
    id: str, features: Sequence[Feature], params: Sequence[Param]
) -> tuple[Feature, ...]:
    """``features`` as a tuple, or a ``StrategyCodeError`` for one that cannot work: not a
    ``Feature``, a name that is not unique (among features and parameters), a parameter
    or an input column that does not exist, a kernel that is not callable."""
    names = {p.name for p in params}
    seen: set[str] = set()
    for f in features:
        if not isinstance(f, Feature):
            raise StrategyCodeError(f"{id}: features must be Feature(...) objects, got {f!r}")
        label = f"{id}: feature {f.name!r}"
        if not isinstance(f.name, str) or not f.name.isidentifier() or f.name in seen | names:
            raise StrategyCodeError(f"{label}: not a unique Python name (among features and "
                                    "parameters)")  # fmt: skip
        seen.add(f.name)
        if not callable(f.kernel):
            raise StrategyCodeError(f"{label}: its kernel {f.kernel!r} is not callable")
        unknown = [p for p in f.params if p not in names]
        if unknown:
            raise StrategyCodeError(f"{label}: no parameter {', '.join(map(repr, unknown))} "
                                    f"(known: {', '.join(sorted(names)) or 'none'})")  # fmt: skip
        columns = [c for c in f.inputs if c not in COLUMNS]
        if columns:
            raise StrategyCodeError(f"{label}: no input column {', '.join(map(repr, columns))} "
                                    f"(known: {', '.join(COLUMNS)})")  # fmt: skip
    return tuple(features)


def check_signature(id: str, fn: UserFunction, compiled: bool, features: Sequence[str],
                    params: Sequence[str]) -> None:  # fmt: skip
    """A ``StrategyCodeError`` when ``fn`` cannot be called as it will be: by keyword
    (``fn(bars, **features, **params)``) or, compiled, positionally."""
    accepted = inspect.signature(fn).parameters
    if compiled:
        expected = ["open", "high", "low", "close", "volume", *features, *params]
        if len(accepted) != len(expected):
            raise StrategyCodeError(f"{id}: the numba function takes {len(accepted)} arguments, "
                                    f"expected {len(expected)}: ({', '.join(expected)}), in that "
                                    "order", where(fn))  # fmt: skip
        return
    takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    missing = [name for name in (*features, *params) if name not in accepted and not takes_all]
    if missing:
        call = "fn(bars, **features, **params)" if features else "fn(bars, **params)"
        raise StrategyCodeError(f"{id}: the function takes no parameter {', '.join(missing)} "
                                f"(it is called as {call})", where(fn))  # fmt: skip


def _rule(fn: UserFunction, compiled: bool, features: tuple[Feature, ...], names: list[str],
          arrays: int) -> tuple[FeatureModel | None, Callable[..., np.ndarray]]:  # fmt: skip
    """The strategy's feature model (None for a plain function without features) and
    its signal kernel."""
    if compiled:
        rule = compiled_rule(fn, len(features) + len(names), arrays, where(fn))
    elif features:
        rule = user_kernel(fn, [*(f.name for f in features), *names])
    else:
        return None, user_kernel(fn, names)
    model = FeatureModel(features, rule, compiled)
    signal = model_signal(model, names)
    signal.__wrapped__ = fn  # type: ignore[attr-defined]
    signal.__module__ = __name__
    signal.__qualname__ = f"user_kernel({getattr(fn, '__qualname__', fn)})"
    return model, signal


def _lookback(declared: int | Callable[[Params], int] | None, params: Sequence[Param]) -> Any:
    if callable(declared):
        return declared
    if declared is not None:
        return lambda _p: int(declared)
    windows = [p.name for p in params if p.type is int]
    # Unknown: twice the largest whole-number parameter (windows, typically), at least 50.
    return lambda p: max([50, *(2 * int(p[w]) + 1 for w in windows)])


#: The bars ``as_strategy`` calls a function on once, to find a broken one at load time.
PROBE_BARS = 300


def sample_bars(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A random-walk OHLCV history of ``n`` bars: volatile enough that rules signal."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.005, n))
    spread = np.abs(rng.normal(0.0, 0.01, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.uniform(1_000.0, 10_000.0, n)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def _probe(fn: UserFunction, compiled: bool, features: Sequence[Feature],
           defaults: Params) -> int:  # fmt: skip
    """How many arrays ``fn`` returns (2 or 4), from one call on sample bars with its
    defaults (and its features at the defaults); a ``StrategyCodeError`` naming file and
    line if it (or a feature) raises or returns something else."""
    sample = sample_bars(PROBE_BARS)
    bars = read_only_bars(sample[c] for c in COLUMNS)
    computed = {f.name: _feature(f, bars, defaults) for f in features}
    if compiled:
        output = call_compiled(fn, bars, [*computed.values(), *defaults.values()])
    else:
        output = call(fn, bars, {**computed, **defaults})
    signal_codes(output, PROBE_BARS, where(fn))
    return len(output)


def _feature(feature: Feature, bars: Mapping[str, np.ndarray], values: Params) -> np.ndarray:
    """A feature at ``values``; what its kernel raises names the raising line, a wrong
    output the kernel's definition."""
    try:
        output = feature.compute(bars, feature.key(values))
    except Exception as exc:
        filename = getattr(getattr(feature.kernel, "__code__", None), "co_filename", None)
        raise StrategyCodeError(describe_exception(exc), raised_at(exc, filename)) from exc
    try:
        return feature_array(feature, output, PROBE_BARS)
    except ValueError as exc:
        raise StrategyCodeError(str(exc), where(feature.kernel)) from None


def call_compiled(fn: UserFunction, bars: Mapping[str, np.ndarray], values: list[Any]) -> Any:
    """``fn(open, high, low, close, volume, *values)``; a compile error or what it raises
    becomes a one-line ``StrategyCodeError`` naming its definition."""
    try:
        return fn(*(bars[c] for c in COLUMNS), *values)
    except Exception as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        kind = "numba cannot compile it" if "Typing" in type(exc).__name__ else type(exc).__name__
        raise StrategyCodeError(f"{kind}: {first.strip()}", where(fn)) from exc


def strategy_of(obj: Any) -> Strategy | None:
    """The ``Strategy`` an object carries: a decorated function's, or the object itself."""
    if isinstance(obj, Strategy):
        return obj
    found = getattr(obj, ATTRIBUTE, None)
    return found if isinstance(found, Strategy) else None


def strategies_in(namespace: Mapping[str, Any], module: str) -> list[Strategy]:
    """The strategies defined in a module's ``namespace`` (not those it imported)."""
    out = []
    for value in namespace.values():
        found = getattr(value, ATTRIBUTE, None)
        if isinstance(found, Strategy) and getattr(value, "__module__", None) == module:
            out.append(found)
    return out


def module_file(module: str) -> Path | None:
    path = getattr(sys.modules.get(module), "__file__", None)
    return Path(path) if path else None
