"""The probe registry: probe names, as written in checklists, mapped to async functions."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope

ProbeFunction = Callable[[ProbeContext, Any], Awaitable[ProbeResult]]
F = TypeVar("F", bound=ProbeFunction)


class UnknownProbeError(KeyError):
    """A probe name that nothing registered."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return f"unknown probe {self.name!r}; registered probes: {', '.join(self.known) or 'none'}"


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """One registered probe: its name, function and parameter model."""

    name: str
    function: ProbeFunction
    params: type[ProbeParams]
    #: What it can examine, the default first: an item claiming anything else is refused
    #: when its checklist loads.
    scopes: tuple[Scope, ...]
    #: Runs alone, after the others: it measures timing in this process (their work on
    #: the same loop would be counted as the target's latency), or it spends what the
    #: target allows the probe host (a rate limit, a count of failed logins), which
    #: would throttle or lock out probes running beside it.
    exclusive: bool = False
    #: The ``Target`` fields it cannot run without when it examines its default scope
    #: (``base_url``, ``api_key``...): what a runbook's pre-flight checks before a probe
    #: step runs.
    needs: tuple[str, ...] = ()
    #: Leaves the probe host locked out of the target's logins for minutes (a lockout
    #: check): runs alone, after every other probe, exclusive ones included.
    locks_out: bool = False
    #: What it does to the target or its people beyond looking (queues jobs on it, loads
    #: it, pages its on-call), said as the reason it is not run unasked; empty when it
    #: only looks. The run every start makes holds such probes back.
    disturbs: str = ""

    @property
    def description(self) -> str:
        """The first line of the probe function's docstring."""
        doc = inspect.getdoc(self.function) or ""
        return doc.splitlines()[0] if doc else ""


class ProbeRegistry:
    """A name -> probe mapping. The module-level ``REGISTRY`` holds the built-in probes;
    tests build their own so that throwaway probes never leak into it."""

    def __init__(self) -> None:
        self._specs: dict[str, ProbeSpec] = {}

    def register(
        self,
        name: str,
        *,
        scopes: tuple[Scope, ...],
        params: type[ProbeParams] = ProbeParams,
        exclusive: bool = False,
        needs: tuple[str, ...] = (),
        locks_out: bool = False,
        disturbs: str = "",
    ) -> Callable[[F], F]:
        """Decorator registering an ``async def probe(ctx, params) -> ProbeResult``."""
        if not scopes or Scope.MANUAL in scopes:
            raise ValueError(f"probe {name!r} must examine something: give its scopes")

        def decorate(function: F) -> F:
            if not inspect.iscoroutinefunction(function):
                raise TypeError(f"probe {name!r} must be an async function")
            if name in self._specs:
                raise ValueError(f"probe {name!r} is already registered")
            self._specs[name] = ProbeSpec(name, function, params, scopes, exclusive, needs,
                                          locks_out, disturbs)  # fmt: skip
            return function

        return decorate

    def get(self, name: str) -> ProbeSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownProbeError(name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ProbeSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)


REGISTRY = ProbeRegistry()


def probe(
    name: str,
    *,
    scopes: tuple[Scope, ...],
    params: type[ProbeParams] = ProbeParams,
    exclusive: bool = False,
    needs: tuple[str, ...] = (),
    locks_out: bool = False,
    disturbs: str = "",
) -> Callable[[F], F]:
    """Register a built-in probe in ``REGISTRY`` under ``name``."""
    return REGISTRY.register(name, scopes=scopes, params=params, exclusive=exclusive,
                             needs=needs, locks_out=locks_out, disturbs=disturbs)  # fmt: skip


def registry_in(context: Any) -> ProbeRegistry:
    """The registry a pydantic validation context names (``{"registry": ...}``), or the
    built-in one: how checklists and runbooks check the probes they name."""
    registry = (context or {}).get("registry")
    return registry if isinstance(registry, ProbeRegistry) else REGISTRY


def check_probe(registry: ProbeRegistry, name: str) -> None:
    """``ValueError`` naming the registered probes if ``name`` is not one of them."""
    if name not in registry:
        raise ValueError(str(UnknownProbeError(name, registry.names())))


def resolve_scope(registry: ProbeRegistry, name: str, claimed: Scope | None) -> Scope:
    """What probe ``name`` examines for an item or step claiming ``claimed`` (None: the
    probe's default); ``ValueError`` when the probe cannot examine that."""
    scopes = registry.get(name).scopes
    if claimed is None:
        return scopes[0]
    if claimed not in scopes:
        can = " or ".join(scope.value for scope in scopes)
        raise ValueError(f"probe {name!r} examines {can}, not {claimed.value}")
    return claimed


def check_probe_params(registry: ProbeRegistry, name: str, params: dict[str, Any]) -> None:
    """``ValueError`` listing every problem of ``params`` against probe ``name``'s model."""
    try:
        registry.get(name).params.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'params'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(f"invalid params for probe {name!r}: {problems}") from None
