"""The ASGI application: the monitoring routes and the API under ``/api/v1``, with its
OpenAPI document at ``/api/v1/openapi.json``, Swagger UI at ``/api/v1/docs`` and ReDoc
at ``/api/v1/redoc``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from console.api import auth, documentation, edges, health, problems, stream
from console.api.context import ApiContext
from console.api.responses import JsonText
from console.api.routes import (
    account,
    audit,
    backtests,
    datasets,
    job_files,
    jobs,
    public,
    readiness,
    strategies,
    trading,
)
from core import __version__ as version

PREFIX = "/api/v1"
#: Answers under about one TCP segment gain nothing from compression.
GZIP_MINIMUM_BYTES = 1000


def create_app(context: ApiContext) -> FastAPI:
    settings = context.settings
    app = FastAPI(
        title="Quarterdeck",
        version=version,
        summary="Control API of a Quarterdeck trading and readiness console.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=f"{PREFIX}/redoc",
        default_response_class=JsonText,
    )
    app.state.context = context
    problems.install(app)
    documentation.install(app)
    app.include_router(health.router)
    resources = (auth, strategies, datasets, backtests, jobs, job_files, account, trading,
                 readiness, audit, public, stream)  # fmt: skip
    for resource in resources:
        app.include_router(resource.router, prefix=PREFIX)
    app.state.readiness_runs = readiness.ReadinessRuns()
    app.state.performance_cache = public.PerformanceCache()
    app.state.portfolio_read = account.PortfolioRead()
    # Added innermost first: a request meets the edges, then compression, CORS, the
    # body bound and the rate limits, and reaches the routes last.
    app.add_middleware(edges.RateLimits, settings=settings)
    app.add_middleware(edges.BodyLimit, max_bytes=settings.api_max_body_bytes)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.api_cors_origins, allow_credentials=False,
            allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type",
                                                          "X-API-Key"],
            expose_headers=["X-Request-ID", "Retry-After", "RateLimit-Limit",
                            "RateLimit-Remaining", "RateLimit-Reset"],
            max_age=600,
        )  # fmt: skip
    # Streams are left alone: the WebSocket is not HTTP, and GZip passes event streams
    # (text/event-stream) through unbuffered. Level 6, not 9: nearly the same size for
    # far less of the loop's time (larger answers are compressed off the loop).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    app.add_middleware(edges.Edges, answers=context.answers)
    return app
