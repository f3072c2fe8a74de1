"""User certificates (a real sshd with TrustedUserCAKeys, certificates made by ssh-keygen -s) and
keys held by a real ssh-agent."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.errors import AuthError
from driftcheck.model import Host
from tests.backends.conftest import connect, host_for, run_once
from tests.sshd import Sshd, keygen, sign_user_key
from tests.tools import require

pytestmark = pytest.mark.sshd


@pytest.fixture(scope="module")
def ca_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sshd, Path]]:
    """A server that trusts user certificates from a test CA; no key of ours is authorized."""
    work = tmp_path_factory.mktemp("ca")
    ca = keygen(work / "user_ca")
    with Sshd.start(work / "sshd", extra_config=f"TrustedUserCAKeys {ca}.pub\n") as server:
        yield server, ca


@pytest.fixture
def ca_known_hosts(tmp_path: Path, ca_sshd: tuple[Sshd, Path]) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(ca_sshd[0].known_hosts_line())
    return path


def test_a_key_alone_is_refused(
    ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    server, _ = ca_sshd
    key = keygen(tmp_path / "id_ed25519")
    with pytest.raises(AuthError, match="authentication failed"):
        connect(host_for(server, ansible_ssh_private_key_file=str(key)), ca_known_hosts)


def test_key_cert_pub_beside_the_key(
    ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    server, ca = ca_sshd
    key = keygen(tmp_path / "id_ed25519")
    sign_user_key(ca, key, server.user)
    host = host_for(server, ansible_ssh_private_key_file=str(key))
    assert run_once(host, ca_known_hosts, ["echo", "ok"]).stdout == b"ok\n"


def test_rsa_key_certificate(
    ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    server, ca = ca_sshd
    key = keygen(tmp_path / "id_rsa", "rsa")
    sign_user_key(ca, key, server.user)
    host = host_for(server, ansible_ssh_private_key_file=str(key))
    assert run_once(host, ca_known_hosts, ["echo", "ok"]).stdout == b"ok\n"


def test_certificate_file_from_ssh_config(
    ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    server, ca = ca_sshd
    key = keygen(tmp_path / "id_ed25519")
    other = keygen(tmp_path / "unrelated")
    cert = sign_user_key(ca, key, server.user)
    stored = tmp_path / "certs" / "mine.pub"
    stored.parent.mkdir()
    cert.rename(stored)
    unrelated = sign_user_key(ca, other, server.user)  # certifies another key: not paired
    config = tmp_path / "config"
    config.write_text(f"Host *\n  CertificateFile {stored}\n")
    host = host_for(server, ansible_ssh_private_key_file=str(key))
    assert run_once(host, ca_known_hosts, ["echo", "ok"], ssh_config=config).stdout == b"ok\n"
    # the certificate of another key is not paired with this one
    config.write_text(f"Host *\n  CertificateFile {unrelated}\n")
    with pytest.raises(AuthError, match="authentication failed with 1 key"):
        connect(host, ca_known_hosts, ssh_config=config)


def test_certificate_for_another_principal_is_refused(
    ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    server, ca = ca_sshd
    key = keygen(tmp_path / "id_ed25519")
    sign_user_key(ca, key, "somebody-else")
    with pytest.raises(AuthError, match="authentication failed with 2 key"):
        connect(host_for(server, ansible_ssh_private_key_file=str(key)), ca_known_hosts)


# --- ssh-agent ---


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real ssh-agent on its own socket, in the foreground (-D) so the test ends it by pid."""
    require(shutil.which("ssh-agent") is not None, "openssh-client (ssh-agent) not installed")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 5
        while not sock.exists() and time.monotonic() < end:
            time.sleep(0.01)  # readiness polling: the agent creates its socket when it listens
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield sock
    finally:
        proc.terminate()
        proc.wait(5)


def encrypted_key(path: Path, passphrase: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)], check=True
    )
    return path


def ssh_add(key: Path, passphrase: str, sock: Path, tmp_path: Path) -> None:
    askpass = tmp_path / "askpass"
    askpass.write_text(f"#!/bin/sh\necho '{passphrase}'\n")
    askpass.chmod(0o700)
    env = {
        **os.environ,
        "SSH_AUTH_SOCK": str(sock),
        "SSH_ASKPASS": str(askpass),
        "SSH_ASKPASS_REQUIRE": "force",
    }
    subprocess.run(
        ["ssh-add", str(key)], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL
    )


