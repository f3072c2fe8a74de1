"""Host certificates: a real sshd presents a host certificate signed by a test CA (`ssh-keygen
-s`); the verdict is compared with real `ssh -o StrictHostKeyChecking=accept-new` on the same
files, case by case."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.backends import hostcerts
from tests.backends.test_hostkeys_openssh import driftcheck_verdict, openssh_verdict
from tests.sshd import Sshd, free_address, keygen

pytestmark = pytest.mark.sshd


def require(condition: bool, reason: str) -> None:
    if not condition:
        pytest.skip(reason)  # switched to tests/tools.py: require once main has it


EXPIRED = ["-V", "20200101:20200201"]
# case: (ssh-keygen -s options beyond the CA, known_hosts, driftcheck's verdict where it
# deliberately differs from ssh's, else None). {addr}: the host; {ca}/{other_ca}: CA keys;
# {key}/{known}: the host's plain key, its known_hosts line.
CASES: dict[str, tuple[list[str], str, str | None]] = {
    "valid": (["-n", "{addr}"], "@cert-authority [127.88.*]:* {ca}\n", None),
    "no-ca-line": (["-n", "{addr}"], "", None),
    "revoked-ca": (["-n", "{addr}"], "@cert-authority * {ca}\n@revoked * {ca}\n", None),
    "revoked-key": (["-n", "{addr}"], "@cert-authority * {ca}\n@revoked * {key}\n", None),
    "ca-elsewhere-key-known": (["-n", "{addr}"], "@cert-authority x.test {ca}\n{known}", None),
    "expired-key-known": (["-n", "{addr}", *EXPIRED], "@cert-authority * {ca}\n{known}", None),
    # Where the certificate is not accepted and the plain key is unknown, ssh falls back to
    # trusting the plain key on first use; driftcheck refuses a host its CA should vouch for.
    "expired": (["-n", "{addr}", *EXPIRED], "@cert-authority * {ca}\n", "refused"),
    "other-principal": (["-n", "web1.test"], "@cert-authority * {ca}\n", "refused"),
    "wildcard-principal": (["-n", "127.88.*"], "@cert-authority * {ca}\n", "refused"),
    "other-ca": (["-n", "{addr}"], "@cert-authority * {other_ca}\n", "refused"),
    "user-certificate": (["-n", "{addr}"], "@cert-authority * {ca}\n", "refused"),
}  # fmt: skip


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("ca")
    return {"ca": keygen(where / "ca"), "other_ca": keygen(where / "other_ca", "rsa")}


@pytest.fixture
def server(tmp_path: Path, cas: dict[str, Path], request: pytest.FixtureRequest) -> Iterator[Sshd]:
    case: str = request.param
    address = free_address()
    host_key = keygen(tmp_path / "host_key")
    options = [o.format(addr=address) for o in CASES[case][0]]
    kind = [] if case == "user-certificate" else ["-h"]
    sign = [
        "ssh-keygen",
        "-q",
        "-s",
        str(cas["ca"]),
        "-I",
        case,
        *kind,
        *options,
        f"{host_key}.pub",
    ]
    subprocess.run(sign, check=True, capture_output=True)
    config = f"HostCertificate {host_key}-cert.pub\n"
    with Sshd.start(tmp_path / "s", address=address, host_key=host_key, extra_config=config) as s:
        yield s


def public(path: Path) -> str:
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


@pytest.mark.parametrize("server", list(CASES), indirect=True)
def test_certificate_verdict_is_openssh_s(
    server: Sshd, cas: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    require(shutil.which("ssh") is not None, "ssh (openssh-client) not installed")
    case = request.node.callspec.params["server"]
    text = CASES[case][1].format(
        known=server.known_hosts_line(),
        key=server.host_public_key(),
        ca=public(cas["ca"]),
        other_ca=public(cas["other_ca"]),
    )
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.write_text(text)
    theirs.write_text(text)
    expected = CASES[case][2] or openssh_verdict(server, theirs)
    assert driftcheck_verdict(server, ours) == expected
    assert ours.read_text() == theirs.read_text() or expected == "refused"


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
