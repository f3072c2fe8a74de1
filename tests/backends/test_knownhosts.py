"""known_hosts index: which lines match a host is what OpenSSH's own lookup (`ssh-keygen -F`)
says, bad lines are skipped as OpenSSH skips them, and a lookup does not scan the file."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from driftcheck.backends import hostkeys
from driftcheck.backends.knownhosts import (
    CERT_AUTHORITY,
    PLAIN,
    REVOKED,
    Index,
    match_hostname,
    parse_file,
)
from tests.sshd import keygen


def require(condition: bool, reason: str) -> None:
    if not condition:
        pytest.skip(reason)  # switched to tests/tools.py: require once main has it


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`TYPE BASE64` of three real keys made by ssh-keygen."""
    where = tmp_path_factory.mktemp("keys")
    made = {"A": keygen(where / "a"), "B": keygen(where / "b"), "R": keygen(where / "r", "rsa")}
    return {k: " ".join(Path(f"{p}.pub").read_text().split()[:2]) for k, p in made.items()}


PATTERN_LINES = [
    "# a comment, then an empty line",
    "",
    "plain.example.org {A}",
    "UPPER.example.org,second.example.org {A}",
    "*.wild.example.org {A}",
    "web?.example.org {A}",
    "*.example.org,!db.example.org {B}",
    "!db.example.org,*.example.org {B}",
    "[127.88.*]:2222 {A}",
    "[127.88.1.1]:2222,[127.88.1.2]:2222 {R}",
    "[127.88.*]:*,![127.88.9.*]:* {B}",
    "127.88.1.1 {R}",
    "   \t  indented.example.org {A}",
    "@revoked * {B}",
    "@revoked\t*.example.org {R}",
    "@cert-authority *.corp.example.org {A}",
    "@cert-authority,@revoked host {A}",
    "!only-negated.example.org {A}",
    "a,,b {A}",
    "*{A}",
]
NAMES = [
    "plain.example.org",
    "PLAIN.example.org",
    "upper.example.org",
    "second.example.org",
    "x.wild.example.org",
    "web1.example.org",
    "web12.example.org",
    "db.example.org",
    "a.corp.example.org",
    "[127.88.1.1]:2222",
    "[127.88.1.2]:2222",
    "[127.88.9.4]:2222",
    "[127.88.9.4]:22",
    "127.88.1.1",
    "indented.example.org",
    "only-negated.example.org",
    "other.test",
    "b",
    "",
]


def openssh_matches(known: Path, name: str) -> list[int]:
    """Line numbers OpenSSH's lookup (`hostkeys_foreach` via `ssh-keygen -F`) finds for name."""
    argv = ["ssh-keygen", "-F", name, "-f", str(known)]
    out = subprocess.run(argv, capture_output=True, check=False)
    return [int(n) for n in re.findall(rb"^# Host .* found: line (\d+)", out.stdout, re.M)]


@pytest.fixture
def pattern_file(tmp_path: Path, keys: dict[str, str]) -> Path:
    known = tmp_path / "known_hosts"
    known.write_text("".join(line.format(**keys) + "\n" for line in PATTERN_LINES))
    return known


@pytest.mark.parametrize("name", NAMES)
def test_matching_lines_are_openssh_s(pattern_file: Path, name: str) -> None:
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen (openssh-client) not installed")
    ours = [e.line for e in parse_file(pattern_file).lookup(name)]
    assert ours == openssh_matches(pattern_file, name.lower())


def test_hashed_names_made_by_ssh_keygen_match(tmp_path: Path, keys: dict[str, str]) -> None:
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen (openssh-client) not installed")
    known = tmp_path / "known_hosts"
    known.write_text(
        f"[127.88.3.3]:2222 {keys['A']}\nweb1.example.org,10.0.0.1 {keys['B']}\n"
        f"*.example.org {keys['R']}\n"
    )
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], capture_output=True, check=True)
    assert "web1.example.org" not in known.read_text()
    index = parse_file(known)
    assert len(index.hashed) == 3  # one salt per hashed name; the pattern line stays plain
    for name in ("[127.88.3.3]:2222", "web1.example.org", "10.0.0.1", "[127.88.3.3]:22", "x"):
        assert [e.line for e in index.lookup(name)] == openssh_matches(known, name)


