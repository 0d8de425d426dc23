"""Host probes: disk space, memory, CPU load and clock offset.

For the target's host the figures come, in this order, from the target's Prometheus
(node_exporter series of each of its machines, see ``node_series``), else from this
machine when the target runs here, else nowhere (``OutOfReach``). The evidence says
which: ``source`` is ``"prometheus"`` (with the queries) or ``"local"``.
"""

from __future__ import annotations

import asyncio
import email.utils
import shutil
import socket
import ssl
import struct
import time
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import httpx
import psutil
from pydantic import Field, model_validator

from checks.probes.base import ProbeContext, ProbeResult, Scope
from checks.probes.node_series import Judge, NodeSeriesParams, Series, judge_machines
from checks.probes.prometheus_api import Sample, promql_string
from checks.probes.reach import target_host, target_prometheus
from checks.probes.registry import probe
from core.events import Verdict


class DiskParams(NodeSeriesParams):
    # No upper bound: a threshold above 100 is odd but harmless (it always fails).
    min_free_percent: float = Field(default=10.0, ge=0)
    #: The filesystem to measure: by default Quarterdeck's data directory's, or the root
    #: filesystem of the target's host.
    path: Path | None = None


class MemoryParams(NodeSeriesParams):
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


@probe("host.disk", scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK), params=DiskParams)
async def disk(ctx: ProbeContext, params: DiskParams) -> ProbeResult:
    """Free space on a filesystem: the target host's root, or Quarterdeck's data directory's.

    ``path`` names another filesystem to measure."""
    if (url := target_prometheus(ctx)) is not None:
        return await _disk_from_prometheus(ctx, url, params)
    host = await target_host(ctx)
    default = Path(ctx.settings.data_dir) if ctx.scope is Scope.QUARTERDECK else Path("/")
    data_dir = (params.path or default).expanduser()
    measured = existing_ancestor(data_dir)
    usage = await asyncio.to_thread(shutil.disk_usage, measured)  # statvfs can hang on NFS
    free_percent = 100.0 * usage.free / usage.total if usage.total else 0.0
    verdict = headroom_verdict(free_percent, params.min_free_percent)
    reason = headroom_reason(f"{free_percent:.1f}% free", verdict, params.min_free_percent)
    evidence: dict[str, object] = {
        "source": "local",
        "host": host,
        "path": str(data_dir),
        "measured_path": str(measured),
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "free_percent": round(free_percent, 2),
        "min_free_percent": params.min_free_percent,
    }
    return ProbeResult(verdict, reason, evidence)


async def _disk_from_prometheus(ctx: ProbeContext, url: str, params: DiskParams) -> ProbeResult:
    """Each machine's filesystem holding ``path`` (the longest mount point above it)."""
    path = PurePosixPath(params.path or "/")
    threshold = {"path": str(path), "min_free_percent": params.min_free_percent}
    if not path.is_absolute():
        reason = f"path {str(path)!r} must be absolute to name a filesystem of the target's host"
        return ProbeResult(Verdict.ERROR, reason, threshold)
    mounts = "|".join(_regex_literal(str(p)) for p in (path, *path.parents))
    where = f"mountpoint=~{promql_string(mounts)}"
    wanted = {"free": Series("node_filesystem_avail_bytes", where),
              "size": Series("node_filesystem_size_bytes", where)}  # fmt: skip

    def judge(instance: str, found: Mapping[str, list[Sample]]) -> ProbeResult:
        sizes = {s.labels.get("mountpoint"): s.value for s in found["size"]}
        free = max((s for s in found["free"] if s.labels.get("mountpoint") in sizes),
                   key=lambda s: len(s.labels["mountpoint"]), default=None)  # fmt: skip
        if free is None:
            return ProbeResult(Verdict.ERROR, "no filesystem with both free and total bytes")
        total = sizes[free.labels["mountpoint"]]
        free_percent = 100.0 * free.value / total if total else 0.0
        verdict = headroom_verdict(free_percent, params.min_free_percent)
        measured = f"{free_percent:.1f}% free on {free.labels['mountpoint']}"
        evidence: dict[str, object] = {
            "measured_path": free.labels["mountpoint"],
            "device": free.labels.get("device", ""),
            "fstype": free.labels.get("fstype", ""),
            "total_bytes": int(total),
            "free_bytes": int(free.value),
            "free_percent": round(free_percent, 2),
        }
        reason = headroom_reason(measured, verdict, params.min_free_percent)
        return ProbeResult(verdict, reason, evidence)

    return await judge_machines(ctx, url, params, wanted, judge, threshold)


