"""Parsers bound the work a hostile host's output can cause, not only its bytes.

A section of tiny lines or separators would otherwise become one Python object each: 64 MB of
blank lines was 32 million objects (over 1 GB) before anything noticed it was garbage. Fast.
"""

from __future__ import annotations

import time

import pytest

from driftcheck.collectors.containers import parse_inspect
from driftcheck.collectors.facts import parse_os_release
from driftcheck.collectors.files import parse_file
from driftcheck.collectors.packages import parse_dpkg
from driftcheck.collectors.procs import parse_proc_lines, parse_procstat
from driftcheck.collectors.sections import ParseError, lines
from driftcheck.collectors.services import parse_systemctl_show, split_blocks
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_PROCESSES


def test_lines_stream_and_stop_at_the_limit() -> None:
    assert list(lines(b"a\r\nb\n\nc", 4, "x")) == ["a", "b", "", "c"]
    with pytest.raises(LimitError, match="x: more than 3 lines"):
        list(lines(b"a\nb\nc\nd\n", 3, "x"))


def test_blank_blocks_do_not_become_millions_of_objects() -> None:
    started = time.monotonic()
    assert split_blocks(b"\n\n" * 5_000_000, limit=2) == []  # one run of separators
    with pytest.raises(LimitError, match="more than 18 blocks"):
        split_blocks(b"\n\n \n\n" * 5_000_000, limit=2)
    assert len(split_blocks(b"A=1\n\n" * 5_000_000, limit=2)) == 3  # one too many: enough
    assert time.monotonic() - started < 5


def test_split_blocks_keeps_systemctl_blocks_in_order() -> None:
    raw = b"Id=a\nLoadState=loaded\r\n\r\nId=b\nLoadState=loaded\n\n\n"
    assert split_blocks(raw, limit=2) == [b"Id=a\nLoadState=loaded", b"Id=b\nLoadState=loaded"]


def test_one_unit_block_of_endless_properties_is_a_limit() -> None:
    with pytest.raises(LimitError, match="systemctl show block"):
        parse_systemctl_show(b"LoadState=loaded\nActiveState=active\n" + b"X=y\n" * 1000, "a")


def test_file_section_head_of_endless_lines_is_a_limit() -> None:
    head = b"stat 81a4 0 0 5 root root\n" + b"sha256 " + b"0" * 64 + b"\n" * 1000
    with pytest.raises(LimitError, match="file section"):
        parse_file(head, "/etc/x")


def test_os_release_of_endless_lines_is_a_limit() -> None:
    assert parse_os_release(b"ID=debian\nVERSION_ID=12\n") == {"ID": "debian", "VERSION_ID": "12"}
    with pytest.raises(LimitError, match="os-release"):
        parse_os_release(b"A=b\n" * 100_000)


def test_inspect_json_is_counted_before_it_is_built() -> None:
    """[{},{},...] of 6 MB would be two million dicts (~500 MB) before a record is checked."""
    raw = b"[" + b"{}," * 2_000_000 + b"{}]"
    started = time.monotonic()
    with pytest.raises(LimitError, match="more than 2,000,000 JSON values"):
        parse_inspect(raw, "podman")
    assert time.monotonic() - started < 1


def test_process_table_past_the_limit() -> None:
    record = b"%d (sh) S 1" + b" 0" * 40 + b"\n"
    ok = b"".join(record % pid for pid in range(1, 1001))
    assert len(parse_procstat(ok)) == 1000
    too_many = b"".join(record % pid for pid in range(1, MAX_PROCESSES + 2))
    with pytest.raises(LimitError, match="processes"):
        parse_procstat(too_many)
    cut = b"".join(b"%d (sh) S 1\n" % pid for pid in range(1, MAX_PROCESSES + 2))
    assert len(parse_proc_lines(cut[: cut.index(b"\n1001 (")])) == 1000
    with pytest.raises(LimitError, match="processes"):
        parse_proc_lines(cut)


def test_dpkg_without_the_abbreviated_status_is_a_parse_error_that_says_so() -> None:
    """dpkg older than 1.16.2 prints an empty field for db:Status-Abbrev."""
    with pytest.raises(ParseError, match=r"needs dpkg 1\.16\.2"):
        parse_dpkg(b"\tbash\t5.2.15-2+b8\tamd64\n")
