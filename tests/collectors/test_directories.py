"""Declared directories (`directories:`): dc_dir's output parsed, on captured real output
(tests/collectors/directories/: a lab host over SSH, hostile names under busybox sh), and the
real script run here by real shells on a directory of hostile names."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from driftcheck.collectors.directories import parse_listing
from driftcheck.collectors.script import build_script, parse_output
from driftcheck.collectors.sections import ParseError
from driftcheck.errors import LimitError
from driftcheck.model import CommandResult, DeclaredState, DirectorySpec, Observed, Outcome
from tests.collectors.test_fixtures import raw_of, record
from tests.collectors.test_script_local import SHELLS, busybox_root
from tests.tools import require_root, require_tools

HERE = Path(__file__).parent / "directories"
NONCE = "0123456789abcdef"
NEWLINE_NAME = "cron\n* * * * * root touch evil\nentry"  # must stay one name
HOSTILE = [
    "plain",
    "sp ace",
    "it's",
    'dq"x',
    "$(touch PWNED)",
    "`touch PWNED2`",
    NEWLINE_NAME,
    "cron",
    ".hidden",
    "..dots",
    "*",
    "[a]",
    "-rf",
    "\\back",
]


@pytest.mark.parametrize("path", sorted(HERE.glob("*.json")), ids=lambda p: p.stem)
def test_parser_on_captured_output(path: Path) -> None:
    case = json.loads(path.read_text())
    assert record(parse_listing(raw_of(case), **case["args"])) == case["expected"]


def test_a_newline_in_a_name_forges_no_entry() -> None:
    case = json.loads((HERE / "hostile_names_busybox.json").read_text())
    names = parse_listing(raw_of(case), "/tmp/odd dir").names
    assert "new\nline" in names
    assert "line" not in names
    assert "caf\\xe9" in names  # not UTF-8: the byte written as \xNN


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "not a directory section: b''"),
        (b"garbage\n", "not a directory section: b'garbage'"),
        (b"absent\nextra\0", "unexpected text after b'absent' in a directory section"),
        (b"notdir teapot\n", "not a directory section: b'notdir teapot'"),
        (b"dir\na\0b", "a directory section ends inside a name"),
        (b"dir\na/b\0", "an empty name or a name with '/' in a directory section"),
        (b"dir\n\0", "an empty name or a name with '/' in a directory section"),
    ],
)
def test_garbage_is_a_parse_error(raw: bytes, error: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_listing(raw, "/etc/cron.d")
    assert str(caught.value) == error


def test_err_line_is_an_error_not_an_empty_directory() -> None:
    listing = parse_listing(b"err Permission denied\n", "/etc/sudoers.d")
    assert (listing.type, listing.names, listing.error) == (
        "",
        (),
        "cannot list: Permission denied",
    )


def test_entries_past_the_limit_are_a_limit_error() -> None:
    raw = b"dir\n" + b"".join(b"%d\0" % i for i in range(11))
    assert len(parse_listing(raw, "/d", limit=11).names) == 11
    with pytest.raises(LimitError, match="more than 10 entries"):
        parse_listing(raw, "/d", limit=10)


# --- the real script, run here -------------------------------------------------------------


def hostile_dir(root: Path) -> Path:
    where = root / "odd $(dir)"
    where.mkdir()
    for name in HOSTILE:
        (where / name).write_text("x\n")
    (where / os.fsdecode(b"caf\xe9")).write_text("x\n")
    os.mkfifo(where / "fifo")  # listed, never opened
    (where / "dangling").symlink_to(root / "nowhere")
    (where / "sub").mkdir()
    (root / "link").symlink_to(where)
    (root / "file").write_text("x\n")
    return where


def state_for(*paths: Path) -> DeclaredState:
    return DeclaredState(directories={str(p): DirectorySpec(str(p)) for p in paths})


def run(shell: list[str], state: DeclaredState, cwd: Path) -> Observed:
    script = build_script(state, NONCE)
    proc = subprocess.run(
        shell, check=False, input=script.encode(), capture_output=True, cwd=cwd, timeout=60
    )
    return parse_output(CommandResult(proc.returncode, proc.stdout, proc.stderr), state, NONCE)


@pytest.mark.parametrize("shell", SHELLS)
def test_listing_hostile_names_with_real_shells(shell: list[str], tmp_path: Path) -> None:
    require_tools(shell[0])
    where = hostile_dir(tmp_path)
    absent = tmp_path / "no such $(dir)"
    state = state_for(where, tmp_path / "link", tmp_path / "file", absent)
    observed = run(shell, state, tmp_path)
    assert not list(tmp_path.rglob("PWNED*")), "a name was executed"
    assert observed.directories.ok, observed.directories.reason
    got = observed.directories.value
    expected = {*HOSTILE, "caf\\xe9", "fifo", "dangling", "sub"}
    assert (got[str(where)].type, set(got[str(where)].names)) == ("directory", expected)
    assert len(got[str(where)].names) == len(expected)
    assert got[str(tmp_path / "link")].type == "symlink"  # never followed
    assert got[str(tmp_path / "file")].type == "file"
    assert got[str(absent)].type == "absent"
    assert observed.files.ok  # the file sections after it are still whole


def test_busybox_only_target(tmp_path: Path) -> None:
    require_root()
    require_tools("busybox")
    root = tmp_path / "root"
    busybox_root(root)
    (root / "etc" / "cron.d").mkdir()
    for name in ("e2scrub_all", NEWLINE_NAME, "$(touch PWNED)"):
        (root / "etc" / "cron.d" / name).write_text("x\n")
    state = DeclaredState(directories={"/etc/cron.d": DirectorySpec("/etc/cron.d")})
    observed = run(["chroot", str(root), "/bin/sh", "-s"], state, tmp_path)
    assert not list(root.rglob("PWNED*"))
    assert observed.directories.value["/etc/cron.d"].names == tuple(
        sorted(("e2scrub_all", NEWLINE_NAME, "$(touch PWNED)"))
    )


def test_unreadable_directory_is_an_error_not_empty() -> None:
    require_root()
    require_tools("setpriv")
    with tempfile.TemporaryDirectory(dir="/tmp") as where:  # pytest's tmp_path is root-only
        Path(where).chmod(0o755)
        locked = Path(where) / "sudoers.d"
        locked.mkdir(mode=0o750)
        (locked / "admins").write_text("x\n")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-s"]
        observed = run(nobody, state_for(locked), Path(where))
    listing = observed.directories.value[str(locked)]
    assert (listing.names, listing.error) == ((), "cannot list: Permission denied")


def test_a_cut_output_fails_the_section() -> None:
    state = state_for(Path("/etc"))
    script_output = f"::driftcheck:{NONCE}:begin:dir.0\ndir\nhosts\0".encode()
    observed = parse_output(CommandResult(0, script_output, b""), state, NONCE)
    assert observed.directories.outcome is Outcome.FAILED
