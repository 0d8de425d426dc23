"""host.cpu and host.clock: load per core, and the clock against HTTP Date and SNTP."""

from __future__ import annotations

import email.utils
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checks.probes import REGISTRY, Scope
from checks.probes.host import NTP_EPOCH_OFFSET, ClockParams, CpuParams, clock, cpu
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext
from .servers import free_port

# --- host.cpu ---------------------------------------------------------------------


def test_cpu_and_clock_probes_are_registered() -> None:
    assert REGISTRY.get("host.cpu").params is CpuParams
    assert REGISTRY.get("host.clock").params is ClockParams
    assert CpuParams().max_load_per_core == 0.9
    assert (ClockParams().max_offset_ms, ClockParams().warn_offset_ms) == (500, 100)
    assert ClockParams().ntp_server is None


async def test_cpu_measures_this_host(make_ctx: MakeContext) -> None:
    result = await cpu(make_ctx(), CpuParams(max_load_per_core=1e6, warn_load_per_core=1e6))
    assert result.verdict is Verdict.PASS
    assert result.evidence["cores"] >= 1
    assert len(result.evidence["load_average"]) == 3
    assert 0 <= result.evidence["cpu_percent"] <= 100


@pytest.mark.parametrize(
    ("load", "expected"), [(1.0, Verdict.PASS), (3.0, Verdict.WARN), (3.7, Verdict.FAIL)]
)
async def test_cpu_load_per_core_against_thresholds(
    load: float, expected: Verdict, make_ctx: MakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checks.probes import host

    monkeypatch.setattr(host.psutil, "getloadavg", lambda: (load, 1.0, 1.0))
    monkeypatch.setattr(host.psutil, "cpu_count", lambda logical=True: 4)
    result = await cpu(make_ctx(), CpuParams(sample_seconds=0))
    assert result.verdict is expected
    assert result.evidence["load_per_core"] == round(load / 4, 3)
    if expected is Verdict.FAIL:
        assert result.reason == "load 3.70 on 4 cores (0.93 per core), over 0.9"


# --- host.clock over HTTP ----------------------------------------------------------


def date_server(skew_seconds: float) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate(time.time() + skew_seconds, usegmt=True)

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def date_servers() -> Iterator[dict[str, str]]:
    """HTTP servers whose Date header is right, and 10 s behind."""
    servers = {"right": date_server(0.0), "behind_10s": date_server(-10.0)}
    yield {name: f"http://127.0.0.1:{s.server_address[1]}/" for name, (s, _) in servers.items()}
    for server, thread in servers.values():
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_clock_agreeing_with_date_header_passes(
    date_servers: dict[str, str], make_ctx: MakeContext
) -> None:
    result = await clock(make_ctx(base_url=date_servers["right"]), ClockParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["offset_ms"] == 0.0  # within the header's one-second resolution
    low, high = result.evidence["interval_ms"]
    # the header's whole second, the second a server may reuse it, and the round trip
    assert low <= 0 <= high and high - low <= 2500 + result.evidence["round_trip_ms"] + 1
    assert result.evidence["reference"].startswith("Date header of http://127.0.0.1:")


async def test_clock_10s_off_the_date_header_fails(
    date_servers: dict[str, str], make_ctx: MakeContext
) -> None:
    result = await clock(make_ctx(base_url=date_servers["behind_10s"]), ClockParams())
    assert result.verdict is Verdict.FAIL
    # The server is 10 s behind; the header's whole seconds, and the time a server may
    # reuse one, leave up to 2.5 s of doubt.
    assert -10_000 <= result.evidence["offset_ms"] <= -7_500
    assert "over 500 ms" in result.reason


async def test_clock_reference_unreachable_fails(make_ctx: MakeContext) -> None:
    ctx = make_ctx(base_url=f"http://127.0.0.1:{free_port()}/")
    result = await clock(ctx, ClockParams(timeout_seconds=2))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("no time from Date header of http://127.0.0.1:")


async def test_clock_without_any_reference_is_an_error(make_ctx: MakeContext) -> None:
    result = await clock(make_ctx(), ClockParams())
    assert result.verdict is Verdict.ERROR
    assert result.reason == "target.base_url is not set and no ntp_server is given"


# --- host.clock over SNTP ----------------------------------------------------------


def ntp_timestamp(seconds: float) -> bytes:
    seconds += NTP_EPOCH_OFFSET
    return struct.pack("!II", int(seconds), int((seconds % 1) * 2**32))


@pytest.fixture(scope="module")
def ntp_servers() -> Iterator[dict[str, str]]:
    """Minimal SNTP servers (stratum 2) whose clocks run 0 s, +0.3 s and +2 s ahead."""
    sockets: dict[str, socket.socket] = {}
    stop = threading.Event()

    def serve(sock: socket.socket, skew: float) -> None:
        while not stop.is_set():
            try:
                request, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            now = time.time() + skew
            reply = bytes([(4 << 3) | 4, 2, 6, 0xEC]) + bytes(20) + request[40:48]
            reply += ntp_timestamp(now) + ntp_timestamp(now)
            sock.sendto(reply, peer)

    threads = []
    for name, skew in (("right", 0.0), ("ahead_300ms", 0.3), ("ahead_2s", 2.0)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.1)
        sockets[name] = sock
        threads.append(threading.Thread(target=serve, args=(sock, skew), daemon=True))
        threads[-1].start()
    yield {name: f"127.0.0.1:{sock.getsockname()[1]}" for name, sock in sockets.items()}
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    for sock in sockets.values():
        sock.close()


@pytest.mark.parametrize(
    ("server", "expected", "offset_ms"),
    [
        ("right", Verdict.PASS, 0),
        ("ahead_300ms", Verdict.WARN, 300),
        ("ahead_2s", Verdict.FAIL, 2000),
    ],
)
async def test_clock_against_ntp_server(
    server: str, expected: Verdict, offset_ms: float, ntp_servers: dict[str, str],
    make_ctx: MakeContext,
) -> None:  # fmt: skip
    # The NTP server is preferred over the base URL when both are given.
    ctx = make_ctx(base_url="http://127.0.0.1:1/")
    result = await clock(ctx, ClockParams(ntp_server=ntp_servers[server]))
    assert result.verdict is expected, result.reason
    assert result.evidence["offset_ms"] == pytest.approx(offset_ms, abs=50)
    assert result.evidence["stratum"] == 2
    assert result.evidence["reference"] == f"ntp://{ntp_servers[server]}"


async def test_silent_ntp_server_fails(make_ctx: MakeContext) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        result = await clock(make_ctx(), ClockParams(ntp_server=address, timeout_seconds=0.5))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith(f"no time from ntp://{address}")


@pytest.mark.parametrize("probe", ["host.cpu", "host.memory", "host.disk"])
async def test_the_target_s_host_is_measured_when_the_target_runs_here(
    probe: str, make_ctx: MakeContext
) -> None:
    ctx = make_ctx(base_url="https://localhost:8443", scope=Scope.TARGET_HOST)
    params = {"max_load_per_core": 1000, "warn_load_per_core": 1000} if probe == "host.cpu" else {}
    result = await run_probe_named(probe, params, ctx, REGISTRY, 10.0)
    assert result.verdict is not Verdict.ERROR, result.reason
    assert result.evidence["host"] == "localhost"
    assert result.evidence["scope"] == "target-host"


@pytest.mark.parametrize("probe", ["host.cpu", "host.memory", "host.disk"])
async def test_another_machine_s_host_is_out_of_reach_not_judged_by_this_one(
    probe: str, make_ctx: MakeContext
) -> None:
    # 192.0.2.0/24 is TEST-NET-1: never this machine.
    ctx = make_ctx(base_url="https://192.0.2.7", scope=Scope.TARGET_HOST)
    result = await run_probe_named(probe, {}, ctx, REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith("the target's host '192.0.2.7' is not this machine")
    # What would reach it: the Prometheus that scrapes its machines.
    assert "QD_CHECK_PROMETHEUS_URL" in result.reason
    assert result.evidence["setting"] == "prometheus_url"


async def test_disk_of_the_target_s_host_is_its_root_filesystem(make_ctx: MakeContext) -> None:
    ctx = make_ctx(base_url="http://127.0.0.1:9", scope=Scope.TARGET_HOST)
    result = await run_probe_named("host.disk", {"min_free_percent": 0}, ctx, REGISTRY, 10.0)
    assert result.verdict is Verdict.PASS
    assert result.evidence["path"] == "/"
