"""The host key verdict, side by side with real OpenSSH (`ssh -o StrictHostKeyChecking=accept-new`)
against the same sshd and a copy of the same known_hosts file, case by case."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import paramiko
import pytest

from driftcheck.backends import hostcerts
from driftcheck.backends.hostkeys import KnownHosts
from driftcheck.errors import HostKeyError
from tests.backends.conftest import host_for, run_once
from tests.sshd import Sshd, keygen
from tests.tools import require_tools

pytestmark = pytest.mark.sshd


# {name}: the host as recorded; {key}: the sshd's key; {other}/{rsa}: keys it does not hold;
# {addr}/{port}: its address and port. Each case: known_hosts text, and driftcheck's verdict
# when it deliberately differs from OpenSSH's (None: the same as ssh's, checked live).
CASES: dict[str, tuple[str, str | None]] = {
    "recorded": ("{name} {key}\n", None),
    "unknown": ("", None),
    "other-key": ("{name} {other}\n", None),
    "other-type": ("{name} {rsa}\n", None),
    "wildcard-same": ("[127.88.*]:{port} {key}\n", None),
    "wildcard-other": ("[127.88.*]:{port} {other}\n", None),
    "question-mark": ("[127.88.?*.*]:{port} {other}\n", None),
    "negated": ("[127.88.*]:{port},!{name} {other}\n", None),
    "negated-elsewhere": ("[127.88.*]:{port},![127.88.0.1]:{port} {other}\n", None),
    "comma-list": ("web1,{name},10.0.0.1 {other}\n", None),
    "upper-case": ("{upper} {other}\n", None),
    "two-types-one-good": ("{name} {rsa}\n{name} {key}\n", None),
    "revoked": ("@revoked * {key}\n{name} {key}\n", None),
    "revoked-other": ("@revoked * {other}\n{name} {key}\n", None),
    "bad-lines": ("garbage\n@bogus * {key}\n{name} ssh-ed25519 !!!\n{name} {key}\n", None),
    "bad-line-only": ("{name} ssh-rsa {key_blob}\n", None),
    "without-port-same": ("{addr} {key}\n", None),
    "without-port-other": ("{addr} {other}\n", None),
    # The host has no certificate: ssh trusts its plain key on first use; driftcheck refuses a
    # host a CA should vouch for (test_hostcerts.py has the certificate cases). A CA line
    # without a port covers the host on every port, as ssh looks CAs up.
    "cert-authority": ("@cert-authority [127.88.*]:* {other}\n", "refused"),
    "cert-authority-without-port": ("@cert-authority 127.88.* {other}\n", "refused"),
    # ssh warns that the key is revoked for the bare name, then trusts it on first use anyway.
    "revoked-without-port": ("@revoked {addr} {key}\n", "revoked"),
}
# known_hosts texts, for the order host key algorithms are asked for in.
ORDERS = {
    "nothing-recorded": "",
    "plain-rsa-recorded": "{name} {rsa}\n",
    "authority-elsewhere": "@cert-authority x.test {other}\n",
    "authority": "@cert-authority [127.88.*]:* {other}\n",
    "authority-without-port": "@cert-authority 127.88.* {other}\n",
    "revoked-elsewhere-rsa-recorded": "@revoked x.test {other}\n{name} {rsa}\n",
    "authority-rsa-recorded": "@cert-authority * {other}\n{name} {rsa}\n",
    "authority-ecdsa-and-rsa-recorded": "@cert-authority * {other}\n{name} {ecdsa}\n{name} {rsa}\n",
    "ed25519-recorded": "@revoked x.test {other}\n{name} {rsa}\n{name} {key}\n",
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("keys")
    pairs = {
        "other": keygen(where / "o"),
        "rsa": keygen(where / "r", "rsa"),
        "ecdsa": keygen(where / "e", "ecdsa"),
    }
    return {k: " ".join(Path(f"{p}.pub").read_text().split()[:2]) for k, p in pairs.items()}


def known_text(text: str, sshd: Sshd, keys: dict[str, str]) -> str:
    key = sshd.host_public_key()
    return text.format(
        name=sshd.host_name(),
        upper=sshd.host_name().upper(),
        addr=sshd.address,
        port=sshd.port,
        key=key,
        key_blob=key.split()[1],
        **keys,
    )


def openssh_verdict(sshd: Sshd, known: Path) -> str:
    before = known.read_text()
    argv = [
        "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
        "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "IdentitiesOnly=yes", "-i", str(sshd.client_key), "-p", str(sshd.port),
        f"{sshd.user}@{sshd.address}", "true",
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, timeout=30, check=False)
    if out.returncode == 0:
        return "ok" if known.read_text() == before else "appended"
    if b"REMOTE HOST IDENTIFICATION HAS CHANGED" in out.stderr:
        return "changed"
    if b"REVOKED HOST KEY" in out.stderr:
        return "revoked"
    return f"ssh failed: {out.stderr.decode(errors='replace')}"


def driftcheck_verdict(sshd: Sshd, known: Path) -> str:
    before = known.read_text()
    try:
        run_once(host_for(sshd), known, ["true"], accept_new_host_keys=True)
    except HostKeyError as exc:
        for word in ("CHANGED", "REVOKED"):
            if word in str(exc):
                return word.lower()
        return "refused"
    return "ok" if known.read_text() == before else "appended"


@pytest.mark.parametrize("case", CASES)
def test_verdict_is_openssh_s(sshd: Sshd, keys: dict[str, str], tmp_path: Path, case: str) -> None:
    require_tools("ssh")
    text = known_text(CASES[case][0], sshd, keys)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.write_text(text)
    theirs.write_text(text)
    expected = CASES[case][1] or openssh_verdict(sshd, theirs)
    assert driftcheck_verdict(sshd, ours) == expected
    if expected == "appended":  # the same line as ssh writes
        assert ours.read_text() == theirs.read_text()


def openssh_order(sshd: Sshd, known: Path) -> list[str]:
    """The host key algorithms `ssh` proposes to the host, from its own debug output."""
    argv = [
        "ssh", "-vvv", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
        "-p", str(sshd.port), f"{sshd.user}@{sshd.address}", "true",
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, timeout=30, check=False).stderr.decode()
    proposal = out.partition("local client KEXINIT proposal")[2]
    found = re.search(r"host key algorithms: (\S+)", proposal)
    assert found is not None, out
    return found.group(1).split(",")


@pytest.mark.parametrize("case", ORDERS)
def test_host_key_algorithms_are_asked_for_in_openssh_s_order(
    sshd: Sshd, keys: dict[str, str], tmp_path: Path, case: str
) -> None:
    require_tools("ssh")
    known = tmp_path / "known_hosts"
    known.write_text(known_text(ORDERS[case], sshd, keys))
    left, right = socket.socketpair()
    with left, right, paramiko.Transport(left) as transport:
        offered = list(transport.get_security_options().key_types)
    ours = KnownHosts((known,), known).host_key_algorithms(sshd.address, sshd.port, offered)
    # ssh's order, less what paramiko cannot do (security keys); certificates are asked for
    # only where a @cert-authority or @revoked line could make them matter.
    certificates = hostcerts.ALGORITHMS if "@" in ORDERS[case] else ()
    theirs = [alg for alg in openssh_order(sshd, known) if alg in (*offered, *certificates)]
    assert ours == theirs
