"""The facade's own serving certificate (README, TLS): read from a Secret, reloaded without restart.

With ``DAYTWO_API_TLS_SECRET`` set the facade serves HTTPS from one :class:`ssl.SSLContext` (:data:`SERVING`,
handed to uvicorn); :class:`TlsReloader` re-reads the Secret (``tls.crt``/``tls.key``) every
``tls_reload_seconds`` and calls ``load_cert_chain`` on that same context when its resourceVersion changed:
connections made afterwards get the new certificate, open ones keep theirs. Until the Secret holds a valid
pair the facade serves an ephemeral self-signed certificate (``source: ephemeral``). ``POST /api/tls/config``
may name another Secret (ConfigMap :data:`TLS_CONFIGMAP`); ``POST /api/tls/certificate/generate`` writes a
self-signed pair (:func:`self_signed`) into it as the caller.

The private key is never logged, answered or kept outside the SSLContext (it passes through a 0600 file in
a private temporary directory, removed at once, because ``load_cert_chain`` reads files).
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from daytwo.operator.shared.times import format_time

from .kube import request_json

if TYPE_CHECKING:
    from .deps import Services

__all__ = [
    "CERT_KEY",
    "FACADE_TLS_LABELS",
    "KEY_KEY",
    "SERVING",
    "TLS_CONFIGMAP",
    "SecretReader",
    "ServingTLS",
    "TlsReloader",
    "certificate_info",
    "check_pair",
    "secret_reader",
    "self_signed",
    "serving_secret_name",
]

log = logging.getLogger("daytwo.api.tls")

CERT_KEY, KEY_KEY = "tls.crt", "tls.key"
#: The label marking a Secret as the facade's own serving certificate (with the facade's managed-by mark).
FACADE_TLS_LABELS = {"daytwo.io/facade-tls": "serving"}
#: ConfigMap (served namespace, cached) naming another serving Secret than DAYTWO_API_TLS_SECRET.
TLS_CONFIGMAP = "daytwo-tls"

#: Reads Secret ``name`` as the facade: (resourceVersion, decoded data), or None when it does not exist.
SecretReader = Callable[[str], tuple[str, dict[str, str]] | None]


def _fingerprint(cert: x509.Certificate) -> str:
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _general_name(name: x509.GeneralName) -> str:
    """``DNS:host`` / ``IP:address`` as openssl prints subject alternative names."""
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    return str(name.value)


def certificate_info(pem: str | bytes, now: datetime | None = None) -> dict[str, Any]:
    """Subject, issuer, validity, SHA-256 fingerprint and names of a PEM certificate (the first one)."""
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    try:
        names = [_general_name(n) for n in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value]
    except x509.ExtensionNotFound:
        names = []
    not_after = cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": format_time(cert.not_valid_before_utc),
        "not_after": format_time(not_after),
        "fingerprint": _fingerprint(cert),
        "san": names,
        "expires_in_days": (not_after - (now or datetime.now(UTC))).days,
        "self_signed": cert.subject == cert.issuer,
    }


def self_signed(common_name: str, days: int, now: datetime | None = None) -> tuple[str, str]:
    """A self-signed serving certificate for ``common_name`` (also its SAN), valid ``days``: (cert, key) PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(common_name))
    except ValueError:
        san = x509.DNSName(common_name)
    start = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def _load(context: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    """``context.load_cert_chain`` from PEM text, through 0600 files in a private directory removed at once."""
    with tempfile.TemporaryDirectory(prefix="daytwo-tls-") as directory:
        paths = []
        for filename, text in (("tls.crt", cert_pem), ("tls.key", key_pem)):
            path = os.path.join(directory, filename)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(text)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1])


def check_pair(cert_pem: str, key_pem: str) -> None:
    """Raise ValueError unless the certificate and key are PEM and belong together."""
    try:
        certificate_info(cert_pem)
        _load(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), cert_pem, key_pem)
    except (ValueError, ssl.SSLError) as error:
        raise ValueError(f"not a matching PEM certificate and key ({type(error).__name__})") from None


@dataclass
class _Loaded:
    secret: str
    version: str
    info: dict[str, Any]


