"""authorized_keys lines named as `ssh-keygen -lf` names them: real keys made here by
ssh-keygen, with options, quoted spaces, certificates' types, comments and garbage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from driftcheck.collectors.authkeys import UNUSABLE, parse_authorized_keys, parse_key_line
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_AUTHORIZED_KEYS
from tests.tools import require_tools

KINDS = [("ed25519", []), ("rsa", ["-b", "2048"]), ("ecdsa", ["-b", "384"])]


def keygen(where: Path, kind: str, extra: list[str], comment: str) -> str:
    key = where / f"id_{kind}"
    argv = ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", comment, "-f", str(key)]
    subprocess.run(argv, check=True)
    return (where / f"id_{kind}.pub").read_text().strip()


def keygen_fingerprint(path: Path) -> list[str]:
    out = subprocess.run(["ssh-keygen", "-lf", str(path)], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    return [line.split()[1] for line in out.splitlines()]


def test_fingerprints_and_comments_as_ssh_keygen_gives_them(tmp_path: Path) -> None:
    require_tools("ssh-keygen")
    lines = [keygen(tmp_path, kind, extra, f"{kind} user@host") for kind, extra in KINDS]
    options = 'from="10.0.0.1,10.0.0.2",command="echo hello world",no-pty '
    body = "# a comment line\n\n" + lines[0] + "\n" + options + lines[1] + "\n  " + lines[2] + "\n"
    keys_file = tmp_path / "authorized_keys"
    keys_file.write_text(body)
    keys = parse_authorized_keys(body.encode())
    assert [k.fingerprint for k in keys] == keygen_fingerprint(keys_file)
    assert [k.type for k in keys] == ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp384"]
    assert [k.comment for k in keys] == [f"{kind} user@host" for kind, _ in KINDS]
    assert keys[1].options == options.strip()
    assert keys[0].options == ""
    assert keys[0].describe().startswith("ssh-ed25519 SHA256:")


@pytest.mark.parametrize(
    "line",
    [
        "garbage",
        "ssh-ed25519 not-base64!!",
        'command="ssh-ed25519 AAAA" only-options',
        "ssh-ed25519",
    ],
)
def test_an_unusable_line_is_kept_by_its_digest_not_its_text(line: str) -> None:
    key = parse_key_line(line)
    assert key.type == UNUSABLE
    assert key.fingerprint.startswith("SHA256:")
    assert line not in key.describe()
    assert parse_key_line(line + "x").fingerprint != key.fingerprint


def test_a_key_type_inside_quoted_options_is_not_the_key() -> None:
    blob = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    key = parse_key_line(f'command="ssh-rsa {blob}" ssh-ed25519 {blob} me')
    assert (key.type, key.comment) == ("ssh-ed25519", "me")
    assert key.options == f'command="ssh-rsa {blob}"'


def test_too_many_lines_is_a_limit() -> None:
    with pytest.raises(LimitError):
        parse_authorized_keys(b"x\n" * (MAX_AUTHORIZED_KEYS + 1))
