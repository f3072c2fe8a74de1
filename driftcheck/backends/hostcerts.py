"""OpenSSH host certificates (PROTOCOL.certkeys), checked as `ssh` checks them.

paramiko negotiates `*-cert-v01@openssh.com` host key algorithms when asked (the key proves
possession of the certified key) but reads none of the certificate's fields; here they are
read and checked as `sshkey.c: cert_parse, sshkey_cert_check_host` do: the CA's signature, host
type, validity window, the host name among the principals (exactly: ssh up to 10.0 passes
wildcard_principals=0 here), no critical options.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import paramiko

from driftcheck.backends.knownhosts import lower

CERT_SUFFIX = "-cert-v01@openssh.com"
HOST_CERT = 2
# The certificate algorithms OpenSSH's default HostKeyAlgorithms lists before the plain ones.
ALGORITHMS = (
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
)
# Public key fields after the nonce, per certified key type: "s" string, "m" mpint.
_KEY_FIELDS = {
    "ssh-ed25519": "s",
    "ecdsa-sha2-nistp256": "ss",
    "ecdsa-sha2-nistp384": "ss",
    "ecdsa-sha2-nistp521": "ss",
    "ssh-rsa": "mm",
}


@dataclass(frozen=True)
class HostCert:
    kind: str
    cert_type: int
    key_id: str
    principals: tuple[str, ...]
    valid_after: int
    valid_before: int
    critical: bytes
    ca_blob: bytes
    signed: bytes  # everything the CA signed
    signature: bytes


def plain_type(algorithm: str) -> str:
    """The key type an algorithm is for: `rsa-sha2-512-cert-v01@openssh.com` -> `ssh-rsa`."""
    base = algorithm.removesuffix(CERT_SUFFIX)
    return "ssh-rsa" if base.startswith("rsa-sha2-") else base


def certificate_blob(key: paramiko.PKey) -> bytes | None:
    """The certificate the server presented with its key, if it presented one."""
    blob = key.public_blob
    return blob.key_blob if blob is not None and blob.key_type.endswith(CERT_SUFFIX) else None


def parse(blob: bytes) -> HostCert:
    """The certificate's fields; ValueError when it is not a well-formed certificate."""
    msg = paramiko.Message(blob)
    try:
        kind = msg.get_text()[: -len(CERT_SUFFIX)]
        msg.get_string()  # nonce
        for field in _KEY_FIELDS[kind]:
            msg.get_string() if field == "s" else msg.get_mpint()
        msg.get_int64()  # serial
        cert_type = msg.get_int()
        key_id = msg.get_text()
        principals = _strings(msg.get_string())
        after, before = msg.get_int64(), msg.get_int64()
        critical = msg.get_string()
        msg.get_string()  # extensions: informational for host certificates
        msg.get_string()  # reserved
        ca_blob = msg.get_string()
        signed = blob[: msg.packet.tell()]
        signature = msg.get_string()
    except (KeyError, IndexError, UnicodeDecodeError, paramiko.SSHException) as exc:
        raise ValueError(f"malformed host certificate: {exc}") from exc
    return HostCert(
        kind, cert_type, key_id, principals, after, before, critical, ca_blob, signed, signature
    )


def signed_by_ca(cert: HostCert) -> bool:
    try:
        msg = paramiko.Message(cert.ca_blob)
        ca = paramiko.PKey.from_type_string(msg.get_text(), cert.ca_blob)
        return bool(ca.verify_ssh_sig(cert.signed, paramiko.Message(cert.signature)))
    except (paramiko.SSHException, ValueError, TypeError, IndexError):
        return False


def problem(cert: HostCert, hostname: str, now: float | None = None) -> str | None:
    """Why ssh would not accept the certificate for `hostname` (no port), or None."""
    now = time.time() if now is None else now
    name = lower(hostname)
    checks = (  # in sshkey_cert_check_authority's order, so the reason is ssh's
        (cert.cert_type != HOST_CERT, "not a host certificate"),
        (now < cert.valid_after, "certificate not yet valid"),
        (now >= cert.valid_before, "certificate expired"),
        (not cert.principals, "certificate lacks principal list"),
        (
            name not in cert.principals,
            f"{hostname} is not a listed principal ({', '.join(cert.principals)})",
        ),
        (bool(cert.critical), "certificate contains unsupported critical options"),
    )
    return next((why for failed, why in checks if failed), None)


def _strings(packed: bytes) -> tuple[str, ...]:
    msg, out = paramiko.Message(packed), []
    while msg.get_remainder():
        out.append(msg.get_text())
    return tuple(out)
