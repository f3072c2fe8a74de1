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
from dataclasses import dataclass, field

from driftcheck.fleet.values import (
    ABSENT,
    PEER_CATEGORIES,
    Item,
    PeerValues,
    per_host_by_nature,
    split_item,
    unit_in_use,
)
from driftcheck.model.shared import Overlay

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
    # a shared base's differences from the majority, worked out once (differences)
    bases: dict[int, tuple[Mapping[Item, str], list[Item], list[Item]]] = field(
        default_factory=dict, compare=False, repr=False
    )


@dataclass(frozen=True)
class Difference:
    """One host's difference from its group's majority."""

    item: Item
    majority: Majority
    actual: str


def tally(group: str, members: Iterable[PeerValues]) -> Tally:
    """Hosts of one image share their values' base (model/shared.Overlay): the base's pairs are
    counted once with the number of hosts sharing it, then each host's own entries are counted
    and the base's that it replaces or lacks taken back."""
    pairs: Counter[tuple[Item, str]] = Counter()
    voters: Counter[str] = Counter()
    bases: dict[int, tuple[Mapping[Item, str], int]] = {}
    for member in members:
        taking = [c for c in PEER_CATEGORIES if member.takes_part(c)]
        voters.update(taking)
        values = member.values
        if len(taking) < len(PEER_CATEGORIES):
            pairs.update(p for p in values.items() if split_item(p[0])[0] in taking)
        elif isinstance(values, Overlay):
            base = values.base
            bases[id(base)] = (base, bases.get(id(base), (base, 0))[1] + 1)
            pairs.subtract((key, base[key]) for key in (*values.gone, *values.own) if key in base)
            pairs.update(values.own.items())
        else:
            pairs.update(values.items())
    for base, count in bases.values():
        pairs.update(dict.fromkeys(base.items(), count))
    return _majorities(group, dict(voters), pairs)


def _majorities(group: str, voters: Mapping[str, int], pairs: Counter[tuple[Item, str]]) -> Tally:
    best: dict[Item, tuple[str, int]] = {}
    holders: Counter[Item] = Counter()
    for (item, value), count in pairs.items():
        if count <= 0:
            continue  # a base's pair every host sharing it replaced
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
    values = host.values
    differing, missing = _differing(values, group)
    for item in differing:
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
    for item in missing:
        if _compared(host, item) and split_item(item)[0] not in NOT_WHEN_THE_HOST_LACKS_IT:
            yield Difference(item, group.present[item], ABSENT)


def _differing(values: Mapping[Item, str], group: Tally) -> tuple[list[Item], list[Item]]:
    """The items whose value is not the majority's, and the items with a majority the host
    lacks. For a host whose values are an Overlay, the base's are worked out once per group;
    the host's own entries and the base's names it lacks are all that is looked at again."""
    if not isinstance(values, Overlay):
        return _base_differing(values, group)[1:]
    base, own, gone = values.base, values.own, values.gone
    found = group.bases.get(id(base))
    if found is None or found[0] is not base:  # held in the entry: its id is not reused
        found = group.bases[id(base)] = _base_differing(base, group)
    _, base_differing, base_missing = found
    expected = group.expected.get
    differing = [key for key in base_differing if key not in own and key not in gone]
    differing += [key for key, value in own.items() if expected(key) != value]
    missing = [key for key in base_missing if key not in own]
    missing += [key for key in gone if key in group.present]
    return differing, missing


def _base_differing(
    values: Mapping[Item, str], group: Tally
) -> tuple[Mapping[Item, str], list[Item], list[Item]]:
    expected = group.expected.get
    differing = [key for key, value in values.items() if expected(key) != value]
    return values, differing, list(group.present.keys() - values.keys())


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