def _regex_literal(text: str) -> str:
    """``text`` matched literally by an RE2 regex (Python's ``re.escape`` also escapes
    characters RE2 refuses to see escaped)."""
    return "".join(f"\\{c}" if c in r"\.+*?()|[]{}^$" else c for c in text)


@probe("host.memory", scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK), params=MemoryParams)
async def memory(ctx: ProbeContext, params: MemoryParams) -> ProbeResult:
    """Memory available to new processes, as a share of the total."""
    if (url := target_prometheus(ctx)) is not None:
        return await _memory_from_prometheus(ctx, url, params)
    host = await target_host(ctx)
    vm = psutil.virtual_memory()
    available_percent = 100.0 * vm.available / vm.total if vm.total else 0.0
    verdict = headroom_verdict(available_percent, params.min_available_percent)
    minimum = params.min_available_percent
    measured = f"{available_percent:.1f}% of memory available"
    reason = headroom_reason(measured, verdict, minimum)
    evidence: dict[str, object] = {
        "source": "local",
        "host": host,
        "total_bytes": vm.total,
        "available_bytes": vm.available,
        "available_percent": round(available_percent, 2),
        "min_available_percent": minimum,
    }
    return ProbeResult(verdict, reason, evidence)


async def _memory_from_prometheus(ctx: ProbeContext, url: str, params: MemoryParams) -> ProbeResult:
    wanted = {"available": Series("node_memory_MemAvailable_bytes"),
              "total": Series("node_memory_MemTotal_bytes")}  # fmt: skip
    minimum = params.min_available_percent

    def judge(instance: str, found: Mapping[str, list[Sample]]) -> ProbeResult:
        available, total = found["available"][0].value, found["total"][0].value
        percent = 100.0 * available / total if total else 0.0
        verdict = headroom_verdict(percent, minimum)
        reason = headroom_reason(f"{percent:.1f}% of memory available", verdict, minimum)
        evidence: dict[str, object] = {"total_bytes": int(total), "available_bytes": int(available),
                                       "available_percent": round(percent, 2)}  # fmt: skip
        return ProbeResult(verdict, reason, evidence)

    return await judge_machines(ctx, url, params, wanted, judge, {"min_available_percent": minimum})


class CpuParams(NodeSeriesParams):
    # 1-minute load average divided by the logical CPUs: 1.0 is every core busy.
    max_load_per_core: float = Field(default=0.9, gt=0)
    warn_load_per_core: float = Field(default=0.7, gt=0)
    sample_seconds: float = Field(default=0.2, ge=0, le=5)

    @model_validator(mode="after")
    def _ordered(self) -> CpuParams:
        if self.warn_load_per_core > self.max_load_per_core:
            raise ValueError("warn_load_per_core must not exceed max_load_per_core")
        return self


def load_verdict(load1: float, cores: int, params: CpuParams) -> tuple[Verdict, str]:
    """FAIL over ``max_load_per_core``, WARN over ``warn_load_per_core``, else PASS."""
    per_core = load1 / cores
    measured = f"load {load1:.2f} on {cores} cores ({per_core:.2f} per core)"
    if per_core > params.max_load_per_core:
        return Verdict.FAIL, f"{measured}, over {params.max_load_per_core:g}"
    if per_core > params.warn_load_per_core:
        return Verdict.WARN, f"{measured}, over the warning level {params.warn_load_per_core:g}"
    return Verdict.PASS, measured


