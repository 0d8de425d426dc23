"""HTTP readiness probes: one module per concern, sharing ``client``.

Importing this package registers ``http.health``, ``http.auth``,
``http.lockout``, ``http.rate_limit``, ``http.security_headers``, ``http.cors``,
``http.https_redirect``, ``http.metrics``, ``http.load`` and
``http.error_leaks``. ``observatory`` is the pure HTTP Observatory scoring
the header probe uses.
"""

from checks.probes.http import (  # noqa: F401  (register the probes)
    auth,
    config_leaks,
    cors,
    headers,
    health,
    load,
    lockout,
    metrics,
    rate_limit,
    redirect,
)
