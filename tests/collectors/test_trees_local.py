"""The config trees end to end on this machine: the real collector (dc_tree, dc_keys) run by a
real shell over a tree made here, hostile names, a FIFO, a symlink, a deep directory and an
authorized_keys file included; then parsed. Nothing in the tree may be opened but regular files,
and no name may forge an entry."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from driftcheck.collectors.script import build_script, parse_output
from driftcheck.collectors.tree import _glob, ignored, key_files
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_TREE_DEPTH
from driftcheck.model import CommandResult, DeclaredState, Outcome
from driftcheck.model.observed import HASHED_BYTES
from tests.tools import require_tools

KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"
)


def make_tree(root: Path) -> None:
    (root / "etc" / "cron.d").mkdir(parents=True)
    (root / "etc" / "cron.d" / "job").write_text("* * * * * root true\n")
    (root / "etc" / "it's $(touch PWNED) x").write_text("odd\n")
    (root / "etc" / "new\nline").write_text("hidden\n")  # would forge a line if printed
    (root / "etc" / "link").symlink_to("cron.d/job")
    (root / "etc" / "big").write_bytes(b"x" * (HASHED_BYTES + 1))  # compared by size and mtime
    os.mkfifo(root / "etc" / "fifo")  # must never be opened
    (root / "home" / "alice" / ".ssh").mkdir(parents=True)
    (root / "home" / "alice" / ".ssh" / "authorized_keys").write_text(f"# keys\n{KEY}\n")


def collect(root: Path) -> DeclaredState:
    trees = (f"{root}/etc", f"{root}/home/*/.ssh/authorized_keys", f"{root}/absent")
    return DeclaredState(peers=True, peer_trees=trees)


@pytest.mark.timeout(60)
def test_the_real_collector_lists_the_trees(tmp_path: Path) -> None:
    require_tools("find", "stat", "md5sum")
    make_tree(tmp_path)
    state = collect(tmp_path)
    nonce = secrets.token_hex(8)
    proc = subprocess.run(["sh", "-s"], input=build_script(state, nonce).encode(),
                          capture_output=True, cwd=tmp_path, check=False, timeout=50)  # fmt: skip
    observed = parse_output(CommandResult(proc.returncode, proc.stdout, proc.stderr), state, nonce)
    assert observed.trees.outcome is Outcome.COLLECTED, observed.trees.reason
    trees = observed.trees.value
    etc = tmp_path / "etc"
    job = trees.entries[f"{etc}/cron.d/job"]
    assert (job.type, job.mode, job.digest) == (
        "file", "0644", hashlib.md5(b"* * * * * root true\n").hexdigest()
    )  # fmt: skip
    assert trees.entries[f"{etc}/link"].target == "cron.d/job"
    big = trees.entries[f"{etc}/big"]
    assert (big.digest, big.size) == (None, HASHED_BYTES + 1)
    assert big.value().startswith(f"file {HASHED_BYTES + 1} bytes, mtime {big.mtime} ")
    fifo = trees.entries[f"{etc}/fifo"]
    assert (fifo.type, fifo.digest) == ("fifo", None)
    assert trees.entries[f"{etc}/it's $(touch PWNED) x"].digest is not None
    assert not (tmp_path / "PWNED").exists()
    assert trees.odd_names == 1  # the name with a newline: counted, never listed
    assert not any("\n" in path or path.endswith("/line") for path in trees.entries)
    keys = trees.keys[f"{tmp_path}/home/alice/.ssh/authorized_keys"]
    assert [k.describe() for k in keys] == [
        "ssh-ed25519 SHA256:" + _fingerprint(KEY) + " alice@laptop"
    ]
    assert f"{tmp_path}/home/alice/.ssh/authorized_keys" in trees.entries


def test_a_tree_deeper_than_the_limit_is_a_limit_not_a_partial_listing(tmp_path: Path) -> None:
    deep = tmp_path / "etc"
    for level in range(MAX_TREE_DEPTH + 2):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    state = DeclaredState(peers=True, peer_trees=(f"{tmp_path}/etc",))
    nonce = secrets.token_hex(8)
    proc = subprocess.run(["sh", "-s"], input=build_script(state, nonce).encode(),
                          capture_output=True, check=False, timeout=50)  # fmt: skip
    with pytest.raises(LimitError, match="deeper than 32 levels"):
        parse_output(CommandResult(proc.returncode, proc.stdout, proc.stderr), state, nonce)


def _fingerprint(line: str) -> str:
    blob = base64.b64decode(line.split()[1])
    return base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_ignore_patterns_and_key_files() -> None:
    assert ignored("/etc/ssh/ssh_host_rsa_key", ["/etc/ssh/ssh_host_*"])
    assert ignored("/etc/apt/trusted.gpg.d/x", ["/etc/apt"])
    assert not ignored("/etc/aptitude", ["/etc/apt"])
    assert key_files(["/etc", "/root/.ssh", "/home/*/.ssh/authorized_keys"]) == [
        "/home/*/.ssh/authorized_keys",
        "/root/.ssh/authorized_keys",
    ]
    assert _glob("/home/*/.ssh/authorized_keys") == "/home/*/.ssh/authorized_keys"
    assert _glob("/it's/*") == "'/it'\"'\"'s/'*"