def test_encrypted_key_through_the_agent(agent: Path, tmp_path: Path) -> None:
    key = encrypted_key(tmp_path / "id_ed25519", "s3cret")
    with Sshd.start(tmp_path / "s", client_key=key) as server:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts_line())
        host = host_for(server)  # its key file is the encrypted one: only the agent can sign
        with pytest.raises(AuthError, match="no usable private key"):
            connect(host, known)  # the agent is still empty
        ssh_add(key, "s3cret", agent, tmp_path)
        assert run_once(host, known, ["echo", "ok"]).stdout == b"ok\n"


def test_encrypted_key_without_an_agent_is_a_clear_error(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    key = encrypted_key(tmp_path / "id_ed25519", "s3cret")
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    with pytest.raises(AuthError, match=r"id_ed25519: encrypted \(use ssh-agent\)\) and no agent"):
        connect(host_for(sshd, ansible_ssh_private_key_file=str(key)), known)


def test_agent_certificate(
    agent: Path, ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    server, ca = ca_sshd
    key = encrypted_key(tmp_path / "id_ed25519", "pw")
    sign_user_key(ca, key, server.user)
    ssh_add(key, "pw", agent, tmp_path)  # ssh-add adds KEY-cert.pub beside the key too
    host = host_for(server, ansible_ssh_private_key_file=str(tmp_path / "absent"))
    assert run_once(host, ca_known_hosts, ["echo", "ok"]).stdout == b"ok\n"


def test_each_certificate_file_is_offered(
    ca_sshd: tuple[Sshd, Path], ca_known_hosts: Path, tmp_path: Path
) -> None:
    """Two identities, each with its CertificateFile: the second key's certificate is offered
    too, as ssh offers every one (only the second key's principal is accepted here)."""
    server, ca = ca_sshd
    first = keygen(tmp_path / "first")
    second = keygen(tmp_path / "second")
    sign_user_key(ca, first, "somebody-else")
    sign_user_key(ca, second, server.user)
    certs = tmp_path / "certs"
    certs.mkdir()
    for key in (first, second):
        key.with_name(f"{key.name}-cert.pub").rename(certs / f"{key.name}.pub")
    config = tmp_path / "config"
    config.write_text(
        f"Host *\n  IdentityFile {first}\n  IdentityFile {second}\n"
        f"  CertificateFile {certs}/first.pub\n  CertificateFile {certs}/second.pub\n"
    )
    host = Host("target", (), {"ansible_host": server.address, "ansible_port": server.port})
    assert run_once(host, ca_known_hosts, ["echo", "ok"], ssh_config=config).stdout == b"ok\n"


def test_identities_only_leaves_other_agent_keys_out(
    agent: Path, sshd: Sshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    ssh_add(sshd.client_key, "", agent, tmp_path)  # the authorized key, in the agent only
    unrelated = keygen(tmp_path / "unrelated")
    host = host_for(sshd, ansible_ssh_private_key_file=str(unrelated))
    config = tmp_path / "config"
    config.write_text("Host *\n  IdentitiesOnly no\n")
    assert run_once(host, known, ["echo", "ok"], ssh_config=config).stdout == b"ok\n"
    config.write_text("Host *\n  IdentitiesOnly yes\n")
    with pytest.raises(AuthError, match="authentication failed with 1 key"):
        connect(host, known, ssh_config=config)


def test_identity_agent_names_the_socket(
    agent: Path, sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    ssh_add(sshd.client_key, "", agent, tmp_path)
    monkeypatch.delenv("SSH_AUTH_SOCK")
    host = host_for(sshd, ansible_ssh_private_key_file=str(tmp_path / "absent"))
    config = tmp_path / "config"
    config.write_text(f"Host *\n  IdentityAgent {agent}\n")
    assert run_once(host, known, ["echo", "ok"], ssh_config=config).stdout == b"ok\n"
    monkeypatch.setenv("SSH_AUTH_SOCK", str(agent))
    config.write_text("Host *\n  IdentityAgent none\n")
    with pytest.raises(AuthError, match="no agent"):
        connect(host, known, ssh_config=config)
