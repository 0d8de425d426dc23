"""What sslyze sees of a TLS service: the protocol versions it accepts, its certificate chain.

sslyze speaks through nassl, its own build of OpenSSL with every legacy protocol
compiled in, so each version from SSL 2.0 to TLS 1.3 can be tested from any host,
whatever the local OpenSSL supports and at whatever security level it runs. A
version is offered when the server accepts at least one of its cipher suites.

One scan asks for only what ``tls.certificate`` judges: the cipher suites of each
version and the certificate info (the chain the server presents, and sslyze's
RFC 5280 validation of it against the trust file given). sslyze's ``Scanner`` is
synchronous and runs its own worker threads, so ``scan`` blocks: call it through
``asyncio.to_thread``. Its result collector polls every 0.2 s, which puts a floor
under a scan's duration (about 0.4 s against a loopback server).

sslyze is imported inside ``scan``: importing it costs about 0.3 s, which the
console's start should not pay for a probe it may never run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from cryptography import x509
    from sslyze import ServerScanResult

VersionName = Literal["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

#: The versions scanned, oldest first, with the sslyze result attribute of each.
VERSION_SCANS: dict[VersionName, str] = {
    "SSLv2": "ssl_2_0_cipher_suites",
    "SSLv3": "ssl_3_0_cipher_suites",
    "TLSv1": "tls_1_0_cipher_suites",
    "TLSv1.1": "tls_1_1_cipher_suites",
    "TLSv1.2": "tls_1_2_cipher_suites",
    "TLSv1.3": "tls_1_3_cipher_suites",
}
VERSIONS: tuple[VersionName, ...] = tuple(VERSION_SCANS)

OFFERED, REFUSED, UNTESTABLE = "offered", "refused", "untestable"


class Unreachable(Exception):
    """Nothing answered at the TCP level: a finding about the service, not the probe."""


class NoHandshake(Exception):
    """The service answered, but completed no TLS handshake in any version."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int


def parse_endpoint(base_url: str) -> Endpoint:
    """``https://host[:port]/...`` -> Endpoint; ValueError for anything else."""
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        raise ValueError(f"target.base_url {base_url!r} is not an https:// URL")
    if not parts.hostname:
        raise ValueError(f"target.base_url {base_url!r} has no host")
    return Endpoint(parts.hostname, parts.port or 443)


@dataclass(frozen=True, slots=True)
class Scan:
    """One sslyze scan of an endpoint.

    ``versions``: ``{version: {"result": offered|refused|untestable, "detail": ...}}``,
    plus ``"cipher_suites"`` (the accepted ones) for an offered version. ``chain``: the
    certificates the server presents, leaf first, as PEM. ``validation_error``: why
    sslyze's RFC 5280 validation (chain, name and dates judged together) against the
    trust file failed, None when it passed.
    """

    versions: dict[str, dict[str, object]]
    chain: list[str]
    validation_error: str | None
    scanner: str

    @property
    def certificate(self) -> x509.Certificate:
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.chain[0].encode("ascii"))


def scan(endpoint: Endpoint, trust_file: Path, timeout: float) -> Scan:
    """Scan ``endpoint`` (blocking). Raises ``Unreachable`` when no TCP connection can be
    made and ``NoHandshake`` when the service completes no TLS handshake."""
    import sslyze
    from cryptography.utils import CryptographyDeprecationWarning
    from sslyze.errors import TlsHandshakeFailed

    # sslyze validates against its bundled public trust stores too, one of whose roots
    # has a serial number cryptography warns about on every load.
    warnings.filterwarnings("ignore", "Parsed a serial number", CryptographyDeprecationWarning)
    try:
        location = sslyze.ServerNetworkLocation(endpoint.host, endpoint.port)
    except sslyze.ServerHostnameCouldNotBeResolved as exc:
        raise Unreachable(f"cannot resolve {endpoint.host}: {exc}") from exc
    network = sslyze.ServerNetworkConfiguration(
        tls_server_name_indication=endpoint.host,
        network_timeout=timeout,  # type: ignore[arg-type]  # annotated int, used as float
    )
    extra = sslyze.ScanCommandsExtraArguments(
        certificate_info=sslyze.CertificateInfoExtraArgument(custom_ca_file=trust_file)
    )
    commands = {sslyze.ScanCommand.CERTIFICATE_INFO} | {
        sslyze.ScanCommand(attribute) for attribute in VERSION_SCANS.values()
    }
    request = sslyze.ServerScanRequest(
        server_location=location,
        network_configuration=network,
        scan_commands=commands,
        scan_commands_extra_arguments=extra,
    )
    scanner = sslyze.Scanner(concurrent_server_scans_limit=1)  # one server: 5 threads, not 50
    scanner.queue_scans([request])
    (result,) = scanner.get_results()
    if result.scan_result is None:
        trace = result.connectivity_error_trace
        # sslyze words it '<host>:<port> -> "<what happened>".'
        detail = str(trace).removeprefix(f'{location.display_string} -> "').removesuffix('".')
        if trace and issubclass(trace.exc_type or Exception, TlsHandshakeFailed):
            raise NoHandshake(detail)
        raise Unreachable(f"cannot connect to {endpoint.host}:{endpoint.port}: {detail}")
    chain, validation_error = _certificate_info(result)
    return Scan(_versions(result), chain, validation_error,
                f"sslyze {sslyze.__version__.__version__}")  # fmt: skip


def _versions(result: ServerScanResult) -> dict[str, dict[str, object]]:
    versions: dict[str, dict[str, object]] = {}
    for version, attribute in VERSION_SCANS.items():
        attempt = getattr(result.scan_result, attribute)
        if attempt.result is None:
            error = "".join(attempt.error_trace.format_exception_only()).strip()
            versions[version] = {"result": UNTESTABLE, "detail": error}
            continue
        accepted = [suite.cipher_suite.name for suite in attempt.result.accepted_cipher_suites]
        if accepted:
            versions[version] = {"result": OFFERED, "detail": f"negotiated {version}",
                                 "cipher_suites": accepted}  # fmt: skip
        else:
            tried = len(attempt.result.rejected_cipher_suites)
            versions[version] = {"result": REFUSED, "detail": f"none of {tried} cipher suites"}
    return versions


def _certificate_info(result: ServerScanResult) -> tuple[list[str], str | None]:
    """The chain of the first certificate deployment (the one a TLS 1.3 client, or the
    server's preferred version, is shown) and its validation against the trust file."""
    attempt = result.scan_result.certificate_info  # type: ignore[union-attr]
    if attempt.result is None:
        error = "".join(attempt.error_trace.format_exception_only()).strip()
        raise NoHandshake(f"could not read the certificate: {error}")
    deployments = attempt.result.certificate_deployments
    if not deployments:
        raise NoHandshake("the server presented no certificate")
    deployment = deployments[0]
    supplied = next(p for p in deployment.path_validation_results
                    if p.trust_store.name == "Supplied CA file")  # fmt: skip
    return deployment.received_certificate_chain_as_pem, supplied.validation_error