def test_markers_are_kept_and_bad_lines_skipped(pattern_file: Path, keys: dict[str, str]) -> None:
    with pattern_file.open("a") as f:
        f.write(
            "truncated.example.org\n"  # no key at all
            f"bogus.example.org ssh-ed25519\n"  # type without key
            f"bad64.example.org ssh-ed25519 !!!{keys['A'].split()[1]}\n"
            f"wrongtype.example.org ssh-rsa {keys['A'].split()[1]}\n"  # blob is ed25519
            f"@unknown-marker u.example.org {keys['A']}\n"
            f"rsa1.example.org 2048 35 1234567\n"
            f"alias.example.org rsa-sha2-512 {keys['R'].split()[1]}\n"
            f"short.example.org ED25519 {keys['A'].split()[1]} comment\r\n"
        )
    index = parse_file(pattern_file)
    first_bad = len(PATTERN_LINES) + 1
    # 15: a tab ends the marker only when no space follows (check_markers uses strchr(' ') first);
    # 17: two markers; 20: `*ssh-ed25519` is the host field, and `AAAA...` no key type.
    assert index.skipped == [15, 17, 20, *range(first_bad, first_bad + 6)]
    markers = {e.line: e.marker for _, e in index.patterns}
    assert (markers[14], markers[16], markers[9]) == (REVOKED, CERT_AUTHORITY, PLAIN)
    assert [e.key_type for e in index.literal["alias.example.org"]] == ["ssh-rsa"]
    assert [e.key_type for e in index.literal["short.example.org"]] == ["ssh-ed25519"]


def test_match_hostname_is_openssh_s() -> None:
    assert match_hostname("web1", "web*") == 1
    assert match_hostname("WEB1", "web?") == 1
    assert match_hostname("db", "*,!db") == -1
    assert match_hostname("db", "!db,*") == -1
    assert match_hostname("x", "!db") == 0  # a negation alone never matches
    assert match_hostname("a.b", "a?b") == 1
    assert match_hostname("a.b", "a[.]b") == 0  # no character classes in OpenSSH patterns
    assert match_hostname("x", "x," + "y" * 1023) == 0  # an overlong subpattern fails it all


def test_a_lookup_does_not_scan_the_file(tmp_path: Path, keys: dict[str, str]) -> None:
    known = tmp_path / "known_hosts"
    with known.open("w") as f:
        for i in range(100_000):
            f.write(f"h{i}.fleet.example.org,10.{i >> 16}.{(i >> 8) & 255}.{i & 255} {keys['A']}\n")
        f.write(f"*.wild.example.org {keys['B']}\n[10.*]:2222,!10.9.* {keys['R']}\n")
    index = parse_file(known)
    assert index.lines == 100_002
    assert not index.skipped
    for i in range(0, 100_000, 997):
        assert [e.line for e in index.lookup(f"h{i}.fleet.example.org")] == [i + 1]
    lookups = len(range(0, 100_000, 997))
    # Only the two wildcard lines are matched one by one; the 100,000 names are a dict probe.
    assert index.stats.pattern_matches == 2 * lookups
    assert index.stats.hmacs == 0


def test_hashed_lookups_cost_one_hmac_per_salt_once_per_name(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    key = " ".join(Path(f"{keygen(tmp_path / 'k')}.pub").read_text().split()[:2])
    known.write_text("".join(f"h{i} {key}\n" for i in range(500)))
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], capture_output=True, check=True)
    index = parse_file(known)
    assert [e.line for e in index.lookup("h42")] == [43]
    assert index.stats.hmacs == 500
    index.lookup("h42")  # the same host again (verify after host_key_algorithms) costs nothing
    assert index.stats.hmacs == 500


def test_many_threads_missing_the_cache_parse_the_file_once(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("".join(f"h{i} {keys['A']}\n" for i in range(50_000)))
    got: list[Index] = []
    start = threading.Barrier(32)

    def load() -> None:
        start.wait()
        got.append(hostkeys._load(known, time.monotonic() + 60))

    threads = [threading.Thread(target=load) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every thread holds the one index a single parse made: a second parse would be another.
    assert len(got) == 32
    assert all(index is got[0] for index in got)
    assert got[0].lines == 50_000
