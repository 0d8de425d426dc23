"""``logs.correlation``: a request's id reaches the target's log, structured, and the
log holds no credentials.

The probe sends one request carrying a fresh id (``X-Request-ID: qd-<uuid4>``) and
reads the target's log file (``QD_CHECK_LOG_PATH``: the file itself, or the copy its
log collector writes) until the id shows up. Finding it proves the logs can follow
one request; the line carrying it must be one structured record (a JSON object, or
logfmt), which is what a central collector can index. The probe's own request
carries the target's API key, so a server that logs request headers gives itself away.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

#: How much of the file's end is read: far more than the last ``scan_lines`` lines.
TAIL_BYTES = 4 * 1024 * 1024
POLL_S = 0.1
EXCERPT_CHARS = 500
BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9\-._~+/]{16,}=*", re.IGNORECASE)
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
LOGFMT = re.compile(r'\s*(?:[\w.\-/@]+=(?:"(?:[^"\\]|\\.)*"|\S*)\s*)+')


class LogCorrelationParams(ProbeParams):
    header: str = "X-Request-ID"
    #: A request the target logs (Quarterdeck logs every one but its health polls and
    #: scrapes: its catalog item asks ``/api/v1/auth/me``); the API key is sent.
    path: str = "/health"
    wait_seconds: float = Field(default=5.0, gt=0, le=120)
    format: Literal["json", "logfmt"] = "json"
    #: The newest lines searched for the API key and bearer tokens.
    scan_lines: int = Field(default=1000, ge=1, le=100_000)


@dataclass(frozen=True, slots=True)
class LogTail:
    lines: list[str]
    size: int  # the file's size in bytes when read


def read_tail(path: Path) -> LogTail:
    """The last ``TAIL_BYTES`` of ``path`` as whole lines (``OSError`` if unreadable)."""
    with path.open("rb") as file:
        size = file.seek(0, 2)
        start = max(0, size - TAIL_BYTES)
        file.seek(start)
        data = file.read()
    lines = data.decode("utf-8", errors="replace").splitlines()
    return LogTail(lines[1:] if start else lines, size)  # the first may be cut


def is_structured(line: str, form: str) -> bool:
    if form == "logfmt":
        return LOGFMT.fullmatch(line) is not None
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def secrets_in(line: str, api_key: str | None) -> list[str]:
    """The kinds of credential ``line`` carries."""
    kinds = []
    if api_key and api_key in line:
        kinds.append("the target's API key")
    if BEARER.search(line):
        kinds.append("a bearer token")
    if JWT.search(line):
        kinds.append("a JWT")
    return kinds


def mask(line: str, api_key: str | None) -> str:
    """``line`` fit for evidence: credentials replaced, cut to ``EXCERPT_CHARS``."""
    if api_key:
        line = line.replace(api_key, "<redacted>")
    line = JWT.sub("<redacted>", BEARER.sub(r"\1<redacted>", line))
    return line if len(line) <= EXCERPT_CHARS else line[:EXCERPT_CHARS] + "…"


def log_file_problem(path: Path | None) -> ProbeResult | None:
    """ERROR naming the setting or the file when the log cannot be read, else None."""
    if path is None:
        reason = "target.log_path is not set: give the target's log file with QD_CHECK_LOG_PATH"
        return ProbeResult(Verdict.ERROR, reason, {"setting": "log_path"})
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        reason = f"the target's log file {path} (QD_CHECK_LOG_PATH) cannot be read: " + (
            exc.strerror or str(exc))  # fmt: skip
        return ProbeResult(Verdict.ERROR, reason, {"setting": "log_path", "file": str(path)})
    return None


async def wait_for(path: Path, needle: str, wait_s: float) -> tuple[LogTail, list[str]]:
    """Read the file's tail until a line carries ``needle`` or ``wait_s`` pass."""
    deadline = time.monotonic() + wait_s
    while True:
        tail = await asyncio.to_thread(read_tail, path)
        found = [line for line in tail.lines if needle in line]
        if found or time.monotonic() >= deadline:
            return tail, found
        await asyncio.sleep(POLL_S)


@probe("logs.correlation", scopes=(Scope.TARGET,), params=LogCorrelationParams,
       needs=("base_url", "log_path"))  # fmt: skip
async def log_correlation(ctx: ProbeContext, params: LogCorrelationParams) -> ProbeResult:
    """A request's id appears in the target's log, on a structured line, and no credential does.

    GETs ``path`` with ``header: qd-<uuid4>`` (and the API key, if the target has
    one), then reads ``target.log_path`` for up to ``wait_seconds``. ERROR: the log
    path is unset or unreadable. FAIL: the id never appears; a line carrying it is
    not one ``format`` record (a JSON object per line, or logfmt); the API key, a
    bearer token or a JWT appears in the newest ``scan_lines`` lines. Evidence: the
    file, its size, the matching line and any leaking lines, credentials masked.
    """
    path = ctx.target.log_path
    unreadable = log_file_problem(path)
    if unreadable is not None:
        return unreadable
    assert path is not None
    api_key = ctx.target.api_key
    request_id = f"qd-{uuid.uuid4()}"

    async def body(http: ProbeClient) -> ProbeResult:
        headers = {params.header: request_id, **http.api_key_headers()}
        response = await http.get(params.path, headers=headers)
        try:
            tail, found = await wait_for(path, request_id, params.wait_seconds)
        except OSError as exc:
            return ProbeResult(Verdict.ERROR, f"the target's log file {path} cannot be read: "
                               f"{exc.strerror or exc}", {"file": str(path)})  # fmt: skip
        scanned = tail.lines[-params.scan_lines :]
        leaking = [(len(scanned) - number, line, kinds) for number, line in enumerate(scanned)
                   if (kinds := secrets_in(line, api_key))]  # fmt: skip
        leaks = [{"line_from_end": from_end, "carries": kinds, "excerpt": mask(line, api_key)}
                 for from_end, line, kinds in leaking]  # fmt: skip
        unstructured = [line for line in found if not is_structured(line, params.format)]
        evidence: dict[str, object] = {
            "file": str(path), "size_bytes": tail.size, "request_id": request_id,
            "header": params.header, "echoed": response.headers.get(params.header) == request_id,
            "matching_lines": [mask(line, api_key) for line in found[:3]],
            "format": params.format, "lines_scanned": len(scanned), "leaks": leaks[:10],
            "exchanges": http.exchanges,
        }  # fmt: skip
        problems = []
        if not found:
            problems.append(f"the request id {request_id} sent in {params.header} did not "
                            f"appear in {path} within {params.wait_seconds:g} s")  # fmt: skip
        elif unstructured:
            problems.append(f"the line carrying the request id is not a {params.format} "
                            f"record: {mask(unstructured[0], api_key)[:120]!r}")  # fmt: skip
        if leaks:
            kinds = sorted({kind for _, _, found_kinds in leaking for kind in found_kinds})
            problems.append(f"{len(leaks)} of the last {len(scanned)} lines carry "
                            f"{' and '.join(kinds)}")  # fmt: skip
        if problems:
            return ProbeResult(Verdict.FAIL, "; ".join(problems), evidence)
        reason = (f"the request id reached {path} on a {params.format} line; no credential in "
                  f"the last {len(scanned)} lines")  # fmt: skip
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
