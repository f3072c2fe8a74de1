"""No consensus is not compliance: a peer group's splits, extra units, one machine under two
names, and the strongest evidence first, table-style over the pure functions.

Peer values are built by hand (values.py makes them from observed state; the lab test
tests/e2e/test_peer_splits.py takes them from real hosts).
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from driftcheck.fleet.majority import is_split
from driftcheck.fleet.peers import PeerInput, compare_peers, same_machines
from driftcheck.fleet.values import ABSENT, PeerValues, item, unit_in_use
from driftcheck.limits import MAX_SAME_AS
from driftcheck.model import Host, HostResult
from driftcheck.model.document import FindingEntry, HostEntry, peers_entry
from driftcheck.model.vocab import Status
from driftcheck.render.rank import same_machines as rank_same_machines
from driftcheck.render.rank import strongest_first, support
from driftcheck.render.text import SAME_SHOWN, same_machine_lines

DEPTHS = {"web": 1, "all": 0}


def pv(name: str, machine: str = "", declared: tuple[str, ...] = (), **values: str) -> PeerValues:
    """A host's values: `pkg_nginx="1.3"` is package nginx, `svc_x="enabled, active"` is
    service x.service."""
    found = {item("host", "os"): "Debian 12"}
    for key, value in values.items():
        kind, _, name_ = key.partition("_")
        if kind == "pkg":
            found[item("package", name_)] = value
        else:
            found[item("service", f"{name_.replace('_', '@')}.service")] = value
    return PeerValues(name, found, frozenset(item("package", d) for d in declared), machine=machine)


def compare(members: list[PeerValues], hosts: dict[str, Host] | None = None) -> Any:
    hosts = hosts or {}
    audits = [
        PeerInput(HostResult(hosts.get(v.host, Host(v.host, ("web",))), Status.UNCHECKED), v)
        for v in members
    ]
    return compare_peers(audits, DEPTHS)


def splits_of(members: list[PeerValues]) -> list[tuple[str, str, list[tuple[str, list[str]]]]]:
    return [
        (s["category"], s["item"], [(v["value"], v["hosts"]) for v in s["values"]])
        for s in compare(members).splits
    ]


SPLITS: dict[str, tuple[list[PeerValues], list[Any]]] = {
    "a 2-2 split": (
        [pv("a", pkg_x="1"), pv("b", pkg_x="1"), pv("c", pkg_x="2"), pv("d", pkg_x="2")],
        [("package", "x", [("1", ["a", "b"]), ("2", ["c", "d"])])],
    ),
    "three values, none above half, most hosts first": (
        [pv("e", pkg_x="2"), pv("a", pkg_x="1"), pv("b", pkg_x="3"), pv("c", pkg_x="1"),
         pv("d", pkg_x="2")],
        [("package", "x", [("1", ["a", "c"]), ("2", ["d", "e"]), ("3", ["b"])])],
    ),
    "installed on half, absent on half: absent is a value": (
        [pv("a", pkg_x="1"), pv("b", pkg_x="1"), pv("c"), pv("d")],
        [("package", "x", [("1", ["a", "b"]), (ABSENT, ["c", "d"])])],
    ),
    "every host a value of its own: per host by nature, no split": (
        [pv("a", pkg_x="1"), pv("b", pkg_x="2"), pv("c", pkg_x="3"), pv("d", pkg_x="4")],
        [],
    ),
    "a majority: findings, no split": (
        [pv("a", pkg_x="1"), pv("b", pkg_x="1"), pv("c", pkg_x="1"), pv("d", pkg_x="2")],
        [],
    ),
    "declared on every host: the declarations check it": (
        [pv(n, declared=("x",), pkg_x=v) for n, v in zip("abcd", "1122", strict=True)],
        [],
    ),
    "declared on some hosts only: still a split": (
        [pv("a", declared=("x",), pkg_x="1"), pv("b", pkg_x="1"), pv("c", pkg_x="2"),
         pv("d", pkg_x="2")],
        [("package", "x", [("1", ["a", "b"]), ("2", ["c", "d"])])],
    ),
    "a unit running on half the group": (
        [pv("a", svc_x="enabled, active"), pv("b", svc_x="enabled, active"), pv("c"), pv("d")],
        [("service", "x.service", [("enabled, active", ["a", "b"]), (ABSENT, ["c", "d"])])],
    ),
    "a unit merely present on half the group: its package says it": (
        [pv("a", svc_x="disabled, inactive"), pv("b", svc_x="disabled, inactive"), pv("c"),
         pv("d")],
        [],
    ),
    "a template's instances on half the group: per host by nature": (
        [pv("a", svc_user_0="static, active"), pv("b", svc_user_0="static, active"), pv("c"),
         pv("d")],
        [],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SPLITS, ids=list(SPLITS))
def test_splits(case: str) -> None:
    members, expected = SPLITS[case]
    assert splits_of(members) == expected


def test_a_split_is_reported_once_per_group_and_names_its_group() -> None:
    members = [pv("a", pkg_x="1"), pv("b", pkg_x="1"), pv("c", pkg_x="2"), pv("d", pkg_x="2")]
    outcome = compare(members)
    assert [(s["group"], s["item"]) for s in outcome.splits] == [("web", "x")]
    assert all(r.findings == () for r in outcome.results)  # no host is wrong on its own


IS_SPLIT = {
    # category, name, {value: hosts} -> a split?
    "conffile: edited alike on two hosts, shipped on two": (
        "file", "/etc/a.conf", {"md5:1": ["a", "b"], "md5:2": ["c", "d"]}, True,
    ),
    "conffile: on half the group only, alike: the package says it": (
        "file", "/etc/a.conf", {"md5:1": ["a", "b"], ABSENT: ["c", "d"]}, False,
    ),
    "conffile: each holder its own: per host": (
        "file", "/etc/a.conf", {"md5:1": ["a"], "md5:2": ["b"], ABSENT: ["c", "d"]}, False,
    ),
    "kernel: two and two": ("host", "kernel", {"6.1": ["a", "b"], "6.8": ["c", "d"]}, True),
    "one value only": ("package", "x", {"1": ["a", "b"]}, False),
}  # fmt: skip


@pytest.mark.parametrize("case", IS_SPLIT, ids=list(IS_SPLIT))
def test_is_split(case: str) -> None:
    category, name, held, expected = IS_SPLIT[case]
    assert is_split(item(category, name), held) is expected


def rows(outcome: Any) -> dict[str, list[tuple[str, str, str | None, str | None]]]:
    return {
        r.host.name: [(f.category, f.item, f.expected, f.actual) for f in r.findings]
        for r in outcome.results
    }


def test_an_extra_unit_enabled_or_running_is_a_finding_a_disabled_one_is_not() -> None:
    members = [
        pv("a"),
        pv("b"),
        pv("c"),
        pv("d", svc_miner="enabled, active"),
        pv("e", svc_leftover="disabled, inactive"),
        pv("f", svc_oneshot="static, activating"),
    ]
    assert rows(compare(members)) == {
        "a": [], "b": [], "c": [], "e": [],
        "d": [("service", "miner.service", "absent (5 of 6 in web)", "enabled, active")],
        "f": [("service", "oneshot.service", "absent (5 of 6 in web)", "static, activating")],
    }  # fmt: skip


def test_an_extra_instance_unit_is_per_host_by_nature() -> None:
    members = [pv("a"), pv("b"), pv("c", svc_user_1000="static, active")]
    assert rows(compare(members)) == {"a": [], "b": [], "c": []}


UNIT_USE = {
    "enabled, active": True,
    "enabled, inactive": True,
    "enabled-runtime, inactive": True,
    "disabled, active": True,
    "static, activating": True,
    "disabled, inactive": False,
    "static, inactive": False,
    "masked, inactive": False,
    "no unit file, failed": False,
}


@pytest.mark.parametrize("value", UNIT_USE)
def test_unit_in_use(value: str) -> None:
    assert unit_in_use(value) is UNIT_USE[value]


SAME = {
    "one address and port": (
        [("web01", "10.0.0.1:22", ""), ("web01-alias", "10.0.0.1:22", ""),
         ("web02", "10.0.0.2:22", "")],
        {"web01": ("web01", "web01-alias"), "web01-alias": ("web01", "web01-alias")},
    ),
    "one address, two ports: two machines": (
        [("a", "10.0.0.1:22", ""), ("b", "10.0.0.1:2222", "")],
        {},
    ),
    "one machine key, two addresses": (
        [("a", "10.0.0.1:22", "m1"), ("b", "192.168.0.1:22", "m1"), ("c", "10.0.0.3:22", "m2")],
        {"a": ("a", "b"), "b": ("a", "b")},
    ),
    "chained: address, then machine key": (
        [("c", "10.0.0.9:22", "m1"), ("a", "10.0.0.1:22", ""), ("b", "10.0.0.1:22", "m1")],
        {"a": ("c", "a", "b"), "b": ("c", "a", "b"), "c": ("c", "a", "b")},
    ),
    "unknown is nothing in common": ([("a", "", ""), ("b", "", "")], {}),
}  # fmt: skip


@pytest.mark.parametrize("case", SAME, ids=list(SAME))
def test_same_machines(case: str) -> None:
    hosts, expected = SAME[case]
    assert same_machines(hosts) == expected


def test_two_names_of_one_machine_vote_once_and_say_so() -> None:
    """web01 and its alias (one address and port) would make 1.3 a majority of 3 of 4; they
    are one machine, so 1.3 against 1.2 is 1 against 2 and the alias is not outvoting anyone."""
    address = {"ansible_host": "10.0.0.1"}
    hosts = {
        "web01": Host("web01", ("web",), address),
        "web01-alias": Host("web01-alias", ("web",), {**address, "ansible_port": 22}),
    }
    members = [pv("web01", pkg_x="1.3"), pv("web01-alias", pkg_x="1.3"), pv("web02", pkg_x="1.2"),
               pv("web03", pkg_x="1.2")]  # fmt: skip
    outcome = compare(members, hosts)
    assert rows(outcome) == {
        "web01": [("package", "x", "1.2 (2 of 3 in web)", "1.3")],
        "web01-alias": [("package", "x", "1.2 (2 of 3 in web)", "1.3")],
        "web02": [],
        "web03": [],
    }
    notes = {r.host.name: (r.peers.voters, r.peers.same_as) for r in outcome.results if r.peers}
    assert notes == {
        "web01": (3, ("web01-alias",)),
        "web01-alias": (3, ("web01",)),
        "web02": (3, ()),
        "web03": (3, ()),
    }


def test_two_names_with_one_machine_id_vote_once() -> None:
    members = [pv("a", "m1", pkg_x="1"), pv("a2", "m1", pkg_x="1"), pv("b", "m2", pkg_x="2"),
               pv("c", "m3", pkg_x="3")]  # fmt: skip
    outcome = compare(members)
    assert outcome.splits == []  # 1, 2 and 3 on one machine each: no two machines agree
    assert [r.peers.same_as if r.peers else None for r in outcome.results] == [
        ("a2",),
        ("a",),
        (),
        (),
    ]


def peer(item_: str, expected: str) -> FindingEntry:
    return {"target": "host", "category": "package", "item": item_, "kind": "peer",
            "expected": expected, "actual": "x", "detail": None}  # fmt: skip


RANKED = {
    "499 of 500 outranks 2 of 3": (
        [peer("a", "1 (2 of 3 in web)"), peer("b", "1 (499 of 500 in web)")], ["b", "a"],
    ),
    "400 of 500 outranks 7 of 8: a larger group is surer": (
        [peer("a", "1 (7 of 8 in web)"), peer("b", "1 (400 of 500 in web)")], ["b", "a"],
    ),
    "declared drift first, then peers strongest first": (
        [peer("p", "absent (2 of 3 in web)"),
         {**peer("d", "1.0"), "kind": "version"},
         peer("q", "1 (9 of 10 in web)")],
        ["d", "q", "p"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", RANKED, ids=list(RANKED))
def test_strongest_evidence_first(case: str) -> None:
    findings, order = RANKED[case]
    assert [f["item"] for f in strongest_first(cast(list[FindingEntry], findings))] == order


def test_support_is_read_from_expected_only_for_peer_findings() -> None:
    assert support(peer("a", "1.3.0 (7 of 8 in web)")) == (7, 8)
    assert support(peer("a", "v (a) (1 of 2 in web)")) == (1, 2)
    assert support({**peer("a", "1 (7 of 8 in web)"), "kind": "version"}) is None


def test_many_names_of_one_machine_list_a_bounded_few_and_count_the_rest() -> None:
    """5,000 inventory names of one machine (clones that kept one machine-id, boot id and host
    name) listed each other: 5,000 x 4,999 names in the report. Each lists MAX_SAME_AS."""
    names = [f"clone{i:03}" for i in range(60)]
    outcome = compare([pv(name, "m1", pkg_x="1") for name in names])
    notes = [r.peers for r in outcome.results if r.peers]
    assert len(notes) == len(names)
    assert all(len(note.same_as) == MAX_SAME_AS for note in notes)
    assert all(note.same_as_more == len(names) - 1 - MAX_SAME_AS for note in notes)
    assert notes[0].same_as[0] == "clone001"
    entry = peers_entry(notes[0])
    assert entry.get("same_as_more") == len(names) - 1 - MAX_SAME_AS


def test_many_names_of_one_machine_are_one_machine_in_the_reports() -> None:
    """Each name lists only MAX_SAME_AS others, yet the reports show one machine with all its
    names, not one machine per MAX_SAME_AS + 1 names."""
    names = [f"clone{i:03}" for i in range(60)]
    outcome = compare([pv(name, "m1", pkg_x="1") for name in names])
    entries = [
        cast(HostEntry, {"name": r.host.name, "peers": peers_entry(r.peers)})
        for r in reversed(outcome.results)  # the report's own order, whatever it is
        if r.peers
    ]
    machines = rank_same_machines(entries)
    assert [sorted(m) for m in machines] == [names]
    assert machines[0][0] == "clone059"  # in the report's order
    lines = list(same_machine_lines(entries))
    assert len(lines) == 3  # a blank line, the heading, one machine
    assert lines[2].endswith(f" (and {len(names) - SAME_SHOWN} more)")
    assert lines[2].count(" = ") == SAME_SHOWN - 1


def test_two_machines_of_several_names_stay_two() -> None:
    hosts = [("a1", "m1"), ("b1", "m2"), ("a2", "m1"), ("b2", "m2"), ("c", "m3")]
    outcome = compare([pv(name, machine, pkg_x="1") for name, machine in hosts])
    entries = [
        cast(HostEntry, {"name": r.host.name, "peers": peers_entry(r.peers)})
        for r in outcome.results
        if r.peers
    ]
    assert rank_same_machines(entries) == [["a1", "a2"], ["b1", "b2"]]
