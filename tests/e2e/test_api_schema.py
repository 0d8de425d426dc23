"""The API against its own OpenAPI document, property-based (schemathesis): every
operation, called as an admin on a real ``serve`` with generated valid and invalid
input, answers no 5xx, only the statuses and content types it declares, and bodies
that match their declared schemas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis

# Imported here, while collection runs on one thread, not lazily inside a test: as a
# pytest plugin schemathesis has its modules' asserts rewritten (ast), and CPython 3.11.7
# failed one such rewrite with "AST constructor recursion depth mismatch" mid-run.
import schemathesis.specs.openapi.schemas
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.serving import Serve, serving

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip
#: Examples per operation: enough to reach each body's branches, few enough that the
#: whole run stays within a couple of minutes on a shared two-core machine.
EXAMPLES = 100


@dataclass
class Fuzzed:
    serve: Serve
    headers: dict[str, str]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """One ``serve`` for the whole run: rate limits out of the way (their 429 is declared
    and tested elsewhere), one job at a time on one thread, and small searches, so
    generated jobs do not crowd the machine."""
    folder = tmp_path_factory.mktemp("fuzzed")
    with serving(folder, api_rate_reads="100000/second", api_rate_writes="100000/second",
                 api_rate_auth="100000/second", job_concurrency="1", job_threads="1",
                 sweep_max_combos="20") as serve:  # fmt: skip
        key = serve.add_user("fuzz-admin", "admin")
        answer = httpx.post(f"{serve.url}/api/v1/auth/token", headers={"x-api-key": key})
        assert answer.status_code == 200, answer.text
        yield Fuzzed(serve, {"authorization": f"Bearer {answer.json()['access_token']}"})
        assert serve.stop() == 0, serve.stderr.read_text()


@pytest.fixture(scope="module")
def api_schema(fuzzed: Fuzzed) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed.serve.url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")
fuzz = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=list(HealthCheck))  # fmt: skip


@schema.exclude(path_regex=r"^/api/v1/auth/(token|refresh|revoke)$").parametrize()
@fuzz
def test_every_operation_answers_as_its_schema_says(case: schemathesis.Case,
                                                    fuzzed: Fuzzed) -> None:  # fmt: skip
    case.call_and_validate(base_url=fuzzed.serve.url, headers=fuzzed.headers, checks=CHECKS)


# Last: every generated key and token is a failed authentication, and five lock the
# address out (429, declared) for everything after.
@schema.include(path_regex=r"^/api/v1/auth/(token|refresh|revoke)$").parametrize()
@fuzz
def test_token_routes_answer_as_their_schema_says(case: schemathesis.Case,
                                                  fuzzed: Fuzzed) -> None:  # fmt: skip
    case.call_and_validate(base_url=fuzzed.serve.url, headers=fuzzed.headers, checks=CHECKS)
