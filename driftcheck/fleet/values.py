"""What a host shows its peers: one value per (category, item), from its observed state.

A value is a short string compared for equality only; "absent" is a value too (an item a host
does not have is not in its mapping, and counts as ABSENT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from driftcheck.model import ConfFile, DeclaredState, Observed, Outcome, Section, ServiceState

# One string per (category, item), "package\0nginx": a str caches its hash, a tuple does not,
# and every host's values are hashed once per comparison (see majority.py). No item holds NUL.
Item = str
ABSENT = "absent"
PEER_CATEGORIES = ("package", "file", "service", "host")  # what peers compare


@dataclass(frozen=True)
class PeerValues:
    """One audited host's values. `declared`: items its declared state names (checked against
    the declaration only); `judged`: whole categories its state judges (unexpected_packages);
    `failed`: categories whose collection failed on it, and why (an `unknown` for it);
    `unsupported`: categories its system has no tool for. In both it neither votes nor is
    compared."""

    host: str
    values: Mapping[Item, str]
    declared: frozenset[Item] = frozenset()
    judged: frozenset[str] = frozenset()
    failed: Mapping[str, str] = field(default_factory=dict)
    unsupported: frozenset[str] = frozenset()

    def takes_part(self, category: str) -> bool:
        return category not in self.failed and category not in self.unsupported


def peer_values(host: str, state: DeclaredState, observed: Observed) -> PeerValues:
    values: dict[Item, str] = {}
    sections: dict[str, Section[object]] = {
        "package": observed.packages,
        "service": observed.units,
        "file": observed.conffiles,
        "host": observed.facts,
    }
    if observed.packages.ok:
        for name, found in observed.packages.value.items():
            values[item("package", name)] = ", ".join(sorted({p.version for p in found}))
    if observed.units.ok:
        for unit, state_ in observed.units.value.items():
            values[item("service", unit)] = unit_value(state_)
    if observed.conffiles.ok:
        for path, conf in observed.conffiles.value.items():
            values[item("file", path)] = conffile_value(conf)
    if observed.facts.ok:
        values[item("host", "os")] = observed.facts.value.os
        values[item("host", "kernel")] = observed.facts.value.kernel
    failed = {c: s.reason for c, s in sections.items() if s.outcome is Outcome.FAILED}
    unsupported = frozenset(c for c, s in sections.items() if s.outcome is Outcome.UNSUPPORTED)
    return PeerValues(host, values, declared_items(state), _judged(state), failed, unsupported)


def item(category: str, name: str) -> Item:
    return f"{category}\0{name}"


def split_item(key: Item) -> tuple[str, str]:
    """(category, name)."""
    category, _, name = key.partition("\0")
    return category, name


def unit_value(unit: ServiceState) -> str:
    return f"{unit.unit_file_state or 'no unit file'}, {unit.active_state}"


def conffile_value(conf: ConfFile) -> str:
    if conf.error:
        return conf.error
    what = f"{conf.algorithm}:{conf.digest}" if conf.type == "file" else conf.type
    return f"{what} {conf.mode} {conf.owner}:{conf.group}"


def declared_items(state: DeclaredState) -> frozenset[Item]:
    return frozenset(
        [item("package", name) for name in state.packages]
        + [item("file", path) for path in state.files]
        + [item("service", unit) for unit in state.services]
    )


def _judged(state: DeclaredState) -> frozenset[str]:
    return frozenset({"package"} if state.unexpected_packages == "report" else set())
