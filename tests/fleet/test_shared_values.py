"""The fleet stage works out a shared base once (model/shared.Overlay): the majority, each
host's differences, the groups' splits and each host's surface must be exactly what the same
values give as plain dicts, for hosts that changed, added and lost entries, hosts on other
bases, hosts kept whole and hosts whose collection of a category failed."""

from __future__ import annotations

import random

from driftcheck.fleet.peers import PeerInput, compare_peers
from driftcheck.fleet.since import buckets, changed_since
from driftcheck.fleet.values import Item, PeerValues, item
from driftcheck.model import Host, HostResult
from driftcheck.model.shared import Overlay, Sharing, intern
from driftcheck.model.vocab import Status


def image(flavour: int) -> dict[Item, str]:
    values = {item("package", f"p{i}"): f"1.{i % 5}" for i in range(300)}
    values |= {item("tree", f"/etc/f{i}"): f"file md5:{i + flavour:032x} 0644" for i in range(200)}
    values |= {item("service", f"u{i}.service"): "enabled, active" for i in range(40)}
    values[item("host", "os")] = f"Debian {12 + flavour}"
    return values


def host_values(n: int, rng: random.Random) -> dict[Item, str]:
    values = image(n % 2)  # two images
    for _ in range(rng.randrange(6)):  # edits, additions, removals of its own
        what = rng.randrange(3)
        if what == 0:
            values[item("tree", f"/etc/f{rng.randrange(200)}")] = f"file md5:{n:032x} 0600"
        elif what == 1:
            values[item("package", f"extra{rng.randrange(4)}")] = "0.1"
        else:
            values.pop(item("package", f"p{rng.randrange(300)}"), None)
    if n % 7 == 0:  # several hosts split on one item
        values[item("package", "p1")] = f"9.{n % 3}"
    if n % 25 == 0:  # a host unlike every image
        values = {item("package", f"own{n}-{i}"): "1" for i in range(100)}
    return values


def fleet(shared: bool) -> list[PeerInput]:
    rng = random.Random(7)
    sharing: Sharing[str] = Sharing(intern)
    audits = []
    for n in range(120):
        values = host_values(n, rng)
        mapping = sharing.share(values) if shared else values
        failed = {"tree": "find exited 1"} if n % 11 == 0 else {}
        host = Host(f"h{n:03d}", (f"g{n % 3}",))
        peer = PeerValues(host.name, mapping, failed=failed)
        audits.append(PeerInput(HostResult(host, Status.COMPLIANT), peer))
    return audits


def test_shared_values_give_the_same_findings_splits_and_surfaces_as_plain_dicts() -> None:
    plain, shared = fleet(shared=False), fleet(shared=True)
    overlays = sum(isinstance(a.values.values, Overlay) for a in shared if a.values is not None)
    assert overlays > 100  # the shared path is the one taken
    depths = {"g0": 1, "g1": 1, "g2": 1}
    expected, got = compare_peers(plain, depths), compare_peers(shared, depths)
    assert got.results == expected.results
    assert got.splits == expected.splits
    assert sum(len(r.findings) for r in got.results) > 100  # there was drift to find
    since_plain = changed_since(expected.results, [a.values for a in plain], {})
    since_shared = changed_since(got.results, [a.values for a in shared], {})
    for name, snapshot in since_plain.snapshots.items():
        other = since_shared.snapshots[name]
        assert other.surface == snapshot.surface
        assert not snapshot.cut  # a whole host's cut is not kept: it would copy its values
        if isinstance(other.values, Overlay):  # an Overlay's is, as the values cut alike
            assert [dict(part) for part in other.cut] == [
                dict(part) for part in buckets(snapshot.values)
            ]
