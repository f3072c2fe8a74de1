"""The majority rule, in linear time and memory.

A value is a group's majority for an item when more than half of the group's audited hosts
(those that take part in the item's category) hold it; "absent" counts as a value. With no
majority there is no finding on a host: the group itself is split (`splits`), unless every host
holds a value of its own (host keys, /etc/hostname: per host by nature).

Cost: one pass over every host's values counts (item, value) pairs per group (Counter.update
runs in C); one pass over the distinct pairs finds each item's majority; then one pass per host
over its own values, plus a set difference for the items it lacks. Nothing is quadratic: memory
is the hosts' own values plus one count per distinct (item, value) per group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from driftcheck.fleet.values import (
    ABSENT,
    PEER_CATEGORIES,
    Item,
    PeerValues,
    per_host_by_nature,
    split_item,
    unit_in_use,
)

# Where only what the majority has is compared: a config file only some hosts have comes with a
# package, and the package's own finding says so once. A unit too, unless it is enabled or
# running (`extra_counts`): a service started by hand is drift of its own.
ONLY_WHAT_THE_MAJORITY_HAS = frozenset({"service", "file"})
# Where the host's own absence is left to the package finding as well (its conffiles).
NOT_WHEN_THE_HOST_LACKS_IT = frozenset({"file"})


@dataclass(frozen=True)
class Majority:
    value: str
    count: int
    voters: int


@dataclass(frozen=True)
class Tally:
    """One group's majorities: `present` for items whose majority holds them, `absent` for
    items most of the group does not have (so that an extra item can be named)."""

    group: str
    voters: Mapping[str, int]  # category -> hosts that take part
    present: Mapping[Item, Majority]
    absent: Mapping[Item, Majority]
    expected: Mapping[Item, str]  # item -> the majority's value, for every present majority
    undecided: frozenset[Item] = frozenset()  # items no value (absent included) is a majority of


@dataclass(frozen=True)
class Difference:
    """One host's difference from its group's majority."""

    item: Item
    majority: Majority
    actual: str


def tally(group: str, members: Iterable[PeerValues]) -> Tally:
    pairs: Counter[tuple[Item, str]] = Counter()
    voters: Counter[str] = Counter()
    for member in members:
        taking = [c for c in PEER_CATEGORIES if member.takes_part(c)]
        voters.update(taking)
        if len(taking) == len(PEER_CATEGORIES):
            pairs.update(member.values.items())
        else:
            pairs.update(p for p in member.values.items() if split_item(p[0])[0] in taking)
    return _majorities(group, dict(voters), pairs)


def _majorities(group: str, voters: Mapping[str, int], pairs: Counter[tuple[Item, str]]) -> Tally:
    best: dict[Item, tuple[str, int]] = {}
    holders: Counter[Item] = Counter()
    for (item, value), count in pairs.items():
        holders[item] += count
        if count > best.get(item, ("", 0))[1]:
            best[item] = (value, count)
    present: dict[Item, Majority] = {}
    absent: dict[Item, Majority] = {}
    undecided: list[Item] = []
    for item, (value, count) in best.items():
        n = voters.get(split_item(item)[0], 0)
        if 2 * count > n:
            present[item] = Majority(value, count, n)
        elif 2 * (n - holders[item]) > n:
            absent[item] = Majority(ABSENT, n - holders[item], n)
        else:
            undecided.append(item)
    expected = {item: majority.value for item, majority in present.items()}
    return Tally(group, voters, present, absent, expected, frozenset(undecided))


def differences(host: PeerValues, group: Tally) -> Iterator[Difference]:
    """What differs from the majority on `host`, leaving out what its declared state names.
    One comprehension and one set difference find the few items that differ (this is the
    stage's hot loop: 2,000 items x 1,000 hosts); only those are looked at further."""
    expected, values = group.expected.get, host.values
    for item in [key for key, value in values.items() if expected(key) != value]:
        actual = values[item]
        if not _compared(host, item):
            continue
        majority = group.present.get(item)
        if majority is None:
            extra = group.absent.get(item)
            if extra is not None and extra_counts(item, actual):
                yield Difference(item, extra, actual)
        else:
            yield Difference(item, majority, actual)
    for item in group.present.keys() - host.values.keys():
        if _compared(host, item) and split_item(item)[0] not in NOT_WHEN_THE_HOST_LACKS_IT:
            yield Difference(item, group.present[item], ABSENT)


def _compared(host: PeerValues, item: Item) -> bool:
    category = split_item(item)[0]
    return item not in host.declared and category not in host.judged and host.takes_part(category)


def extra_counts(item: Item, value: str) -> bool:
    """Whether holding an item most of the group lacks is drift: a package, an OS; a unit
    enabled or running (not a template's instance: per host by nature); never a config file
    (its package's finding says it)."""
    category, name = split_item(item)
    if category == "service":
        return unit_in_use(value) and not per_host_by_nature(category, name)
    return category not in ONLY_WHAT_THE_MAJORITY_HAS


@dataclass(frozen=True)
class Split:
    """An item the group has no majority for, and the hosts holding each value (most hosts
    first, then by value, "absent" last; hosts sorted)."""

    item: Item
    values: tuple[tuple[str, tuple[str, ...]], ...]


def splits(group: Tally, members: Iterable[PeerValues]) -> Iterator[Split]:
    """The group's items with no majority that are drift in the group: at least two hosts
    share a value, and at least one host is compared on it (not declared there). An item every
    host holds a value of its own for is per host by nature, no split. One pass over the
    members for the undecided items only (usually none). Made as they are read: the caller
    keeps a bounded number (peers.group_splits)."""
    if not group.undecided:
        return iter(())
    held: dict[Item, dict[str, list[str]]] = {item: {} for item in group.undecided}
    compared: set[Item] = set()
    for member in members:
        for item, values in held.items():
            if not member.takes_part(split_item(item)[0]):
                continue
            values.setdefault(member.values.get(item, ABSENT), []).append(member.host)
            if item not in compared and _compared(member, item):
                compared.add(item)
    return (
        Split(item, _ordered(held[item])) for item in sorted(compared) if is_split(item, held[item])
    )


def is_split(item: Item, held: Mapping[str, Sequence[str]]) -> bool:
    """Two values or more, one of them held by two hosts or more. "absent" is a value like any
    other for packages and the OS; for a config file, never (its package says it); for a unit,
    when a host has it enabled or running and it is no template's instance."""
    category, name = split_item(item)
    present = [value for value in held if value != ABSENT]
    if category == "file":
        absent_counts = False
    elif category == "service":
        absent_counts = not per_host_by_nature(category, name) and any(map(unit_in_use, present))
    else:
        absent_counts = True
    counts = [len(hosts) for value, hosts in held.items() if value != ABSENT or absent_counts]
    return len(counts) >= 2 and max(counts) >= 2


def _ordered(held: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    rows = sorted(held.items(), key=lambda row: (-len(row[1]), row[0] == ABSENT, row[0]))
    return tuple((value, tuple(sorted(hosts))) for value, hosts in rows)
