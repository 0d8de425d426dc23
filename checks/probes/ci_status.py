"""``ci.status``: the CI's verdict on the release commit, from a GitHub-style combined
status (``GET /repos/{owner}/{repo}/commits/{ref}/status``), given by
``QD_CHECK_CI_STATUS_URL``. Its documented answer::

    {"state": "success", "sha": "6dcb09b5...", "total_count": 2,
     "statuses": [{"context": "ci/tests", "state": "success",
                   "target_url": "https://ci.example/builds/1", "description": "..."}, ...]}

The combined ``state`` is ``failure`` if any status is ``error`` or ``failure``,
``pending`` if there are none or any is ``pending``, else ``success``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope, Target
from checks.probes.http.client import ProbeClient, Unreachable, body_excerpt
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from core.events import Verdict
from core.health.breaker import CircuitOpen

STATES = frozenset({"success", "pending", "failure", "error"})
ACCEPT = "application/vnd.github+json"


class StatusParams(ProbeParams):
    #: Contexts (``ci/tests``, ``security/scan``...) that must each have reported success.
    required_contexts: list[str] = Field(default_factory=list)


def _statuses(body: Any) -> tuple[str, dict[str, dict[str, Any]]]:
    """The combined state and the latest status per context; ``ValueError`` if malformed."""
    if not isinstance(body, dict) or body.get("state") not in STATES:
        raise ValueError(f"no combined 'state' ({', '.join(sorted(STATES))}) in the answer")
    statuses = body.get("statuses", [])
    if not isinstance(statuses, list):
        raise ValueError("'statuses' is not an array")
    latest: dict[str, dict[str, Any]] = {}
    for index, status in enumerate(statuses):  # GitHub lists the newest status first
        if not isinstance(status, dict) or not isinstance(status.get("context"), str):
            raise ValueError(f"statuses[{index}] has no 'context'")
        latest.setdefault(status["context"], status)
    return str(body["state"]), latest


def _named(contexts: dict[str, dict[str, Any]], states: set[str]) -> list[str]:
    return [f"{name} {status.get('state')}" + (f" ({status['target_url']})"
                                                if status.get("target_url") else "")
            for name, status in contexts.items() if status.get("state") in states]  # fmt: skip


def judge(body: Any, params: StatusParams, evidence: dict[str, object]) -> ProbeResult:
    """FAIL on a failed or errored status, WARN while any (or a required one) is pending."""
    state, contexts = _statuses(body)
    sha = body.get("sha")
    evidence.update(state=state, sha=sha,
                    contexts={name: s.get("state") for name, s in contexts.items()})  # fmt: skip
    failing = _named(contexts, {"failure", "error"})
    if state in ("failure", "error") or failing:
        return ProbeResult(Verdict.FAIL, f"CI {state} on {sha}: {'; '.join(failing)}", evidence)
    waiting = _named(contexts, {"pending"}) + [
        f"{name} has not reported" for name in params.required_contexts if name not in contexts
    ]
    if state == "pending" or waiting:
        detail = "; ".join(waiting) or "no status reported yet"
        return ProbeResult(Verdict.WARN, f"CI pending on {sha}: {detail}", evidence)
    return ProbeResult(Verdict.PASS, f"CI success on {sha}: {len(contexts)} context(s) passed",
                       evidence)  # fmt: skip


@probe("ci.status", scopes=(Scope.TARGET,), params=StatusParams, needs=("ci_status_url",))
async def ci_status(ctx: ProbeContext, params: StatusParams) -> ProbeResult:
    """The CI reports success on the release commit, for every required context too.

    Pending (a status, or a required context not reported yet) is a warning."""
    url = (ctx.target.ci_status_url or "").strip()
    if not url:
        reason = ("target.ci_status_url is not set: give the CI's combined status of the "
                  "release commit with QD_CHECK_CI_STATUS_URL")  # fmt: skip
        raise OutOfReach(reason, "ci_status_url")
    if not url.startswith(("http://", "https://")):
        raise OutOfReach(f"QD_CHECK_CI_STATUS_URL {url!r} is not an http(s) URL", "ci_status_url")
    # A Target of its own: the CI is not the deployment, and its CA is not the target's.
    async with ProbeClient(Target(), breakers=ctx.breakers) as http:
        evidence: dict[str, object] = {"url": url, "exchanges": http.exchanges}
        try:
            response = await http.get(url, headers={"Accept": ACCEPT})
        except (Unreachable, CircuitOpen) as exc:
            return ProbeResult(Verdict.ERROR, f"cannot read the CI status: {exc}", evidence)
    if response.status_code != 200:
        reason = (f"GET {url} answered {response.status_code}, not 200: "
                  f"{body_excerpt(response)}")  # fmt: skip
        return ProbeResult(Verdict.ERROR, reason, evidence)
    try:
        return judge(response.json(), params, evidence)
    except json.JSONDecodeError as exc:
        reason = f"{url}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})"
        return ProbeResult(Verdict.ERROR, reason, {**evidence, "line": exc.lineno})
    except ValueError as exc:
        reason = f"{url}: not a combined commit status: {exc}"
        return ProbeResult(Verdict.ERROR, reason, evidence)
