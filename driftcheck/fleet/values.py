"""What a host shows its peers: one value per (category, item), from its observed state.

A value is a short string compared for equality only; "absent" is a value too (an item a host
does not have is not in its mapping, and counts as ABSENT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from driftcheck.model import (
    ConfFile,
    ConfigTrees,
    DeclaredState,
    HostFacts,
    Observed,
    Outcome,
    Section,
    ServiceState,
)
from driftcheck.model.shared import Sharing, intern

# One string per (category, item), "package\0nginx": a str caches its hash, a tuple does not,
# and every host's values are hashed once per comparison (see majority.py). No item holds NUL.
Item = str
ABSENT = "absent"
PEER_CATEGORIES = ("package", "file", "service", "host", "tree", "key")  # what peers compare
# A config tree's entries and authorized keys are files to the reader: their findings say so.
SHOWN_AS = {"tree": "file", "key": "file"}
ODD_NAMES = "(names holding a newline)"
_SHARING: Sharing[str] = Sharing(intern)


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
    machine: str = ""  # which machine it is (machine_key): two names of one machine vote once
    size: int = field(default=0, compare=False)  # characters in its names and values (text_size)

    def takes_part(self, category: str) -> bool:
        return category not in self.failed and category not in self.unsupported


def peer_values(host: str, state: DeclaredState, observed: Observed) -> PeerValues:
    values: dict[Item, str] = {}
    sections: dict[str, Section[object]] = {
        "package": observed.packages,
        "service": observed.units,
        "file": observed.conffiles,
        "host": observed.facts,
        "tree": observed.trees,
        "key": observed.trees,
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
    if observed.trees.ok:
        values.update(tree_values(observed.trees.value, observed.conffiles))
    if observed.facts.ok:
        values[item("host", "os")] = observed.facts.value.os
        values[item("host", "kernel")] = observed.facts.value.kernel
    failed = {c: s.reason for c, s in sections.items() if s.outcome is Outcome.FAILED}
    unsupported = frozenset(c for c, s in sections.items() if s.outcome is Outcome.UNSUPPORTED)
    machine = machine_key(observed.facts.value) if observed.facts.ok else ""
    # kept until the fleet stage for every host: one copy of what hosts of an image share
    shared = _SHARING.share(values)
    size = text_size(values)  # of the dict: counting through an Overlay costs 10x
    return PeerValues(
        host, shared, declared_items(state, values), _judged(state), failed, unsupported, machine,
        size,
    )  # fmt: skip


def text_size(values: Mapping[str, str]) -> int:
    return sum(map(len, values.keys())) + sum(map(len, values.values()))


def machine_key(facts: HostFacts) -> str:
    """The machine as it is now: its machine-id, this boot's id and the kernel's host name, or
    "" when one is unknown. The machine-id alone is not enough: clones of an image that kept
    its machine-id share one (a known fault), and containers of one image share the kernel's
    boot id; the three together are one machine, one boot."""
    parts = (facts.machine_id, facts.boot_id, facts.hostname)
    return "\0".join(parts) if all(parts) else ""


def item(category: str, name: str) -> Item:
    return f"{category}\0{name}"


def split_item(key: Item) -> tuple[str, str]:
    """(category, name)."""
    category, _, name = key.partition("\0")
    return category, name


def unit_value(unit: ServiceState) -> str:
    return f"{unit.unit_file_state or 'no unit file'}, {unit.active_state}"


_ENABLED = frozenset({"enabled", "enabled-runtime"})
_RUNNING = frozenset({"active", "activating", "reloading", "deactivating"})


def unit_in_use(value: str) -> bool:
    """Whether a unit_value is enabled or running: a unit only this host has is drift then;
    one merely present (disabled, static, inactive) is left to its package."""
    enablement, _, active = value.rpartition(", ")
    return enablement in _ENABLED or active in _RUNNING


def per_host_by_nature(category: str, name: str) -> bool:
    """Items whose presence differs from host to host by nature, so that their absence
    elsewhere is no drift: a template's instances (systemd-fsck@<disk>, user@<uid>,
    ifup@<interface>, a socket's per-connection sshd@...) name a host's own disks, users,
    interfaces and connections."""
    return category == "service" and "@" in name


def conffile_value(conf: ConfFile) -> str:
    if conf.error:
        return conf.error
    what = f"{conf.algorithm}:{conf.digest}" if conf.type == "file" else conf.type
    return f"{what} {conf.mode} {conf.owner}:{conf.group}"


def tree_values(trees: ConfigTrees, conffiles: Section[Mapping[str, ConfFile]]) -> dict[Item, str]:
    """Each tree entry but the package config files (their own item says more: what the package
    shipped), and each authorized key as an item of its own, so that a key added is named."""
    known = conffiles.value if conffiles.ok else {}
    values = {item("tree", p): e.value() for p, e in trees.entries.items() if p not in known}
    for path, keys in trees.keys.items():
        values.update((item("key", f"{path}: {key.describe()}"), "present") for key in keys)
    if trees.odd_names:  # left out of the listing: no name may forge an entry, but it counts
        values[item("tree", ODD_NAMES)] = f"{trees.odd_names} entries"
    return values


def declared_items(state: DeclaredState, values: Mapping[Item, str]) -> frozenset[Item]:
    """The items the state names, checked against the declaration only: its packages, files and
    units, and among the host's config-tree items (`values`) the declared files, what is in a
    declared directory, and the keys of a declared file."""
    named = (
        [item("package", name) for name in state.packages]
        + [item("file", path) for path in state.files]
        + [item("service", unit) for unit in state.services]
    )
    return frozenset(named + _declared_tree_items(state, values))


_TREE, _KEY = item("tree", ""), item("key", "")


def _declared_tree_items(state: DeclaredState, values: Mapping[Item, str]) -> list[Item]:
    """Looked up where they can be (a declared file or directory is one item); only a declared
    directory's entries and the keys need a pass over the values."""
    found = [
        k for path in (*state.files, *state.directories) if (k := item("tree", path)) in values
    ]
    if state.directories:
        found += [
            key
            for key in values
            if key.startswith(_TREE) and key[len(_TREE) :].rpartition("/")[0] in state.directories
        ]
    if state.files:
        found += [
            key
            for key in values
            if key.startswith(_KEY) and key[len(_KEY) :].partition(": ")[0] in state.files
        ]
    return found


def _judged(state: DeclaredState) -> frozenset[str]:
    return frozenset({"package"} if state.unexpected_packages == "report" else set())
