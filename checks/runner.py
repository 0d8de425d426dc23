"""Running a checklist: every probe item concurrently, bounded, under a timeout.

The runner owns the rules every probe gets for free: a per-probe timeout, a
bound on how many run at once, and containment. An exception inside a probe
becomes an ERROR verdict with the exception's text as the reason; it never
reaches the caller. Probes must not block the event loop (blocking work goes
through ``asyncio.to_thread``), because a timeout cannot interrupt a probe
that never yields.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from checks.catalog import Checklist, ChecklistItem, ItemKind
from checks.probes import (
    FINAL_VERDICTS,
    REGISTRY,
    ProbeContext,
    ProbeRegistry,
    ProbeResult,
    Scope,
)
from checks.probes.reach import OutOfReach
from core.events import CheckUpdate, Verdict

log = logging.getLogger(__name__)

Publish = Callable[[CheckUpdate], None]
ResultCallback = Callable[[str, ProbeResult], None]


async def run_checklist(
    checklist: Checklist,
    ctx: ProbeContext,
    publish: Publish,
    concurrency: int = 8,
    timeout: float = 5.0,
    *,
    registry: ProbeRegistry | None = None,
    on_result: ResultCallback | None = None,
    only: Collection[str] | None = None,
) -> dict[str, ProbeResult]:
    """Run every probe item of ``checklist`` and return ``{item_id: result}`` in checklist order.

    ``only`` limits the run to the items with those ids (a section, or one item):
    the others get no event and no result. An id the checklist lacks is a ValueError.

    Publishes, through ``publish``: first PENDING for each probe item and
    MANUAL for each manual item (in checklist order), then RUNNING when a
    probe starts and its final verdict when it ends. Exclusive probes (those
    that time something, or spend the probe host's allowance at the target) run one at
    a time after all the others, in checklist order, and those that lock the probe host
    out of the target's logins after them. ``on_result`` is called
    with each result just before its final event is published, so a holder
    of results is never behind the bus.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    registry = REGISTRY if registry is None else registry
    items = _selected(checklist, only)

    for item in items:
        if item.kind is ItemKind.PROBE:
            publish(CheckUpdate(checklist.id, item.id, Verdict.PENDING, "queued"))
        else:
            reason = f"needs review by {item.owner}"
            publish(CheckUpdate(checklist.id, item.id, Verdict.MANUAL, reason))

    probes = [item for item in items if item.kind is ItemKind.PROBE]
    semaphore = asyncio.Semaphore(concurrency)
    results: dict[str, ProbeResult] = {}

    async def run_item(item: ChecklistItem) -> None:
        async with semaphore:
            publish(CheckUpdate(checklist.id, item.id, Verdict.RUNNING, f"probe {item.probe}"))
            result = await run_probe(item, ctx, registry, timeout)
        results[item.id] = result
        if on_result is not None:
            on_result(item.id, result)
        publish(
            CheckUpdate(checklist.id, item.id, result.verdict, result.reason, dict(result.evidence))
        )

    alone = sorted((item for item in probes if _alone(registry, item) is not None),
                   key=lambda item: _alone(registry, item) == "last")  # fmt: skip
    async with asyncio.TaskGroup() as group:
        for item in probes:
            if _alone(registry, item) is None:
                group.create_task(run_item(item), name=f"probe:{item.id}")
    for item in alone:
        await run_item(item)
    return {item.id: results[item.id] for item in probes}


def _alone(registry: ProbeRegistry, item: ChecklistItem) -> str | None:
    """How the item's probe must run: None beside the others, "after" them alone,
    "last" alone after every other probe."""
    name = str(item.probe)
    if name not in registry:
        return None
    spec = registry.get(name)
    if spec.locks_out:
        return "last"
    return "after" if spec.exclusive else None


def _selected(checklist: Checklist, only: Collection[str] | None) -> tuple[ChecklistItem, ...]:
    if only is None:
        return checklist.items
    unknown = sorted(set(only) - {item.id for item in checklist.items})
    if unknown:
        raise ValueError(f"{checklist.id} has no item(s) {', '.join(unknown)}")
    return tuple(item for item in checklist.items if item.id in only)


async def run_probe(
    item: ChecklistItem, ctx: ProbeContext, registry: ProbeRegistry, timeout: float
) -> ProbeResult:
    """Run one probe item (within its own ``timeout``, if it has one, else ``timeout``);
    always returns a final result (ERROR for anything unexpected)."""
    allowed = item.timeout if item.timeout is not None else timeout
    return await run_probe_named(str(item.probe), item.params, ctx, registry, allowed, item.id,
                                 scope=item.scope)  # fmt: skip


async def run_probe_named(
    name: str,
    params: dict[str, Any],
    ctx: ProbeContext,
    registry: ProbeRegistry,
    timeout: float,
    label: str = "",
    *,
    scope: Scope | None = None,
) -> ProbeResult:
    """Run probe ``name`` with ``params`` (a checklist item's, or a runbook step's) on what
    ``scope`` names (the probe's default scope if None); the result's evidence records the
    scope."""
    started = time.perf_counter()
    deadline = asyncio.timeout(timeout)
    examined = scope
    try:
        spec = registry.get(name)
        validated = spec.params.model_validate(params)
        examined = spec.scopes[0] if scope is None else scope
        async with deadline:
            result = await spec.function(dataclasses.replace(ctx, scope=examined), validated)
        result = _checked(result)
    except OutOfReach as exc:
        result = ProbeResult(Verdict.ERROR, str(exc), {"setting": exc.setting} if exc.setting
                             else {})  # fmt: skip
    except TimeoutError as exc:
        if deadline.expired():
            result = ProbeResult(
                Verdict.ERROR, f"timed out after {timeout:g}s", {"timeout_seconds": timeout}
            )
        else:  # the probe's own TimeoutError (say, a socket's), not the runner's deadline
            result = _error(name, label, exc)
    except Exception as exc:
        result = _error(name, label, exc)
    evidence = result.evidence if examined is None else {**result.evidence,
                                                         "scope": examined.value}  # fmt: skip
    return dataclasses.replace(result, evidence=evidence, elapsed=time.perf_counter() - started)


def _checked(result: object) -> ProbeResult:
    if not isinstance(result, ProbeResult):
        reason = f"probe returned {type(result).__name__}, not a ProbeResult"
        return ProbeResult(Verdict.ERROR, reason)
    if result.verdict not in FINAL_VERDICTS:
        reason = f"probe returned verdict {result.verdict.value!r}, which is not a final verdict"
        return ProbeResult(Verdict.ERROR, reason, dict(result.evidence))
    return result


def _error(name: str, label: str, exc: Exception) -> ProbeResult:
    log.warning("probe %s for %s raised", name, label or "a runbook step", exc_info=exc)
    text = str(exc)
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return ProbeResult(Verdict.ERROR, reason, {"exception": type(exc).__name__})
