"""Host probes: free disk space under the data directory and available memory."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import psutil
from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult
from checks.probes.registry import probe
from core.events import Verdict


class DiskParams(ProbeParams):
    # No upper bound: a threshold above 100 is odd but harmless (it always fails).
    min_free_percent: float = Field(default=10.0, ge=0)


class MemoryParams(ProbeParams):
    min_available_percent: float = Field(default=10.0, ge=0)


def headroom_verdict(percent: float, threshold: float) -> Verdict:
    """FAIL under the threshold, WARN under twice the threshold, PASS otherwise."""
    if percent < threshold:
        return Verdict.FAIL
    if percent < 2 * threshold:
        return Verdict.WARN
    return Verdict.PASS


def headroom_reason(measured: str, verdict: Verdict, threshold: float) -> str:
    if verdict is Verdict.FAIL:
        return f"{measured}, under the {threshold:g}% minimum"
    if verdict is Verdict.WARN:
        return f"{measured}, under twice the {threshold:g}% minimum"
    return measured


def existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest existing parent: the data directory may not exist yet,
    but the filesystem that will hold it does."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


@probe("host.disk", params=DiskParams)
async def disk(ctx: ProbeContext, params: DiskParams) -> ProbeResult:
    """Free space on the filesystem holding the data directory."""
    data_dir = Path(ctx.settings.data_dir).expanduser()
    measured = existing_ancestor(data_dir)
    usage = await asyncio.to_thread(shutil.disk_usage, measured)  # statvfs can hang on NFS
    free_percent = 100.0 * usage.free / usage.total if usage.total else 0.0
    verdict = headroom_verdict(free_percent, params.min_free_percent)
    reason = headroom_reason(f"{free_percent:.1f}% free", verdict, params.min_free_percent)
    evidence: dict[str, object] = {
        "data_dir": str(data_dir),
        "measured_path": str(measured),
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "free_percent": round(free_percent, 2),
        "min_free_percent": params.min_free_percent,
    }
    return ProbeResult(verdict, reason, evidence)


@probe("host.memory", params=MemoryParams)
async def memory(ctx: ProbeContext, params: MemoryParams) -> ProbeResult:
    """Memory available to new processes, as a share of the total."""
    vm = psutil.virtual_memory()
    available_percent = 100.0 * vm.available / vm.total if vm.total else 0.0
    verdict = headroom_verdict(available_percent, params.min_available_percent)
    minimum = params.min_available_percent
    measured = f"{available_percent:.1f}% of memory available"
    reason = headroom_reason(measured, verdict, minimum)
    evidence: dict[str, object] = {
        "total_bytes": vm.total,
        "available_bytes": vm.available,
        "available_percent": round(available_percent, 2),
        "min_available_percent": minimum,
    }
    return ProbeResult(verdict, reason, evidence)
