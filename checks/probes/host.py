"""Host probes: disk space, memory, CPU load and clock offset."""

from __future__ import annotations

import asyncio
import email.utils
import shutil
import socket
import ssl
import struct
import time
from pathlib import Path

import httpx
import psutil
from pydantic import Field, model_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import target_host
from checks.probes.registry import probe
from core.events import Verdict


class DiskParams(ProbeParams):
    # No upper bound: a threshold above 100 is odd but harmless (it always fails).
    min_free_percent: float = Field(default=10.0, ge=0)
    #: The filesystem to measure: by default Quarterdeck's data directory's, or the root
    #: filesystem of the target's host.
    path: Path | None = None


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


@probe(
    "host.disk",
    scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK),
    needs=("base_url",),
    params=DiskParams,
)
async def disk(ctx: ProbeContext, params: DiskParams) -> ProbeResult:
    """Free space on a filesystem: the target host's root, or Quarterdeck's data directory's.

    ``path`` names another filesystem to measure."""
    host = await target_host(ctx)
    default = Path(ctx.settings.data_dir) if ctx.scope is Scope.QUARTERDECK else Path("/")
    data_dir = (params.path or default).expanduser()
    measured = existing_ancestor(data_dir)
    usage = await asyncio.to_thread(shutil.disk_usage, measured)  # statvfs can hang on NFS
    free_percent = 100.0 * usage.free / usage.total if usage.total else 0.0
    verdict = headroom_verdict(free_percent, params.min_free_percent)
    reason = headroom_reason(f"{free_percent:.1f}% free", verdict, params.min_free_percent)
    evidence: dict[str, object] = {
        "host": host,
        "path": str(data_dir),
        "measured_path": str(measured),
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "free_percent": round(free_percent, 2),
        "min_free_percent": params.min_free_percent,
    }
    return ProbeResult(verdict, reason, evidence)


@probe(
    "host.memory",
    scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK),
    needs=("base_url",),
    params=MemoryParams,
)
async def memory(ctx: ProbeContext, params: MemoryParams) -> ProbeResult:
    """Memory available to new processes, as a share of the total."""
    host = await target_host(ctx)
    vm = psutil.virtual_memory()
    available_percent = 100.0 * vm.available / vm.total if vm.total else 0.0
    verdict = headroom_verdict(available_percent, params.min_available_percent)
    minimum = params.min_available_percent
    measured = f"{available_percent:.1f}% of memory available"
    reason = headroom_reason(measured, verdict, minimum)
    evidence: dict[str, object] = {
        "host": host,
        "total_bytes": vm.total,
        "available_bytes": vm.available,
        "available_percent": round(available_percent, 2),
        "min_available_percent": minimum,
    }
    return ProbeResult(verdict, reason, evidence)


class CpuParams(ProbeParams):
    # 1-minute load average divided by the logical CPUs: 1.0 is every core busy.
    max_load_per_core: float = Field(default=0.9, gt=0)
    warn_load_per_core: float = Field(default=0.7, gt=0)
    sample_seconds: float = Field(default=0.2, ge=0, le=5)

    @model_validator(mode="after")
    def _ordered(self) -> CpuParams:
        if self.warn_load_per_core > self.max_load_per_core:
            raise ValueError("warn_load_per_core must not exceed max_load_per_core")
        return self


@probe(
    "host.cpu", scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK), needs=("base_url",), params=CpuParams
)
async def cpu(ctx: ProbeContext, params: CpuParams) -> ProbeResult:
    """The 1-minute load average per logical CPU is below the limit."""
    host = await target_host(ctx)
    cores = psutil.cpu_count(logical=True) or 1
    load1, load5, load15 = psutil.getloadavg()
    # A short utilisation sample for the evidence; it blocks, hence the thread.
    busy = await asyncio.to_thread(psutil.cpu_percent, params.sample_seconds or None)
    per_core = load1 / cores
    evidence: dict[str, object] = {
        "host": host,
        "cores": cores,
        "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "load_per_core": round(per_core, 3),
        "cpu_percent": busy,
        "max_load_per_core": params.max_load_per_core,
        "warn_load_per_core": params.warn_load_per_core,
    }
    measured = f"load {load1:.2f} on {cores} cores ({per_core:.2f} per core)"
    if per_core > params.max_load_per_core:
        reason = f"{measured}, over {params.max_load_per_core:g}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if per_core > params.warn_load_per_core:
        reason = f"{measured}, over the warning level {params.warn_load_per_core:g}"
        return ProbeResult(Verdict.WARN, reason, evidence)
    return ProbeResult(Verdict.PASS, measured, evidence)


class ClockParams(ProbeParams):
    # An NTP server ("host" or "host:port"); none: the Date header of target.base_url.
    ntp_server: str | None = None
    max_offset_ms: float = Field(default=500.0, gt=0)
    warn_offset_ms: float = Field(default=100.0, gt=0)
    timeout_seconds: float = Field(default=3.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> ClockParams:
        if self.warn_offset_ms > self.max_offset_ms:
            raise ValueError("warn_offset_ms must not exceed max_offset_ms")
        return self


NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)


def _ntp_time(raw: bytes) -> float:
    seconds, fraction = struct.unpack("!II", raw)
    return seconds - NTP_EPOCH_OFFSET + fraction / 2**32


