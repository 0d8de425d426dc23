"""The API's JSON: written by ``core.jsontext``, as every ``--json`` document is (NaN and
infinities as ``null``), so the CLI and the API print the same figures."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from core import jsontext


class JsonText(JSONResponse):
    def render(self, content: Any) -> bytes:
        return jsontext.dumps(content).encode()
