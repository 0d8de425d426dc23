"""What a job kind is: how its parameters are read back from the store, how it runs,
and what it is called. A job is stored as its kind and parameters, so after a
restart any job manager can rebuild and resume it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from core.bounds import Bound, OutOfBounds
from core.jobs.context import JobContext

Params = Mapping[str, Any]
Request = TypeVar("Request")


@dataclass(frozen=True)
class JobKind:
    """``parse`` turns stored parameters into a request (a ``ValueError`` names the
    bad field); ``run`` does the work in a worker thread and returns a JSON-able
    result whose ``summary`` the views show; ``title`` names the job in a list."""

    name: str
    parse: Callable[[Params], Any]
    run: Callable[[Any, JobContext], dict[str, Any]]
    title: Callable[[Any], str]
    #: ``check_size(request, limit)``: a ``ValueError`` if the job would evaluate more
    #: combinations than ``limit`` (``QD_SWEEP_MAX_COMBOS``); None for a job of one run.
    check_size: Callable[[Any, int], None] | None = None


class UnknownJobKindError(ValueError):
    pass


def find_kind(kinds: Mapping[str, JobKind], name: str) -> JobKind:
    try:
        return kinds[name]
    except KeyError:
        known = ", ".join(sorted(kinds))
        raise UnknownJobKindError(f"unknown job kind {name!r} (known: {known})") from None


def admit(kinds: Mapping[str, JobKind], name: str, params: Params, max_combos: int) -> Any:
    """The request of a job about to be queued: parsed, and within ``max_combos``
    (``QD_SWEEP_MAX_COMBOS``), so an oversized search is refused at submission rather
    than failing (or exhausting memory) when it runs. A ``ValueError`` names the problem."""
    kind = find_kind(kinds, name)
    request = kind.parse(params)
    if kind.check_size is not None:
        kind.check_size(request, max_combos)
    return request


def check_numbers(request: Any, kind: str, bounded: Mapping[str, Bound]) -> None:
    """Each field named in ``bounded`` (unless None) a number within its bound, stored as
    the ``int`` or ``float`` it is; a ``ValueError`` names the kind and the field.
    JSON text is not a number here: ``"seed": "7"`` is refused, not read."""
    for name, bound in bounded.items():
        value = getattr(request, name)
        if value is None:
            continue
        try:
            if isinstance(value, str):
                raise OutOfBounds(f"expected {bound.describe()}, got {value!r}")
            object.__setattr__(request, name, bound.check(value))  # frozen dataclasses too
        except OutOfBounds as exc:
            raise ValueError(f"{kind}: {name}: {exc}") from None


def parse_request(
    cls: type[Request], kind: str, params: Params, tuples: tuple[str, ...] = ()
) -> Request:
    """``cls(**params)`` for a dataclass request, every problem a ``ValueError`` that
    names the kind and the field. ``tuples`` are fields JSON gives back as lists."""
    unknown = sorted(set(params) - {f.name for f in fields(cls)})  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"{kind}: unknown field(s) {', '.join(unknown)}")
    values = dict(params)
    for name in tuples:
        if name in values:
            values[name] = tuple(values[name])
    try:
        return cls(**values)
    except KeyError as exc:  # an unknown strategy
        raise ValueError(str(exc)) from None
    except TypeError as exc:
        raise ValueError(f"{kind}: {exc}") from None
