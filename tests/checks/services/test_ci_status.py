"""ci.status against a local server answering GitHub's combined commit status
(``GET /repos/{owner}/{repo}/commits/{ref}/status``) for a few commits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from checks.probes import REGISTRY, Scope
from checks.probes.ci_status import StatusParams, ci_status
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext
from .servers import QuietHandler, free_port, threaded_http

REPO = "/repos/acme/app/commits"


def status(context: str, state: str, build: int) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/acme/app/statuses/{build:040x}",
        "id": build, "node_id": f"SC_{build}", "state": state,
        "description": f"Build {state}", "target_url": f"https://ci.example/builds/{build}",
        "context": context, "created_at": "2025-01-02T10:00:00Z",
        "updated_at": "2025-01-02T10:05:00Z",
    }  # fmt: skip


def combined(state: str, sha: str, *statuses: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": state, "statuses": list(statuses), "sha": sha, "total_count": len(statuses),
        "repository": {"id": 1296269, "full_name": "acme/app"},
        "commit_url": f"https://api.github.com/repos/acme/app/commits/{sha}",
        "url": f"https://api.github.com/repos/acme/app/commits/{sha}/status",
    }  # fmt: skip


ANSWERS: dict[str, tuple[int, str]] = {
    f"{REPO}/green/status": (200, json.dumps(combined(
        "success", "a" * 40, status("ci/tests", "success", 3), status("ci/lint", "success", 2)))),
    f"{REPO}/red/status": (200, json.dumps(combined(
        "failure", "b" * 40, status("ci/tests", "failure", 5), status("ci/lint", "success", 4),
        status("ci/tests", "success", 1)))),  # the newest status of a context is listed first
    f"{REPO}/running/status": (200, json.dumps(combined(
        "pending", "c" * 40, status("ci/tests", "pending", 7), status("ci/lint", "success", 6)))),
    f"{REPO}/unknown/status": (404, json.dumps({"message": "No commit found for SHA: unknown"})),
    f"{REPO}/garbled/status": (200, '{\n  "state": "success",\n  "statuses": [\n'),
    f"{REPO}/odd/status": (200, json.dumps({"status": "ok"})),
}  # fmt: skip


class GitHubStatuses(QuietHandler):
    def do_GET(self) -> None:
        code, body = ANSWERS.get(self.path, (404, '{"message": "Not Found"}'))
        payload = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def github() -> Iterator[str]:
    with threaded_http(GitHubStatuses) as port:
        yield f"http://127.0.0.1:{port}{REPO}"


async def test_success_on_every_context_passes(github: str, make_ctx: MakeContext) -> None:
    ctx = make_ctx(ci_status_url=f"{github}/green/status", scope=Scope.TARGET)
    result = await ci_status(ctx, StatusParams(required_contexts=["ci/tests", "ci/lint"]))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == f"CI success on {'a' * 40}: 2 context(s) passed"
    assert result.evidence["contexts"] == {"ci/tests": "success", "ci/lint": "success"}
    assert result.evidence["exchanges"][0]["status"] == 200


async def test_a_failed_context_fails_naming_it_and_its_build(github: str, make_ctx: MakeContext):
    ctx = make_ctx(ci_status_url=f"{github}/red/status", scope=Scope.TARGET)
    result = await ci_status(ctx, StatusParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (f"CI failure on {'b' * 40}: ci/tests failure "
                             "(https://ci.example/builds/5)")  # fmt: skip


async def test_pending_or_a_required_context_missing_warns(github: str, make_ctx: MakeContext):
    running = make_ctx(ci_status_url=f"{github}/running/status", scope=Scope.TARGET)
    result = await ci_status(running, StatusParams())
    assert result.verdict is Verdict.WARN
    assert result.reason == (f"CI pending on {'c' * 40}: ci/tests pending "
                             "(https://ci.example/builds/7)")  # fmt: skip
    green = make_ctx(ci_status_url=f"{github}/green/status", scope=Scope.TARGET)
    missing = await ci_status(green, StatusParams(required_contexts=["security/scan"]))
    assert missing.verdict is Verdict.WARN
    assert missing.reason.endswith("security/scan has not reported")


async def test_bad_answers_are_errors_naming_url_and_line(github: str, make_ctx: MakeContext):
    for name, expected in [
        ("unknown", f"GET {github}/unknown/status answered 404, not 200: "),
        ("garbled", f"{github}/garbled/status:4: not valid JSON: "),
        ("odd", f"{github}/odd/status: not a combined commit status: no combined 'state'"),
    ]:
        ctx = make_ctx(ci_status_url=f"{github}/{name}/status", scope=Scope.TARGET)
        result = await ci_status(ctx, StatusParams())
        assert result.verdict is Verdict.ERROR, name
        assert result.reason.startswith(expected), result.reason


async def test_an_unreachable_ci_is_an_error(make_ctx: MakeContext) -> None:
    ctx = make_ctx(ci_status_url=f"http://127.0.0.1:{free_port()}/status", scope=Scope.TARGET)
    result = await ci_status(ctx, StatusParams())
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith("cannot read the CI status: cannot connect to GET ")


async def test_without_a_status_url_it_is_an_error_naming_the_setting(
    make_ctx: MakeContext,
) -> None:
    result = await run_probe_named("ci.status", {}, make_ctx(), REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_CI_STATUS_URL" in result.reason
    assert result.evidence["setting"] == "ci_status_url"
