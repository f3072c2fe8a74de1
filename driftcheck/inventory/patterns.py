"""Ansible host patterns for `--limit`: `all`, names, globs, `~regex`, `a:b`, `a,b`, `&x`, `!x`.

Evaluated as `InventoryManager.get_hosts` does: plain patterns first (union, in order),
then every `&` (intersection), then every `!` (exclusion); only `&`/`!` means `all` first.
A pattern matching group names selects their hosts; a host is matched by name when no
group matched or the pattern is a glob or regex. `group[0]`, `group[1:3]` take a slice; an
index out of range is an error for the whole pattern, as in Ansible. `localhost`, `127.0.0.1`
and `::1` matching nothing select Ansible's implicit localhost, which `all` does not hold.
"""

from __future__ import annotations

import fnmatch
import re

from driftcheck.errors import UsageError
from driftcheck.inventory.graph import hosts_in
from driftcheck.inventory.hostpattern import split_port
from driftcheck.inventory.model import Inventory
from driftcheck.model import Host

_SUBSCRIPT = re.compile(r"(.+)\[(?:(-?\d+)|(\d+)[:-](\d*))\]")
_COLON_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")


def select_hosts(inventory: Inventory, pattern: str | None) -> list[Host]:
    selection = _Selection(inventory)
    names = selection.evaluate(split_pattern(pattern or "all"))
    if not names:
        raise UsageError(f"host pattern {pattern!r} matches no host in the inventory")
    return [inventory.hosts.get(name) or selection.localhost[name] for name in names]


def split_pattern(pattern: str) -> list[str]:
    """Commas separate; else a single address (IPv6, ranges) stays whole; else colons do."""
    if "," in pattern:
        parts = pattern.split(",")
    else:
        try:
            split_port(pattern)
            parts = [pattern]
        except ValueError:
            parts = _COLON_PARTS.findall(pattern)
    return [part.strip() for part in parts if part.strip()]


class _Selection:
    """One evaluation. `localhost`, `127.0.0.1` or `::1` matching nothing else selects the
    inventory's localhost (`Inventory.localhost`); the first one selected is then the one
    every other such pattern selects, as Ansible makes its implicit localhost once."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.localhost: dict[str, Host] = {}

    def evaluate(self, patterns: list[str]) -> list[str]:
        """`_evaluate_patterns`: a plain host name short-cuts only when written without & or !;
        `!db` where db is both a host and a group excludes the group's hosts, as Ansible does."""
        hosts = self.inventory.hosts
        plain = [p for p in patterns if p[0] not in "&!"]
        both = [p for p in patterns if p[0] == "&"]
        excluded = [p for p in patterns if p[0] == "!"]
        selected: dict[str, None] = {}
        for pattern in plain or ["all"]:
            found = [pattern] if pattern in hosts else self.match(pattern)
            selected.update(dict.fromkeys(found))
        for pattern in both:
            keep = set(self.match(pattern[1:]))
            selected = {name: None for name in selected if name in keep}
        for pattern in excluded:
            drop = set(self.match(pattern[1:]))
            selected = {name: None for name in selected if name not in drop}
        return list(selected)

    def match(self, pattern: str) -> list[str]:
        expr, subscript = _split_subscript(pattern)
        found = _enumerate(self.inventory, expr) or self._localhost(expr)
        if subscript is None or not found:
            return found
        start, end = subscript
        if not end:  # `[2:0]` is `[2]` in Ansible's _apply_subscript too
            if not -len(found) <= start < len(found):
                raise UsageError(f"no hosts matched the subscripted pattern {pattern!r}")
            return [found[start]]
        return found[start : (len(found) if end == -1 else end + 1)]

    def _localhost(self, pattern: str) -> list[str]:
        made = self.inventory.localhost.get(pattern)
        if made is None:
            return []
        first = next(iter(self.localhost.values()), made)
        self.localhost[first.name] = first
        return [first.name]


def _split_subscript(pattern: str) -> tuple[str, tuple[int, int | None] | None]:
    if pattern.startswith("~"):
        return pattern, None
    match = _SUBSCRIPT.fullmatch(pattern)
    if not match:
        return pattern, None
    expr, index, start, end = match.groups()
    if index is not None:
        return expr, (int(index), None)
    return expr, (int(start), int(end) if end else -1)


def _enumerate(inventory: Inventory, pattern: str) -> list[str]:
    """`_enumerate_matches`: matching groups' hosts one group after another (a host in two
    matching groups comes twice, and a subscript counts it twice), then matching hosts, both
    in declaration order."""
    regex = _compile(pattern)
    groups = [name for name in inventory.groups if regex.match(name)]
    found = [host for group in groups for host in hosts_in(inventory.groups, [group])]
    if not groups or pattern[0] == "~" or any(c in pattern for c in ".?*["):
        found.extend(name for name in inventory.declared if regex.match(name))
    return found


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        if pattern.startswith("~"):
            return re.compile(pattern[1:])
        return re.compile(fnmatch.translate(pattern))
    except re.error as exc:
        raise UsageError(f"invalid host pattern {pattern!r}: {exc}") from None
