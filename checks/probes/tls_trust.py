"""The two judgements of a certificate that sslyze makes as one: its chain, and its name.

sslyze validates a chain with cryptography's RFC 5280 server verifier, which
checks chain, validity period and host name together and answers with one
error: a certificate for the wrong name and one from an unknown CA both just
"fail". ``tls.certificate`` reports each fault on its own, so it judges them
apart here, on the chain sslyze received (no further connection):

- the chain, without the name, with OpenSSL's own ``X509_verify_cert`` (through
  nassl, sslyze's OpenSSL binding), whose messages ("unable to get local issuer
  certificate", "certificate has expired") are the ones operators know;
- the name against the subject alternative names only, as browsers do
  (RFC 6125: a wildcard stands for exactly one leftmost label).

The trust is ``target.ca_file``, else the system's CA bundle (the file OpenSSL
loads by default).
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509


def system_trust_file() -> Path | None:
    """The system CA bundle OpenSSL loads by default, if there is one as a file."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def verify_chain(chain: list[str], trust_file: Path) -> str | None:
    """None when ``chain`` (PEM, leaf first) verifies against the certificates in
    ``trust_file`` at this moment; else OpenSSL's reason. The name is not checked."""
    from nassl._nassl import X509
    from nassl.cert_chain_verifier import (
        CertificateChainVerificationFailed,
        CertificateChainVerifier,
    )

    try:
        verifier = CertificateChainVerifier.from_file(trust_file)
    except ValueError:  # nassl's word for a file holding no certificate
        return f"{trust_file} holds no certificate"
    try:
        verifier.verify([X509(pem) for pem in chain])
    except CertificateChainVerificationFailed as exc:
        return exc.openssl_error_string
    return None


def certificate_names(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of the subject alternative name extension."""
    from cryptography import x509

    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def hostname_matches(certificate: x509.Certificate, host: str) -> bool:
    dns, ips = certificate_names(certificate)
    try:
        wanted = ipaddress.ip_address(host)
    except ValueError:
        return any(_dns_match(name, host) for name in dns)
    return any(ipaddress.ip_address(ip) == wanted for ip in ips)
