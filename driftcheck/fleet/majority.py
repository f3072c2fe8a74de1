"""The majority rule, in linear time and memory.

A value is a group's majority for an item when more than half of the group's audited hosts
(those that take part in the item's category) hold it; "absent" counts as a value. With no
majority there is no finding.

Cost: one pass over every host's values counts (item, value) pairs per group (Counter.update
runs in C); one pass over the distinct pairs finds each item's majority; then one pass per host
over its own values, plus a set difference for the items it lacks. Nothing is quadratic: memory
is the hosts' own values plus one count per distinct (item, value) per group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from driftcheck.fleet.values import ABSENT, PEER_CATEGORIES, Item, PeerValues, split_item

# Where only what the majority has is compared: a unit or config file only some hosts have
# comes with a package, and the package's own finding says so once.
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
    for item, (value, count) in best.items():
        n = voters.get(split_item(item)[0], 0)
        if 2 * count > n:
            present[item] = Majority(value, count, n)
        elif 2 * (n - holders[item]) > n:
            absent[item] = Majority(ABSENT, n - holders[item], n)
    expected = {item: majority.value for item, majority in present.items()}
    return Tally(group, voters, present, absent, expected)


def differences(host: PeerValues, group: Tally) -> Iterator[Difference]:
    """What differs from the majority on `host`, leaving out what its declared state names.
    One comprehension and one set difference find the few items that differ (this is the
    stage's hot loop: 2,000 items x 1,000 hosts); only those are looked at further."""
    expected, values = group.expected.get, host.values
    for item in [key for key, value in values.items() if expected(key) != value]:
        actual = values[item]
        category = split_item(item)[0]
        if not _compared(host, item):
            continue
        majority = group.present.get(item)
        if majority is None:
            extra = group.absent.get(item)
            if extra is not None and category not in ONLY_WHAT_THE_MAJORITY_HAS:
                yield Difference(item, extra, actual)
        else:
            yield Difference(item, majority, actual)
    for item in group.present.keys() - host.values.keys():
        if _compared(host, item) and split_item(item)[0] not in NOT_WHEN_THE_HOST_LACKS_IT:
            yield Difference(item, group.present[item], ABSENT)


def _compared(host: PeerValues, item: Item) -> bool:
    category = split_item(item)[0]
    return item not in host.declared and category not in host.judged and host.takes_part(category)
