"""The majority rule, table-style: a group's hosts -> exactly these peer findings.

Peer values are built by hand here: they are what values.py makes of observed state, which
the lab tests (tests/e2e/test_peers.py) take from real hosts.
"""

from __future__ import annotations

from typing import Any

import pytest

from driftcheck.fleet.peers import PeerInput, apply_peers, choose_group, with_peers
from driftcheck.fleet.values import PeerValues, item
from driftcheck.model import DeclaredState, Host, HostResult
from driftcheck.model.vocab import Status

FindingRow = tuple[str, str, str, str, str, str]


def pv(name: str, declared: tuple[tuple[str, str], ...] = (), **packages: str) -> PeerValues:
    values = {item("package", p.replace("_", "-")): v for p, v in packages.items()}
    values[item("host", "os")] = "Debian 12"
    return PeerValues(name, values, frozenset(item(*d) for d in declared))


def run(
    members: list[PeerValues],
    statuses: dict[str, Status] | None = None,
    groups: tuple[str, ...] = ("web",),
) -> dict[str, Any]:
    statuses = statuses or {}
    audits = [
        PeerInput(HostResult(Host(v.host, groups), statuses.get(v.host, Status.UNCHECKED)), v)
        for v in members
    ]
    results = apply_peers(audits, {"web": 1, "ungrouped": 1, "all": 0})
    return {
        r.host.name: (
            r.status.value,
            [(f.category, f.item, f.kind, f.expected, f.actual, r.host.name) for f in r.findings],
        )
        for r in results
    }


def findings(result: dict[str, Any]) -> list[FindingRow]:
    return sorted(row for _, rows in result.values() for row in rows)