def sntp_offset(server: str, timeout: float) -> dict[str, float]:
    """One SNTP exchange (RFC 4330): the clock offset and round-trip delay in ms.

    The offset is the server's clock minus ours, ((t2 - t1) + (t3 - t4)) / 2.
    """
    host, separator, port = server.rpartition(":")
    if not separator or ":" in host:  # no port, or a bare IPv6 address
        host, port = server.strip("[]"), ""
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]"), int(port) if port else 123, type=socket.SOCK_DGRAM
    )[0]
    request = bytearray(48)
    request[0] = (4 << 3) | 3  # version 4, mode 3 (client)
    with socket.socket(family, kind, proto) as sock:
        sock.settimeout(timeout)
        t1 = time.time()
        request[40:48] = struct.pack("!II", int(t1) + NTP_EPOCH_OFFSET, 0)
        sock.sendto(bytes(request), address)
        reply, _ = sock.recvfrom(512)
        t4 = time.time()
    if len(reply) < 48:
        raise ValueError(f"short NTP reply ({len(reply)} bytes) from {server}")
    if reply[0] & 0x07 != 4 or reply[1] == 0:  # mode 4 (server); stratum 0 is a kiss-o'-death
        raise ValueError(f"{server} sent no usable time (mode {reply[0] & 7}, stratum {reply[1]})")
    t2, t3 = _ntp_time(reply[32:40]), _ntp_time(reply[40:48])
    offset = ((t2 - t1) + (t3 - t4)) / 2
    delay = (t4 - t1) - (t3 - t2)
    return {"offset_ms": offset * 1000.0, "delay_ms": delay * 1000.0, "stratum": reply[1]}


#: How long a server may keep sending one ``Date`` header: uvicorn's is refreshed once a
#: second by its main loop, so under load it can be a second old and more.
DATE_REUSE_S = 1.5


async def http_date_offset(
    url: str, timeout: float, verify: ssl.SSLContext | bool
) -> dict[str, object]:
    """Our clock against the ``Date`` header of ``url``.

    ``Date`` has whole seconds: a server whose clock reads D.xxx sends D. Many
    servers also reuse the header for up to a second (uvicorn refreshes it once a
    second, later when its loop is busy), so a reply stamped D may leave up to
    ``DATE_REUSE_S`` after D + 1. The server replied somewhere between our send
    (t0) and our receipt (t1), so its offset lies in [D - t1, D + 1 + reuse - t0].
    ``offset_ms`` is the value in that interval closest to zero: the smallest error
    the evidence proves.
    """
    async with httpx.AsyncClient(timeout=timeout, verify=verify) as client:
        t0 = time.time()
        response = await client.get(url)
        t1 = time.time()
    header = response.headers.get("date")
    if not header:
        raise ValueError(f"{url} sent no Date header (HTTP {response.status_code})")
    server = email.utils.parsedate_to_datetime(header).timestamp()
    low, high = server - t1, server + 1.0 + DATE_REUSE_S - t0
    nearest = 0.0 if low <= 0 <= high else (low if low > 0 else high)
    return {
        "offset_ms": nearest * 1000.0,
        "interval_ms": [round(low * 1000.0, 1), round(high * 1000.0, 1)],
        "date_header": header,
        "round_trip_ms": round((t1 - t0) * 1000.0, 1),
    }


@probe("host.clock", scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK), params=ClockParams)
async def clock(ctx: ProbeContext, params: ClockParams) -> ProbeResult:
    """The host clock agrees with an NTP server, or else with the service's Date header.

    Against NTP, the clock measured is this machine's: for the target's host, that only
    when the target runs here. A Date header is the target's own clock."""
    if params.ntp_server:
        await target_host(ctx)
    evidence: dict[str, object] = {
        "max_offset_ms": params.max_offset_ms,
        "warn_offset_ms": params.warn_offset_ms,
    }
    try:
        if params.ntp_server:
            evidence["reference"] = f"ntp://{params.ntp_server}"
            measured: dict[str, object] = dict(
                await asyncio.to_thread(sntp_offset, params.ntp_server, params.timeout_seconds)
            )
        elif ctx.target.base_url:
            evidence["reference"] = f"Date header of {ctx.target.base_url}"
            ca_file = ctx.target.ca_file
            verify = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
            measured = await http_date_offset(ctx.target.base_url, params.timeout_seconds, verify)
        else:
            reason = "target.base_url is not set and no ntp_server is given"
            return ProbeResult(Verdict.ERROR, reason, evidence)
    except (OSError, httpx.HTTPError, ValueError) as exc:
        evidence["error"] = f"{type(exc).__name__}: {exc}"
        reason = f"no time from {evidence['reference']}: {exc}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    offset = float(measured["offset_ms"])  # type: ignore[arg-type]
    measured["offset_ms"] = round(offset, 1)
    evidence.update(measured)
    text = f"clock off by {offset:+.0f} ms against {evidence['reference']}"
    if abs(offset) > params.max_offset_ms:
        return ProbeResult(Verdict.FAIL, f"{text}, over {params.max_offset_ms:g} ms", evidence)
    if abs(offset) > params.warn_offset_ms:
        return ProbeResult(Verdict.WARN, f"{text}, over {params.warn_offset_ms:g} ms", evidence)
    return ProbeResult(Verdict.PASS, text, evidence)
