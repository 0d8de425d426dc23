"""HTTP readiness probes: one module per concern, sharing ``client``.

Importing this package registers ``http.health``, ``http.auth``,
``http.lockout``, ``http.rate_limit``, ``http.security_headers``, ``http.cors``,
``http.https_redirect``, ``http.metrics``, ``http.load``,
``http.error_leaks``, ``http.compression``, ``http.input_validation`` and
``logs.correlation``. ``observatory`` is the pure HTTP Observatory scoring
the header probe uses.
"""

from checks.probes.http import (  # noqa: F401  (register the probes)
    auth,
    compression,
    config_leaks,
    cors,
    headers,
    health,
    input_validation,
    load,
    lockout,
    log_correlation,
    metrics,
    rate_limit,
    redirect,
)
