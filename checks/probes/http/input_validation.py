"""``http.input_validation``: every operation refuses input its schema does not admit.

The operations come from the target's OpenAPI document; the malformed requests from
``malformed`` (each invalid by that document, so a validating API refuses it before
acting). Paths naming an action no probe should risk (logout, kill, reset...) are
never sent anything.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, body_excerpt, run_http_probe
from checks.probes.http.config_leaks import LEAK_PATTERNS
from checks.probes.http.malformed import Case, Document, cases_for
from checks.probes.registry import probe
from core.events import Verdict

#: A stack trace in an answer: the error reached the client unhandled.
TRACE_PATTERNS = tuple(p for name, p in LEAK_PATTERNS if name in ("Python traceback",
                                                                 "stack frame"))  # fmt: skip
#: Statuses that say the input was read and refused (the rest refuse without reading).
VALIDATION_STATUSES = frozenset({400, 413, 415, 422})
#: Failures named in the reason; the evidence lists them all.
NAMED_FAILURES = 5


class InputValidationParams(ProbeParams):
    openapi_path: str = "/api/v1/openapi.json"
    max_operations: int = Field(default=40, ge=1, le=500)
    #: Paths containing any of these (case-insensitive) are never sent anything: actions,
    #: and the logins, whose failures spend the probe host's login allowance and count
    #: toward its lockout (the authentication probes need both).
    exclude: list[str] = Field(default_factory=lambda: [
        "logout", "kill", "reset", "revoke", "halt", "shutdown", "liquidate", "flatten",
        "cancel", "stop", "/auth/", "login",
    ])  # fmt: skip
    #: Answers that count as a refusal.
    accept: list[int] = Field(default_factory=lambda: [400, 401, 403, 404, 405, 409, 413,
                                                       415, 422, 429])  # fmt: skip
    oversize_chars: int = Field(default=10_000, ge=1, le=1_000_000)
    concurrency: int = Field(default=4, ge=1, le=50)
    budget_s: float = Field(default=20.0, gt=0)


@dataclass(frozen=True, slots=True)
class Answer:
    """The target's answer to one case; ``problem`` says what is wrong with it."""

    case: Case
    status: int
    problem: str | None = None
    body: str = ""

    def as_evidence(self) -> dict[str, object]:
        found = {"problem": self.problem, "body": self.body} if self.problem else {}
        return {"operation": self.case.operation, "sent": self.case.sent,
                "status": self.status, **found}  # fmt: skip


def excluded(path: str, patterns: list[str]) -> bool:
    lowered = path.lower()
    return any(pattern.lower() in lowered for pattern in patterns)


def plan(document: Document, params: InputValidationParams) -> tuple[list[Case], dict[str, Any]]:
    """The cases to send (at most ``max_operations`` operations' worth), and what was
    left out and why."""
    cases: list[Case] = []
    left_out: dict[str, list[str]] = {"excluded": [], "nothing_invalid_to_send": [],
                                      "over_max_operations": []}  # fmt: skip
    operations = 0
    for operation in document.operations():
        name = f"{operation.method} {operation.path}"
        if excluded(operation.path, params.exclude):
            left_out["excluded"].append(name)
            continue
        found = cases_for(document, operation, params.oversize_chars)
        if not found:
            left_out["nothing_invalid_to_send"].append(name)
        elif operations >= params.max_operations:
            left_out["over_max_operations"].append(name)
        else:
            operations += 1
            cases.extend(found)
    return cases, left_out


def problem_of(response: httpx.Response, accept: frozenset[int]) -> str | None:
    """Why the answer to a malformed request is wrong, or None."""
    traced = [p.pattern for p in TRACE_PATTERNS if p.search(response.text)]
    if traced:
        return f"answered {response.status_code} with a stack trace in the body"
    if response.status_code in accept:
        return None
    if response.is_success:
        return f"answered {response.status_code}: accepted"
    return f"answered {response.status_code}"


@probe("http.input_validation", scopes=(Scope.TARGET,), params=InputValidationParams,
       exclusive=True, needs=("base_url",))  # fmt: skip
