"""Host certificates, side by side with real OpenSSH: sshds present host certificates signed by a
test CA (`ssh-keygen -s -h`); for each known_hosts case the host is audited by driftcheck and
reached by `ssh` on copies of the same file, with and without trust on first use
(`--accept-new-host-keys`, `StrictHostKeyChecking=accept-new`), and both decide alike."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftcheck.backends import TransportOptions, hostcerts
from driftcheck.errors import HostKeyChangedError
from driftcheck.model import DeclaredState, FileSpec
from driftcheck.model.vocab import WORDS, Status
from driftcheck.scan import ScanOptions, audit_host
from tests.backends.conftest import connect, host_for
from tests.sshd import Sshd, free_address, keygen
from tests.tools import require_tools

pytestmark = pytest.mark.sshd

EXPIRED = ["-V", "20200101:20200201"]
# What the host presents: ssh-keygen -s options beyond the CA ({addr}: the host's address).
CERTIFICATES: dict[str, list[str]] = {
    "valid": ["-h", "-n", "{addr}"],
    "expired": ["-h", "-n", "{addr}", *EXPIRED],
    "other-principal": ["-h", "-n", "web1.test"],
    "wildcard-principal": ["-h", "-n", "127.88.*"],
    "user-certificate": ["-n", "{addr}"],
}
# case: (the host's certificate, known_hosts, driftcheck's verdict with trust on first use where
# it deliberately differs from ssh's, else None). {ca}/{other_ca}: CA keys; {key}/{known}: the
# host's plain key and its known_hosts line; {addr}: its address (it listens off port 22).
CASES: dict[str, tuple[str, str, str | None]] = {
    "valid": ("valid", "@cert-authority [127.88.*]:* {ca}\n", None),
    "no-ca-line": ("valid", "", None),
    "revoked-ca": ("valid", "@cert-authority * {ca}\n@revoked * {ca}\n", None),
    "revoked-key": ("valid", "@cert-authority * {ca}\n@revoked * {key}\n", None),
    "ca-elsewhere-key-known": ("valid", "@cert-authority x.test {ca}\n{known}", None),
    "expired-key-known": ("expired", "@cert-authority * {ca}\n{known}", None),
    # Where the certificate is not accepted and the plain key is unknown, ssh falls back to
    # trusting the plain key on first use; driftcheck refuses a host its CA should vouch for.
    "expired": ("expired", "@cert-authority * {ca}\n", "refused"),
    "other-principal": ("other-principal", "@cert-authority * {ca}\n", "refused"),
    "wildcard-principal": ("wildcard-principal", "@cert-authority * {ca}\n", "refused"),
    "other-ca": ("valid", "@cert-authority * {other_ca}\n", "refused"),
    "user-certificate": ("user-certificate", "@cert-authority * {ca}\n", "refused"),
    # A revoked CA: its certificates are refused whether or not a CA line covers the host.
    "revoked-ca-alone": ("valid", "@revoked * {ca}\n", None),
    "revoked-ca-key-known": ("valid", "@revoked * {ca}\n{known}", None),
    "revoked-ca-authority-elsewhere": (
        "valid", "@cert-authority x.test {ca}\n@revoked [127.88.*]:* {ca}\n", None
    ),
    "revoked-ca-for-another-host": ("valid", "@revoked x.test {ca}\n", None),
    "revoked-key-alone": ("valid", "@revoked * {key}\n", None),
    # A @revoked line without a port: ssh meets it only in its fallback to the bare name, warns
    # that the key is revoked, then still trusts the plain key on first use; driftcheck refuses
    # what is revoked for the host's name, on any port.
    "revoked-ca-without-port": ("valid", "@revoked 127.88.* {ca}\n", "revoked"),
    "revoked-key-without-port": ("valid", "@revoked {addr} {key}\n", "revoked"),
    # A CA line without a port covers the host on every port (ssh's fallback to the bare name).
    "ca-without-port": ("valid", "@cert-authority 127.88.* {ca}\n", None),
    "ca-for-the-address": ("valid", "@cert-authority {addr} {ca}\n", None),
    "ca-without-port-after-another-ca": (
        "valid", "@cert-authority [127.88.*]:* {other_ca}\n@cert-authority 127.88.* {ca}\n", None
    ),
    "ca-for-another-port": ("valid", "@cert-authority [{addr}]:1 {ca}\n", None),
    "ca-without-port-key-known": (
        "other-principal", "@cert-authority 127.88.* {ca}\n{known}", None
    ),
    "ca-without-port-other-principal": (
        "other-principal", "@cert-authority 127.88.* {ca}\n", "refused"
    ),
    "ca-without-port-expired": ("expired", "@cert-authority 127.88.* {ca}\n", "refused"),
    "ca-without-port-other-ca": ("valid", "@cert-authority 127.88.* {other_ca}\n", "refused"),
}  # fmt: skip
# A host that is reached is audited: one declared file to check.
STATE = DeclaredState(files={"/etc/passwd": FileSpec("/etc/passwd", mode="0644")})


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("ca")
    return {"ca": keygen(where / "ca"), "other_ca": keygen(where / "other_ca", "rsa")}


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, cas: dict[str, Path]
) -> Iterator[Callable[[str], Sshd]]:
    """The sshd presenting a certificate, one per certificate, started when first asked for."""
    started: dict[str, Sshd] = {}

    def server(certificate: str) -> Sshd:
        if certificate not in started:
            where = tmp_path_factory.mktemp(certificate)
            started[certificate] = start(where, cas["ca"], CERTIFICATES[certificate])
        return started[certificate]

    yield server
    for each in started.values():
        each.stop()


def start(where: Path, ca: Path, options: list[str]) -> Sshd:
    address = free_address()
    host_key = keygen(where / "host_key")
    sign = [
        "ssh-keygen",
        "-q",
        "-s",
        str(ca),
        "-I",
        "test",
        *(o.format(addr=address) for o in options),
    ]
    subprocess.run([*sign, f"{host_key}.pub"], check=True, capture_output=True)
    config = f"HostCertificate {host_key}-cert.pub\n"
    return Sshd.start(where / "s", address=address, host_key=host_key, extra_config=config)


def public(path: Path) -> str:
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


def ssh_verdict(server: Sshd, known: Path, accept_new: bool) -> str:
    """What `ssh` decides: ok, appended (trusted on first use), revoked, changed or refused."""
    before = known.read_text()
    strict = "accept-new" if accept_new else "yes"
    argv = [
        "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", f"StrictHostKeyChecking={strict}",
        "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "IdentitiesOnly=yes", "-i", str(server.client_key), "-p", str(server.port),
        f"{server.user}@{server.address}", "true",
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, timeout=30, check=False)
    if out.returncode == 0:
        return "ok" if known.read_text() == before else "appended"
    for said, verdict in (
        (b"REVOKED HOST KEY", "revoked"),
        (b"REMOTE HOST IDENTIFICATION HAS CHANGED", "changed"),
        (b"Host key verification failed", "refused"),
    ):
        if said in out.stderr:
            return verdict
    return f"ssh failed: {out.stderr.decode(errors='replace')}"


def driftcheck_verdict(server: Sshd, known: Path, accept_new: bool) -> str:
    """The same words from a scan of the host; a refused host is never audited."""
    before = known.read_text()
    transport = TransportOptions(timeout=20, known_hosts=known, accept_new_host_keys=accept_new)
    result = audit_host(host_for(server), STATE, ScanOptions(transport=transport)).result
    if WORDS[result.status].audited:
        return "ok" if known.read_text() == before else "appended"
    assert result.status is Status.ERROR, result.error
    assert result.cause in ("key changed", "key unknown"), result.error  # refused for its key
    assert known.read_text() == before  # a refused key is never recorded
    error = result.error or ""
    return next((w.lower() for w in ("REVOKED", "CHANGED") if w in error), "refused")


def known_text(case: str, server: Sshd, cas: dict[str, Path]) -> str:
    return CASES[case][1].format(
        addr=server.address,
        known=server.known_hosts_line(),
        key=server.host_public_key(),
        ca=public(cas["ca"]),
        other_ca=public(cas["other_ca"]),
    )


@pytest.mark.parametrize("accept_new", [False, True], ids=["strict", "accept-new"])
@pytest.mark.parametrize("case", CASES)
def test_certificate_decision_is_openssh_s(
    servers: Callable[[str], Sshd],
    cas: dict[str, Path],
    tmp_path: Path,
    case: str,
    accept_new: bool,
) -> None:
    require_tools("ssh", "ssh-keygen")
    server = servers(CASES[case][0])
    text = known_text(case, server, cas)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.write_text(text)
    theirs.write_text(text)
    expected = ssh_verdict(server, theirs, accept_new)
    deliberate = CASES[case][2]
    if deliberate is not None and accept_new:
        assert expected == "appended"  # the difference is only ever a refusal of what ssh trusts
        expected = deliberate
    assert driftcheck_verdict(server, ours, accept_new) == expected
    if expected in ("ok", "appended"):  # the same line as ssh writes, or none
        assert ours.read_text() == theirs.read_text()


def test_a_revoked_ca_is_named_by_its_fingerprint(
    servers: Callable[[str], Sshd], cas: dict[str, Path], tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"{servers('valid').known_hosts_line()}@revoked * {public(cas['ca'])}\n")
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{cas['ca']}.pub"], capture_output=True, text=True, check=True
    )
    ca_fingerprint = listed.stdout.split()[1]
    with pytest.raises(HostKeyChangedError) as refused:
        connect(host_for(servers("valid")), known, accept_new_host_keys=True)
    assert "host certificate REVOKED" in str(refused.value)
    assert f"CA ssh-ed25519 {ca_fingerprint}, marked @revoked in {known}:2" in str(refused.value)


def test_fields_read_and_a_forged_certificate_refused(tmp_path: Path, cas: dict[str, Path]) -> None:
    key = keygen(tmp_path / "k")
    sign = ["ssh-keygen", "-q", "-s", str(cas["ca"]), "-I", "id-1", "-h", "-n", "a.test,b.test"]
    subprocess.run([*sign, "-V", "20300101:20300201", f"{key}.pub"], check=True)
    blob = base64.b64decode(Path(f"{key}-cert.pub").read_text().split()[1])
    cert = hostcerts.parse(blob)
    assert (cert.key_id, cert.principals, cert.cert_type) == ("id-1", ("a.test", "b.test"), 2)
    assert hostcerts.signed_by_ca(cert)
    assert hostcerts.problem(cert, "b.test") == "certificate not yet valid"
    assert hostcerts.problem(cert, "B.test", now=cert.valid_after) is None
    assert hostcerts.problem(cert, "c.test", now=cert.valid_after) is not None
    forged = hostcerts.parse(blob.replace(b"b.test", b"c.test"))
    assert forged.principals == ("a.test", "c.test")
    assert not hostcerts.signed_by_ca(forged)
