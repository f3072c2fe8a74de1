"""Host keys: unknown refused, TOFU appends, changed refused always (whatever the key type or
the pattern that records it), revoked refused, hashed and wildcard entries match."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import paramiko
import pytest

from driftcheck.backends.hostkeys import KnownHosts, fingerprint, host_entry
from driftcheck.errors import DeadlineError, HostKeyError
from tests.backends.conftest import connect, host_for, run_once
from tests.sshd import Sshd, keygen

pytestmark = pytest.mark.sshd


def public(path: Path) -> str:
    """`TYPE BASE64` of the key pair at path."""
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


def ssh_keygen_fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], capture_output=True, check=True)
    return out.stdout.decode().split()[1]


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    path = keygen(tmp_path / "k")
    key = paramiko.PKey.from_path(path)
    assert fingerprint(key) == ssh_keygen_fingerprint(Path(f"{path}.pub"))


def test_host_entry_names() -> None:
    assert host_entry("10.0.0.1", 22) == "10.0.0.1"
    assert host_entry("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_unknown_key_is_refused_with_its_fingerprint(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    with pytest.raises(HostKeyError) as caught:
        connect(host_for(sshd), known)
    message = str(caught.value)
    assert ssh_keygen_fingerprint(Path(f"{sshd.host_key}.pub")) in message
    assert "ssh-ed25519" in message
    assert f"ssh-keyscan -p {sshd.port} {sshd.address} >> {known}" in message
    assert "--accept-new-host-keys" in message
    assert "\n" not in message
    assert not known.exists()


def test_accept_new_appends_then_the_key_is_known(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "new" / "known_hosts"
    run_once(host_for(sshd), known, ["true"], accept_new_host_keys=True)
    assert known.read_text() == sshd.known_hosts_line()
    assert known.stat().st_mode & 0o777 == 0o600
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"
    assert known.read_text() == sshd.known_hosts_line()  # not appended twice


def test_accept_new_appends_whole_lines_under_concurrency(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("# no newline at the end")
    key = paramiko.PKey.from_path(sshd.host_key)
    store = KnownHosts((known,), known, accept_new=True)
    threads = [
        threading.Thread(target=store.verify, args=(f"10.9.0.{i}", 2200 + i, key))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = known.read_text().splitlines()
    assert lines[0] == "# no newline at the end"
    assert sorted(lines[1:]) == sorted(
        f"[10.9.0.{i}]:{2200 + i} {sshd.host_public_key()}" for i in range(20)
    )


def test_changed_key_is_refused_even_with_accept_new(sshd: Sshd, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    pub = Path(f"{other}.pub").read_text().split()
    known.write_text(f"{sshd.host_name()} {pub[0]} {pub[1]}\n")
    with pytest.raises(HostKeyError, match=r"CHANGED.*possible man-in-the-middle"):
        connect(host_for(sshd), known, accept_new_host_keys=True)
    assert known.read_text().count("\n") == 1


def test_hashed_entry_matches(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line(hashed=True))
    assert known.read_text().startswith("|1|")
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"


def test_the_same_key_recorded_without_port_is_accepted(sshd: Sshd, tmp_path: Path) -> None:
    # As ssh does ("checking without port identifier"): only an equal key, never a verdict.
    known = tmp_path / "known_hosts"
    known.write_text(f"{sshd.address} {sshd.host_public_key()}\n")  # i.e. port 22
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"


def test_another_key_recorded_without_port_is_unknown(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"{sshd.address} {public(keygen(tmp_path / 'other'))}\n")
    with pytest.raises(HostKeyError, match="unknown host key"):
        connect(host_for(sshd), known)


def test_the_recorded_key_type_is_asked_for_first(tmp_path: Path) -> None:
    rsa = keygen(tmp_path / "rsa_host_key", "rsa")
    with Sshd.start(tmp_path / "s", extra_config=f"HostKey {rsa}\n") as server:
        known = tmp_path / "known_hosts"
        kind, blob = Path(f"{rsa}.pub").read_text().split()[:2]
        known.write_text(f"{server.host_name()} {kind} {blob}\n")  # only the RSA key on record
        assert run_once(host_for(server), known, ["echo", "ok"]).stdout == b"ok\n"


@pytest.mark.parametrize("accept_new", [False, True])
def test_a_key_of_another_type_is_changed_not_new(
    sshd: Sshd, tmp_path: Path, accept_new: bool
) -> None:
    # The attack: only an RSA key is on record and a man-in-the-middle offers an ed25519 key.
    known = tmp_path / "known_hosts"
    known.write_text(f"{sshd.host_name()} {public(keygen(tmp_path / 'rsa', 'rsa'))}\n")
    before = known.read_text()
    with pytest.raises(HostKeyError, match=r"CHANGED: the host offers ssh-ed25519 .* ssh-rsa key"):
        connect(host_for(sshd), known, accept_new_host_keys=accept_new)
    assert known.read_text() == before


@pytest.mark.parametrize("accept_new", [False, True])
def test_a_wildcard_entry_with_another_key_is_changed(
    sshd: Sshd, tmp_path: Path, accept_new: bool
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.88.*]:{sshd.port} {public(keygen(tmp_path / 'a'))}\n")
    before = known.read_text()
    with pytest.raises(HostKeyError, match=rf"CHANGED.*recorded in {known}:1"):
        connect(host_for(sshd), known, accept_new_host_keys=accept_new)
    assert known.read_text() == before


def test_a_wildcard_entry_with_the_key_is_known(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.88.?*.*]:{sshd.port} {sshd.host_public_key()}\n")
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"


def test_a_negated_name_excludes_the_line_only_when_it_matches(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.88.*]:{sshd.port},![127.88.0.1]:{sshd.port} {sshd.host_public_key()}\n")
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"
    other = public(keygen(tmp_path / "a"))
    known.write_text(f"[127.88.*]:{sshd.port},!{sshd.host_name()} {other}\n")
    with pytest.raises(HostKeyError, match="unknown host key"):  # the line does not apply
        connect(host_for(sshd), known)
    run_once(host_for(sshd), known, ["true"], accept_new_host_keys=True)
    assert known.read_text().splitlines()[1] == sshd.known_hosts_line().strip()


def test_a_comma_list_of_names_and_patterns(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"web1,[127.88.*]:{sshd.port},10.0.0.1 {sshd.host_public_key()}\n")
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"
    known.write_text(f"WEB1,{sshd.host_name().upper()} {public(keygen(tmp_path / 'b'))}\n")
    with pytest.raises(HostKeyError, match="CHANGED"):
        connect(host_for(sshd), known)


def test_hashed_entries_by_ssh_keygen_match_and_change(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    other = public(keygen(tmp_path / "a", "rsa"))
    known.write_text(f"web1 {other}\n{sshd.known_hosts_line()}")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], capture_output=True, check=True)
    assert sshd.address not in known.read_text()
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"
    known.write_text(f"{sshd.host_name()} {other}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], capture_output=True, check=True)
    with pytest.raises(HostKeyError, match="CHANGED"):
        connect(host_for(sshd), known, accept_new_host_keys=True)


def test_a_revoked_key_is_refused_and_other_hosts_still_audit(sshd: Sshd, tmp_path: Path) -> None:
    with Sshd.start(tmp_path / "second", client_key=sshd.client_key) as second:
        known = tmp_path / "known_hosts"
        known.write_text(
            f"@revoked * {sshd.host_public_key()}\n{sshd.known_hosts_line()}"
            f"{second.known_hosts_line()}@cert-authority *.example.org {second.host_public_key()}\n"
        )
        before = known.read_text()
        with pytest.raises(HostKeyError, match=rf"REVOKED.*marked @revoked in {known}:1"):
            connect(host_for(sshd), known, accept_new_host_keys=True)
        assert run_once(host_for(second), known, ["echo", "ok"]).stdout == b"ok\n"
        assert known.read_text() == before


def test_malformed_lines_are_skipped(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(
        "garbage\n@bogus-marker * ssh-ed25519 AAAA\n|1|notbase64|x ssh-rsa AAAA\n"
        f"{sshd.host_name()} ssh-ed25519 !!!\n{sshd.known_hosts_line()}"
    )
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"


def test_known_hosts_work_is_inside_the_deadline_and_not_unreachable(
    sshd: Sshd, tmp_path: Path
) -> None:
    # A client too busy reading known_hosts must say so, never "no SSH handshake" for a
    # reachable host; the file is read before the connection, so the server never waits on it.
    known = tmp_path / "known_hosts"
    other = public(keygen(tmp_path / "a"))
    with known.open("w") as f:
        f.writelines(
            f"h{i}.fleet.example.org,10.0.{i >> 8}.{i & 255} {other}\n" for i in range(50_000)
        )
        f.write(sshd.known_hosts_line())
    with pytest.raises(
        DeadlineError, match=f"known_hosts {known} still being read at the deadline"
    ):
        connect(host_for(sshd), known, timeout=0.02)
    # Parsed once: the next host reads the cached index within a normal deadline.
    assert run_once(host_for(sshd), known, ["echo", "ok"]).stdout == b"ok\n"


def test_a_name_that_would_read_back_as_a_pattern_is_never_recorded(
    sshd: Sshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    store = KnownHosts((known,), known, accept_new=True)
    key = paramiko.PKey.from_path(sshd.host_key)
    with pytest.raises(HostKeyError, match="never recorded"):
        store.verify("10.0.0.*", 2222, key)  # `[10.0.0.*]:2222` would match a whole subnet
    assert not known.exists()
