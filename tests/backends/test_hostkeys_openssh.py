"""The host key verdict, side by side with real OpenSSH (`ssh -o StrictHostKeyChecking=accept-new`)
against the same sshd and a copy of the same known_hosts file, case by case."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from driftcheck.errors import HostKeyError
from tests.backends.conftest import host_for, run_once
from tests.sshd import Sshd, keygen

pytestmark = pytest.mark.sshd


def require(condition: bool, reason: str) -> None:
    if not condition:
        pytest.skip(reason)  # switched to tests/tools.py: require once main has it


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
    # host a CA should vouch for (test_hostcerts.py has the certificate cases).
    "cert-authority": ("@cert-authority [127.88.*]:* {other}\n", "refused"),
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("keys")
    pairs = {"other": keygen(where / "o"), "rsa": keygen(where / "r", "rsa")}
    return {k: " ".join(Path(f"{p}.pub").read_text().split()[:2]) for k, p in pairs.items()}


def known_text(case: str, sshd: Sshd, keys: dict[str, str]) -> str:
    key = sshd.host_public_key()
    return CASES[case][0].format(
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
    require(shutil.which("ssh") is not None, "ssh (openssh-client) not installed")
    text = known_text(case, sshd, keys)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.write_text(text)
    theirs.write_text(text)
    expected = CASES[case][1] or openssh_verdict(sshd, theirs)
    assert driftcheck_verdict(sshd, ours) == expected
    if expected == "appended":  # the same line as ssh writes
        assert ours.read_text() == theirs.read_text()
