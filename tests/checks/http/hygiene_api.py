"""A small API for the compression, input-validation and log-correlation probes.

``/{config}/...`` serves one configuration: ``good`` compresses its large answers and
validates every input; ``plain`` validates but never compresses; ``sloppy`` answers a
bad input with a 500; ``traces`` refuses it, with the traceback in the body; ``lax``
accepts anything. Each serves the same OpenAPI document at ``/api/v1/openapi.json``.

``/logs/{mode}/{name}/health`` writes one log line per request to ``name`` in the log
directory: ``json`` (a JSON object with the request id), ``text`` (plain text with the
id), ``none`` (nothing), ``leaky`` (a JSON object that also logs the API key header).
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

CONFIGS = ("good", "plain", "sloppy", "traces", "lax")
LOG_MODES = ("json", "text", "none", "leaky")
SYMBOL_MAX = 12
STRATEGIES = [{"id": f"strategy_{n}", "description": "a moving-average crossover " * 4,
               "parameters": {"fast": n, "slow": 4 * n}} for n in range(40)]  # fmt: skip

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "hygiene fixture",
        "version": "1",
        "description": "Orders, fills and the kill switch of a test desk. " * 40,
    },
    "paths": {
        "/api/v1/strategies": {"get": {"responses": {"200": {"description": "list"}}}},
        "/api/v1/orders": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Order"}}
                    },
                },
                "responses": {"201": {"description": "placed"}},
            }
        },
        "/api/v1/fills": {
            "get": {
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "fills"}},
            }
        },
        "/api/v1/fills/{fill_id}": {
            "get": {
                "parameters": [
                    {
                        "name": "fill_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": {"description": "a fill"}},
            }
        },
        "/api/v1/risk/kill": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "halted"}},
            }
        },
    },
    "components": {
        "schemas": {
            "Order": {
                "type": "object",
                "required": ["symbol", "qty"],
                "properties": {
                    "symbol": {"type": "string", "maxLength": SYMBOL_MAX},
                    "qty": {"type": "integer", "minimum": 1},
                },
            }
        }
    },
}


class Refused(Exception):
    """Input the schema does not admit."""


def order_of(raw: bytes) -> dict[str, Any]:
    order = json.loads(raw)
    symbol, qty = order["symbol"], order["qty"]  # KeyError / TypeError on a bad shape
    if not isinstance(symbol, str) or len(symbol) > SYMBOL_MAX or not isinstance(qty, int):
        raise Refused("symbol or qty out of bounds")
    return order


class HygieneAPI:
    """One configuration's routes."""

    def __init__(self, config: str) -> None:
        self.config = config
        self.kills = 0  # never reached by the probe: /risk/kill is excluded

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/openapi.json", self.openapi),
            Route("/api/v1/strategies", self.strategies),
            Route("/api/v1/orders", self.place, methods=["POST"]),
            Route("/api/v1/fills", self.fills),
            Route("/api/v1/fills/{fill_id}", self.fill),
            Route("/api/v1/risk/kill", self.kill, methods=["POST"]),
        ]

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI, headers={"etag": '"v1"'})

    async def strategies(self, request: Request) -> Response:
        return JSONResponse(STRATEGIES, headers={"cache-control": "no-store"})

    async def place(self, request: Request) -> Response:
        raw = await request.body()
        return self.judged(lambda: order_of(raw), 201)

    async def fills(self, request: Request) -> Response:
        return self.judged(lambda: int(request.query_params.get("limit", "10")), 200)

    async def fill(self, request: Request) -> Response:
        return self.judged(lambda: int(request.path_params["fill_id"]), 200)

    async def kill(self, request: Request) -> Response:
        self.kills += 1
        return JSONResponse({"halted": True})

    def judged(self, read: Any, status: int) -> Response:
        """Answer as the configuration does when ``read()`` parses the input."""
        if self.config == "lax":
            return JSONResponse({"ok": True}, status_code=status)
        if self.config == "sloppy":
            return JSONResponse({"read": read()}, status_code=status)  # raises: a 500
        try:
            value = read()
        except (ValueError, KeyError, TypeError, Refused):
            if self.config == "traces":
                return PlainTextResponse(traceback.format_exc(), status_code=400)
            return JSONResponse({"detail": "invalid input"}, status_code=422)
        return JSONResponse({"read": value}, status_code=status)


def log_route(log_dir: Path) -> Route:
    async def health(request: Request) -> Response:
        mode, name = request.path_params["mode"], request.path_params["name"]
        request_id = request.headers.get("x-request-id", "")
        line = {"level": "INFO", "message": "GET /health 200", "request_id": request_id}
        match mode:
            case "json":
                text = json.dumps(line)
            case "leaky":
                text = json.dumps({**line, "api_key": request.headers.get("x-api-key")})
            case "text":
                text = f"INFO GET /health 200 request_id={request_id} took 1ms [worker 3]"
            case _:
                text = ""
        if text:
            with (log_dir / name).open("a", encoding="utf-8") as file:
                file.write(text + "\n")
        return JSONResponse({"status": "ok"}, headers={"x-request-id": request_id})

    return Route("/logs/{mode}/{name}/health", health)


class HygieneServer:
    """Every configuration side by side, and the logging routes."""

    def __init__(self, log_dir: Path) -> None:
        self.apis = {config: HygieneAPI(config) for config in CONFIGS}
        mounts: list[Route | Mount] = [log_route(log_dir)]
        for config, api in self.apis.items():
            app: ASGIApp = Starlette(routes=api.routes())
            if config != "plain":
                app = GZipMiddleware(app, minimum_size=1000)
            mounts.append(Mount(f"/{config}", app=app))
        self.app = Starlette(routes=mounts)
