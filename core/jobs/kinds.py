"""What a job kind is: how its parameters are read back from the store, how it runs,
and what it is called. A job is stored as its kind and parameters, so after a
restart any job manager can rebuild and resume it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.jobs.context import JobContext

Params = Mapping[str, Any]


@dataclass(frozen=True)
class JobKind:
    """``parse`` turns stored parameters into a request (a ``ValueError`` names the
    bad field); ``run`` does the work in a worker thread and returns a JSON-able
    result whose ``summary`` the views show; ``title`` names the job in a list."""

    name: str
    parse: Callable[[Params], Any]
    run: Callable[[Any, JobContext], dict[str, Any]]
    title: Callable[[Any], str]


class UnknownJobKindError(ValueError):
    pass


def find_kind(kinds: Mapping[str, JobKind], name: str) -> JobKind:
    try:
        return kinds[name]
    except KeyError:
        known = ", ".join(sorted(kinds))
        raise UnknownJobKindError(f"unknown job kind {name!r} (known: {known})") from None
