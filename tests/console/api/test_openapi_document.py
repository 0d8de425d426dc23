"""The OpenAPI document declares what each operation may refuse, as problem documents."""

from __future__ import annotations

from console.api.problems import MEDIA_TYPE
from tests.console.api.conftest import Api

PROBLEM = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def test_every_refusal_is_declared_as_a_problem_document(api: Api) -> None:
    async with api.client() as client:
        document = (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    submit = paths["/api/v1/jobs"]["post"]["responses"]
    assert {"202", "400", "401", "403", "413", "422", "429", "503"} <= set(submit)
    assert all(submit[status]["content"] == PROBLEM for status in submit if status != "202")
    assert "404" in paths["/api/v1/jobs/{job_id}"]["get"]["responses"]
    assert "401" not in paths["/api/v1/public/performance"]["get"]["responses"]
    # never limited; refused only for a head over 8 KiB, as every request is
    assert set(paths["/health"]["get"]["responses"]) == {"200", "431"}
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert "HTTPValidationError" not in schemas  # FastAPI's 422, which this API never answers