@probe("host.cpu", scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK), params=CpuParams)
async def cpu(ctx: ProbeContext, params: CpuParams) -> ProbeResult:
    """The 1-minute load average per logical CPU is below the limit."""
    thresholds = {"max_load_per_core": params.max_load_per_core,
                  "warn_load_per_core": params.warn_load_per_core}  # fmt: skip
    if (url := target_prometheus(ctx)) is not None:
        return await judge_machines(ctx, url, params, CPU_SERIES, _cpu_judge(params), thresholds)
    host = await target_host(ctx)
    cores = psutil.cpu_count(logical=True) or 1
    load1, load5, load15 = psutil.getloadavg()
    # A short utilisation sample for the evidence; it blocks, hence the thread.
    busy = await asyncio.to_thread(psutil.cpu_percent, params.sample_seconds or None)
    evidence: dict[str, object] = {
        "source": "local",
        "host": host,
        "cores": cores,
        "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "load_per_core": round(load1 / cores, 3),
        "cpu_percent": busy,
        **thresholds,
    }
    return ProbeResult(*load_verdict(load1, cores, params), evidence)


CPU_SERIES = {
    "load1": Series("node_load1"),
    "load5": Series("node_load5"),
    "load15": Series("node_load15"),
    "idle": Series("node_cpu_seconds_total", 'mode="idle"'),  # one series per logical CPU
}


def _cpu_judge(params: CpuParams) -> Judge:
    def judge(instance: str, found: Mapping[str, list[Sample]]) -> ProbeResult:
        load1, load5, load15 = (found[name][0].value for name in ("load1", "load5", "load15"))
        cores = len({sample.labels.get("cpu") for sample in found["idle"]})
        evidence: dict[str, object] = {
            "cores": cores,
            "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)],
            "load_per_core": round(load1 / cores, 3),
        }
        return ProbeResult(*load_verdict(load1, cores, params), evidence)

    return judge


class ClockParams(NodeSeriesParams):
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


def offset_verdict(offset_ms: float, measured: str, params: ClockParams) -> tuple[Verdict, str]:
    """FAIL over ``max_offset_ms`` either way, WARN over ``warn_offset_ms``, else PASS."""
    if abs(offset_ms) > params.max_offset_ms:
        return Verdict.FAIL, f"{measured}, over {params.max_offset_ms:g} ms"
    if abs(offset_ms) > params.warn_offset_ms:
        return Verdict.WARN, f"{measured}, over {params.warn_offset_ms:g} ms"
    return Verdict.PASS, measured


@probe("host.clock", scopes=(Scope.TARGET_HOST, Scope.QUARTERDECK), params=ClockParams)
async def clock(ctx: ProbeContext, params: ClockParams) -> ProbeResult:
    """The host clock agrees with an NTP server, or else with the service's Date header.

    For the target's host, its Prometheus's node_timex series come first (each machine's
    kernel NTP state). Against NTP, the clock measured is this machine's: for the
    target's host, that only when the target runs here. A Date header is the target's
    own clock."""
    evidence: dict[str, object] = {
        "max_offset_ms": params.max_offset_ms,
        "warn_offset_ms": params.warn_offset_ms,
    }
    if (url := target_prometheus(ctx)) is not None:
        return await judge_machines(ctx, url, params, CLOCK_SERIES, _clock_judge(params), evidence)
    if params.ntp_server:
        await target_host(ctx)
    evidence["source"] = "local"
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
    return ProbeResult(*offset_verdict(offset, text, params), evidence)


CLOCK_SERIES = {
    "offset": Series("node_timex_offset_seconds"),
    "synced": Series("node_timex_sync_status"),
}


def _clock_judge(params: ClockParams) -> Judge:
    """The kernel's own estimate of its offset from its time source (adjtimex), which
    means something only while the kernel says the clock is synchronised."""

    def judge(instance: str, found: Mapping[str, list[Sample]]) -> ProbeResult:
        offset_ms = found["offset"][0].value * 1000.0
        synced = found["synced"][0].value
        evidence: dict[str, object] = {"offset_ms": round(offset_ms, 1), "sync_status": synced}
        if synced != 1:
            reason = ("the kernel reports its clock unsynchronised (node_timex_sync_status "
                      f"{synced:g}): no time source disciplines it")  # fmt: skip
            return ProbeResult(Verdict.FAIL, reason, evidence)
        measured = f"clock off by {offset_ms:+.0f} ms from its NTP source"
        return ProbeResult(*offset_verdict(offset_ms, measured, params), evidence)

    return judge