CASES: dict[str, tuple[list[PeerValues], dict[str, Status], list[FindingRow]]] = {
    "one other version": (
        [pv("a", nginx="1.3"), pv("b", nginx="1.3"), pv("c", nginx="1.2")],
        {},
        [("package", "nginx", "peer", "1.3 (2 of 3 in web)", "1.2", "c")],
    ),
    "one extra package: absent is the majority": (
        [pv("a"), pv("b"), pv("c", telnetd="0.17")],
        {},
        [("package", "telnetd", "peer", "absent (2 of 3 in web)", "0.17", "c")],
    ),
    "one missing package": (
        [pv("a", curl="7"), pv("b", curl="7"), pv("c", curl="7"), pv("d")],
        {},
        [("package", "curl", "peer", "7 (3 of 4 in web)", "absent", "d")],
    ),
    "a tie is no majority": (
        [pv("a", nginx="1.3"), pv("b", nginx="1.3"), pv("c", nginx="1.2"), pv("d", nginx="1.2")],
        {},
        [],
    ),
    "half is not more than half, absent included": (
        [pv("a", nginx="1"), pv("b", nginx="1"), pv("c"), pv("d")],
        {},
        [],
    ),
    "three values, none above half": (
        [pv("a", x="1"), pv("b", x="2"), pv("c", x="3"), pv("d", x="1"), pv("e", x="2")],
        {},
        [],
    ),
    "unaudited hosts do not vote": (
        [
            pv("a", nginx="1.2"),
            pv("b", nginx="1.2"),
            pv("c", nginx="1.3"),
            pv("d", nginx="1.3"),
            pv("e", nginx="1.3"),
        ],
        {"a": Status.ERROR, "b": Status.UNREACHABLE},
        [],
    ),
    "declared state wins: never compared with peers": (
        [pv("a", nginx="1.3"), pv("b", nginx="1.3"), pv("c", (("package", "nginx"),), nginx="1.2")],
        {},
        [],
    ),
    "a declared host still votes": (
        [pv("a", (("package", "nginx"),), nginx="1.3"), pv("b", nginx="1.3"), pv("c", nginx="1.2")],
        {},
        [("package", "nginx", "peer", "1.3 (2 of 3 in web)", "1.2", "c")],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_majority(case: str) -> None:
    members, statuses, expected = CASES[case]
    assert findings(run(members, statuses)) == expected


def test_hosts_with_no_difference_are_compliant_and_drift_makes_a_snowflake() -> None:
    result = run([pv("a", nginx="1"), pv("b", nginx="1"), pv("c", nginx="2")])
    assert {name: status for name, (status, _) in result.items()} == {
        "a": "compliant",
        "b": "compliant",
        "c": "snowflake",
    }


def test_small_group_compares_nothing_and_stays_unchecked() -> None:
    result = run([pv("a", nginx="1"), pv("b", nginx="2")])
    assert result == {"a": ("unchecked", []), "b": ("unchecked", [])}


def test_unaudited_host_is_not_compared() -> None:
    members = [pv("a", x="1"), pv("b", x="1"), pv("c", x="1"), pv("d", x="2")]
    result = run(members, {"d": Status.ERROR})
    assert result["d"] == ("error", [])


def test_a_failed_category_is_unknown_and_does_not_vote() -> None:
    broken = PeerValues("c", {item("host", "os"): "Debian 12"}, failed={"package": "dpkg exited 2"})
    result = run([pv("a", x="1"), pv("b", x="1"), broken])
    status, rows = result["c"]
    assert status == "error"
    assert [(r[0], r[1], r[2]) for r in rows] == [("package", "*", "unknown")]
    assert result["a"] == ("compliant", [])  # 2 of 2 voters on packages


def host(name: str, *groups: str) -> Host:
    return Host(name, groups)


GROUP_CASES = {
    # host groups (Ansible order), audited hosts per group, depths, named -> chosen
    "deepest with 3": (("web", "web_eu"), {"web": 9, "web_eu": 3, "all": 12}, (), "web_eu"),
    "deeper too small": (("web", "web_eu"), {"web": 9, "web_eu": 2, "all": 12}, (), "web"),
    "tie by Ansible order": (("db", "web"), {"db": 3, "web": 3, "all": 6}, (), "db"),
    "all only when nothing else": (("ungrouped",), {"ungrouped": 2, "all": 5}, (), "all"),
    "ungrouped before all": (("ungrouped",), {"ungrouped": 3, "all": 5}, (), "ungrouped"),
    "nothing qualifies": (("web",), {"web": 2, "all": 2}, (), None),
    "named instead": (("web", "web_eu"), {"web": 9, "web_eu": 3, "all": 12}, ("web",), "web"),
    "named, not a member": (("web",), {"web": 9, "db": 3, "all": 12}, ("db",), None),
}
DEPTHS = {"all": 0, "ungrouped": 1, "web": 1, "db": 1, "web_eu": 2}


@pytest.mark.parametrize("case", GROUP_CASES, ids=list(GROUP_CASES))
def test_peer_group(case: str) -> None:
    groups, sizes, named, expected = GROUP_CASES[case]
    members = {g: [pv(f"{g}{i}") for i in range(n)] for g, n in sizes.items()}
    assert choose_group(host("h", *groups), members, DEPTHS, named) == expected


def test_with_peers_turns_modified_config_on_unless_the_state_says_otherwise() -> None:
    assert with_peers(DeclaredState(), True).modified_config == "report"
    assert with_peers(DeclaredState(), False).modified_config is None
    off = with_peers(DeclaredState(modified_config="ignore"), True)
    assert (off.peers, off.modified_config) == (True, "ignore")
    assert with_peers(DeclaredState(peers=False), True).peers is False
    assert with_peers(DeclaredState(peers=True), False).peers is True


def test_a_host_outside_the_named_groups_is_compared_with_nothing_and_told_why() -> None:
    members = [pv("a", x="1"), pv("b", x="1"), pv("c", x="2")]
    audits = [PeerInput(HostResult(Host(v.host, ("web",)), Status.UNCHECKED), v) for v in members]
    results = apply_peers(audits, {"web": 1, "db": 1, "all": 0}, named=("db",))
    assert {r.status for r in results} == {Status.UNCHECKED}
    assert all(r.findings == () for r in results)
    notes = {r.peers.reason if r.peers else "" for r in results}
    assert notes == {"in none of the --peer-group groups (db): compared with nothing"}
