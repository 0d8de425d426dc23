"""Fixtures for the service probes: a test CA, one nginx with a site per TLS case, contexts."""

from __future__ import annotations

import functools
import http.server
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from checks.probes import ProbeContext, Scope, Target
from core.config import Settings

from .monitoring import MonitoringLab, monitoring_lab
from .pki import Authority, self_signed
from .servers import TlsSite, nginx, threaded_http
from .target_api import api  # noqa: F401  (a served Quarterdeck, for the engine probes)

MakeContext = Callable[..., ProbeContext]

# Every TLS case is one nginx server block: (name, certificate options, protocols, ciphers).
LEGACY_PROTOCOLS = "TLSv1 TLSv1.1 TLSv1.2"
OLD_ONLY_PROTOCOLS = "TLSv1 TLSv1.1"
# The system OpenSSL refuses TLS 1.0/1.1 at its default security level (2) on the
# server side too; nginx offers them once its cipher string lowers the level.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


@dataclass(frozen=True)
class TlsLab:
    ca_file: Path
    other_ca_file: Path
    ports: dict[str, int]

    def url(self, site: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.ports[site]}/"


@pytest.fixture(scope="package")
def tls_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsLab]:
    """One nginx serving every TLS case, each on its own port, with certificates from a
    test CA (and one from a second CA the probe is not told about, one self-signed)."""
    root = tmp_path_factory.mktemp("tls")
    ca, other = Authority.create("Quarterdeck test CA"), Authority.create("Some other CA")
    issued = {
        "good": ca.issue(root, "good"),
        "expiring_20d": ca.issue(root, "expiring_20d", days=20),
        "expiring_45d": ca.issue(root, "expiring_45d", days=45),
        "wrong_host": ca.issue(root, "wrong_host", dns_names=("api.example.org",), ip_addresses=()),
        "other_ca": other.issue(root, "other_ca"),
        "expired": ca.issue(root, "expired", days=-0.5),
        "self_signed": self_signed(root, "self_signed"),
        "no_key_id": ca.issue(root, "no_key_id", authority_key_id=False),
    }
    sites = [TlsSite(name, cert, key) for name, (cert, key) in issued.items()]
    sites.append(TlsSite("legacy", *ca.issue(root, "legacy"), LEGACY_PROTOCOLS, LEGACY_CIPHERS))
    sites.append(TlsSite("old_only", *ca.issue(root, "old_only"), OLD_ONLY_PROTOCOLS,
                         LEGACY_CIPHERS))  # fmt: skip
    with nginx(root / "nginx", sites) as ports:
        yield TlsLab(ca.write(root / "ca.pem"), other.write(root / "other-ca.pem"), ports)


@pytest.fixture(scope="package")
def monitoring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoringLab]:
    """node_exporter, Prometheus and Alertmanager, good and bad, started once for this
    package's tests (monitoring.py) and stopped after them: five Prometheus servers
    scraping every second would load the rest of the run."""
    with monitoring_lab(tmp_path_factory.mktemp("monitoring")) as lab:
        yield lab


@pytest.fixture
def make_ctx(settings: Settings, wal_engine: Engine) -> MakeContext:
    """``make_ctx(**target_fields)`` -> a ProbeContext with that Target. Probes that can
    examine Quarterdeck itself do so unless ``scope`` says otherwise."""

    def make(
        settings_: Settings | None = None, scope: Scope = Scope.QUARTERDECK, **target: object
    ) -> ProbeContext:
        return ProbeContext(settings_ or settings, wal_engine, "paper", Target(**target),  # type: ignore[arg-type]
                            scope=scope)  # fmt: skip

    return make


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[str]:
    """A bare static file server on 127.0.0.1: it answers, and that is all it does."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>hello</h1>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with threaded_http(handler) as port:
        yield f"http://127.0.0.1:{port}"