async def input_validation(ctx: ProbeContext, params: InputValidationParams) -> ProbeResult:
    """Each operation in the OpenAPI document refuses malformed input with a 4xx.

    Reads ``openapi_path`` (ERROR naming it when absent or not an OpenAPI document),
    then sends, with the target's API key, ``concurrency`` at a time and within
    ``budget_s``, the malformed requests of up to ``max_operations`` operations
    (paths matching ``exclude`` are never sent anything). FAIL: an answer outside
    ``accept`` (a 2xx, a 5xx...) or any answer carrying a stack trace, naming method,
    path, what was sent and the status. WARN: the budget ran out before every case
    was sent, or no answer came from validation (every one a 401, 403, 404, 405, 409
    or 429: the schema was never reached). Exclusive: it spends the target's write
    rate limit.
    """
    accept = frozenset(params.accept)

    async def body(http: ProbeClient) -> ProbeResult:
        credentials = http.api_key_headers()
        response = await http.get(params.openapi_path, headers=credentials)
        document = openapi_document(response)
        if document is None:
            reason = (f"no OpenAPI document at {params.openapi_path} (GET answered "
                      f"{response.status_code}): set openapi_path")  # fmt: skip
            return ProbeResult(Verdict.ERROR, reason, {"setting": "openapi_path",
                                                       "exchanges": http.exchanges})  # fmt: skip
        cases, left_out = plan(Document(document), params)
        answers: dict[int, Answer] = {}  # by the case's place in the plan
        gate = asyncio.Semaphore(params.concurrency)

        async def send(number: int, case: Case) -> None:
            async with gate:
                headers = dict(credentials)
                if case.body is not None:
                    headers["Content-Type"] = "application/json"
                answer = await http.send(case.method, case.target, headers=headers,
                                         content=case.body, record=False)  # fmt: skip
            found = problem_of(answer, accept)
            excerpt = body_excerpt(answer) if found else ""
            answers[number] = Answer(case, answer.status_code, found, excerpt)

        started = time.perf_counter()
        timed_out = False
        try:
            async with asyncio.timeout(params.budget_s), asyncio.TaskGroup() as group:
                for number, case in enumerate(cases):
                    group.create_task(send(number, case))
        except TimeoutError:
            timed_out = True
        return judge(cases, [answers[n] for n in sorted(answers)], left_out, timed_out, {
            "openapi_path": params.openapi_path, "operations": len({c.operation for c in cases}),
            "wall_s": round(time.perf_counter() - started, 3), "budget_s": params.budget_s,
            "exchanges": http.exchanges,
        })  # fmt: skip

    # A 429 is an answer it accepts (the write limit spent): waiting would only eat its budget.
    return await run_http_probe(ctx.target, body, max_connections=params.concurrency,
                                breakers=ctx.breakers, honour_throttling=False)  # fmt: skip


def openapi_document(response: httpx.Response) -> dict[str, Any] | None:
    """The answer as an OpenAPI document (a JSON object with ``paths``), or None."""
    if not response.is_success:
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        return None
    return document


def judge(
    cases: list[Case], answers: list[Answer], left_out: dict[str, Any],
    timed_out: bool, evidence: dict[str, object],
) -> ProbeResult:  # fmt: skip
    """The verdict on the answers (see the probe's docstring)."""
    failures = [a for a in answers if a.problem]
    statuses = Counter(a.status for a in answers)
    evidence = {**evidence, "cases": len(cases), "sent": len(answers),
                "statuses": {str(s): n for s, n in sorted(statuses.items())},
                "failures": [a.as_evidence() for a in failures], "left_out": left_out}  # fmt: skip
    summary = f"{len(answers)} malformed requests to {evidence['operations']} operations"
    if failures:
        named = "; ".join(f"{a.case.operation} with {a.case.sent}: {a.problem}"
                          for a in failures[:NAMED_FAILURES])  # fmt: skip
        more = len(failures) - NAMED_FAILURES
        tail = f"; and {more} more" if more > 0 else ""
        return ProbeResult(Verdict.FAIL, f"{summary}, {len(failures)} not refused: {named}{tail}",
                           evidence)  # fmt: skip
    if not cases:
        reason = "no operation in the OpenAPI document declares an input that can be sent invalid"
        return ProbeResult(Verdict.WARN, reason, evidence)
    if timed_out:
        reason = (f"{summary}, each refused, but the budget of {evidence['budget_s']} s ran out "
                  f"with {len(cases) - len(answers)} of {len(cases)} unsent")  # fmt: skip
        return ProbeResult(Verdict.WARN, reason, evidence)
    if not VALIDATION_STATUSES & statuses.keys():
        reason = (
            f"{summary}, none refused by validation (statuses "
            f"{', '.join(map(str, sorted(statuses)))}): the schema was never reached"
        )
        return ProbeResult(Verdict.WARN, reason, evidence)
    return ProbeResult(Verdict.PASS, f"{summary}, each refused with a 4xx", evidence)
