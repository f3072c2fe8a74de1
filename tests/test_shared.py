"""One copy of what hosts of one image share: an Overlay reads exactly as the mapping it
stands for, and a mapping too different from every base is kept whole."""

from __future__ import annotations

import pytest

from driftcheck.model.shared import Overlay, Sharing

IMAGE = {f"tree\0/etc/file{i}": f"file md5:{i:032x}" for i in range(400)}


def test_an_overlay_reads_as_the_mapping_it_stands_for() -> None:
    sharing: Sharing[str] = Sharing()
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
    sharing: Sharing[str] = Sharing()
    for n in range(Sharing.BASES + 2):
        other = {f"package\0p{n}-{i}": "1.0" for i in range(50)}
        kept = sharing.share(other)
        assert kept is other
    assert len(sharing._bases) == Sharing.BASES
