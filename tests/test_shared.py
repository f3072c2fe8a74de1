"""One copy of what hosts of one image share: an Overlay reads exactly as the mapping it
stands for, and a mapping too different from every base is kept whole."""

from __future__ import annotations

import pytest

from driftcheck.model.shared import Memo, Overlay, Sharing, intern

IMAGE = {f"tree\0/etc/file{i}": f"file md5:{i:032x}" for i in range(400)}


def test_an_overlay_reads_as_the_mapping_it_stands_for() -> None:
    sharing: Sharing[str] = Sharing(intern)
    assert sharing.share(dict(IMAGE)) == IMAGE  # the first is a base, kept whole
    host = dict(IMAGE)
    host["tree\0/etc/hostname"] = "file md5:web02"  # its own
    host["tree\0/etc/file3"] = "file md5:edited"  # differs
    del host["tree\0/etc/file7"]  # gone
    shared = sharing.share(dict(host))
    assert isinstance(shared, Overlay)
    assert dict(shared) == host
    assert dict(shared.items()) == host
    assert len(shared) == len(host)
    assert shared.keys() == host.keys()
    assert shared["tree\0/etc/file3"] == "file md5:edited"
    assert shared.get("tree\0/etc/file7") is None
    assert "tree\0/etc/file7" not in shared
    with pytest.raises(KeyError):
        shared["tree\0/etc/file7"]
    assert IMAGE.keys() - shared.keys() == {"tree\0/etc/file7"}


def test_a_mapping_unlike_every_base_is_kept_whole_and_bases_are_bounded() -> None:
    sharing: Sharing[str] = Sharing(intern)
    for n in range(Sharing.BASES + 2):
        other = {f"package\0p{n}-{i}": "1.0" for i in range(50)}
        kept = sharing.share(other)
        assert kept == other
        assert not isinstance(kept, Overlay)
        assert all(name is intern(name) for name in kept)  # what is kept is interned
    assert len(sharing._bases) == Sharing.BASES


def test_a_memo_parses_each_argument_once_and_starts_over_past_its_size() -> None:
    calls: list[str] = []

    def parse(line: str) -> tuple[str, ...]:
        calls.append(line)
        return tuple(line.split())

    memo = Memo(parse, size=3)
    first = memo("a b")
    assert memo("a b") is first  # one record for every equal line
    assert calls == ["a b"]
    for line in ("c", "d", "e"):
        memo(line)
    assert memo("a b") == first
    assert calls[-1] == "a b"  # started over: parsed again


def test_a_memo_keeps_no_failure() -> None:
    seen = []

    def parse(line: str) -> int:
        seen.append(line)
        return int(line)

    memo = Memo(parse)
    for _ in range(2):
        with pytest.raises(ValueError):
            memo("x")
    assert seen == ["x", "x"]
