"""Probes: small async measurements that decide a checklist item automatically.

Importing this package registers the built-in probes in ``REGISTRY``.
"""

from checks.probes import (  # noqa: F401  (register the built-in probes)
    alerting,
    audit_chain,
    backup,
    ci_status,
    ci_tests,
    code,
    database,
    database_schema,
    database_server,
    deps_audit,
    deps_pinned,
    engine,
    engine_books,
    engine_feeds,
    engine_jobs,
    host,
    http,
    openapi_doc,
    redis_server,
    rehearsal,
    release_staged,
    secret_scan,
    secrets,
    tls,
    transport,
)
from checks.probes.base import (
    FINAL_VERDICTS,
    ProbeContext,
    ProbeParams,
    ProbeResult,
    Scope,
    Target,
    target_from_settings,
)
from checks.probes.registry import (
    REGISTRY,
    ProbeFunction,
    ProbeRegistry,
    ProbeSpec,
    UnknownProbeError,
    probe,
)

__all__ = [
    "FINAL_VERDICTS",
    "REGISTRY",
    "ProbeContext",
    "ProbeFunction",
    "ProbeParams",
    "ProbeRegistry",
    "ProbeResult",
    "ProbeSpec",
    "Scope",
    "Target",
    "UnknownProbeError",
    "probe",
    "target_from_settings",
]