class ServingTLS:
    """The one SSLContext the facade serves HTTPS with, and what it currently holds."""

    def __init__(self) -> None:
        self.context: ssl.SSLContext | None = None
        self.loaded: _Loaded | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether this process serves HTTPS."""
        return self.context is not None

    def enable(self) -> ssl.SSLContext:
        """Create the context with an ephemeral self-signed certificate (until a Secret's pair is loaded)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        cert_pem, key_pem = self_signed("daytwo-api", 30)
        _load(context, cert_pem, key_pem)
        self.context = context
        self.loaded = _Loaded("", "", certificate_info(cert_pem))
        return context

    @property
    def source(self) -> str | None:
        """``secret`` (a Secret's pair is served), ``ephemeral`` (the start-up one), None (plain HTTP)."""
        if self.loaded is None:
            return None
        return "secret" if self.loaded.secret else "ephemeral"

    def refresh(self, secret: str, read: SecretReader) -> bool:
        """Load Secret ``secret``'s pair when it differs from what is served; True when a new one was loaded.

        A missing Secret or a bad pair keeps the current certificate (logged without any value).
        """
        if self.context is None or not secret:
            return False
        found = read(secret)
        if found is None:
            return False
        version, data = found
        with self._lock:
            if self.loaded is not None and (self.loaded.secret, self.loaded.version) == (secret, version):
                return False
            cert_pem, key_pem = data.get(CERT_KEY, ""), data.get(KEY_KEY, "")
            try:
                check_pair(cert_pem, key_pem)
                _load(self.context, cert_pem, key_pem)
            except ValueError as error:
                log.warning("tls: Secret %s: %s; keeping the current certificate", secret, error)
                self.loaded = _Loaded(
                    self.loaded.secret if self.loaded else "", version, self.loaded.info if self.loaded else {}
                )
                return False
            self.loaded = _Loaded(secret, version, certificate_info(cert_pem))
        log.info("tls: serving the certificate of Secret %s (%s)", secret, self.loaded.info["fingerprint"])
        return True


#: The process's serving TLS (enabled by ``daytwo-api`` when DAYTWO_API_TLS_SECRET is set).
SERVING = ServingTLS()


def serving_secret_name(services: Services) -> str:
    """The serving Secret: the one :data:`TLS_CONFIGMAP` names, else DAYTWO_API_TLS_SECRET ("" for none)."""
    found = services.store.get("ConfigMap", TLS_CONFIGMAP)
    return str(((found or {}).get("data") or {}).get("secret_name") or services.settings.tls_secret)


def secret_reader(services: Services) -> SecretReader:
    """Reads Secrets of the served namespace as the facade itself (its RBAC allows get)."""

    def read(name: str) -> tuple[str, dict[str, str]] | None:
        if services.kube is None:
            return None
        try:
            found = request_json(
                services.kube, "GET", f"/api/v1/namespaces/{services.settings.namespace}/secrets/{name}"
            )
        except Exception as error:
            if getattr(error, "status", None) != 404:
                log.warning("tls: cannot read Secret %s (%s)", name, type(error).__name__)
            return None
        data = (found or {}).get("data") or {}
        decoded = {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items() if k in (CERT_KEY, KEY_KEY)}
        return str(found["metadata"].get("resourceVersion", "")), decoded

    return read


class TlsReloader:
    """Re-reads the serving Secret every ``tls_reload_seconds`` (and on :meth:`now`) while HTTPS is served."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.read = secret_reader(services)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tls-reload", daemon=True)

    def now(self) -> bool:
        """Reload at once (the generate route calls it); True when a new certificate is served."""
        return SERVING.refresh(serving_secret_name(self.services), self.read)

    def _loop(self) -> None:
        self.services.store.wait_synced(self.services.settings.startup_timeout_seconds)
        while not self._stop.is_set():
            try:
                self.now()
            except Exception:
                log.exception("tls: reloading the serving certificate failed")
            self._stop.wait(self.services.settings.tls_reload_seconds)

    def start(self) -> TlsReloader:
        """Start reloading (only while HTTPS is served)."""
        if SERVING.enabled:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reloading."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
