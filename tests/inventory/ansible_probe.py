"""Asks ansible-core itself what `ansible-inventory --list` does not print.

Run with the interpreter that has ansible-core: `python ansible_probe.py SOURCE [PATTERN...]`.
Prints JSON: the order of the hosts of `all`, each host's groups in the order Ansible applies
group vars (`sort_groups`, without `all`), its magic variables, and the hosts each pattern selects.
"""

from __future__ import annotations

import json
import sys

from ansible.errors import AnsibleError  # type: ignore[import-untyped]  # ansible-core ships no types
from ansible.inventory.helpers import sort_groups  # type: ignore[import-untyped]
from ansible.inventory.manager import InventoryManager  # type: ignore[import-untyped]
from ansible.parsing.dataloader import DataLoader  # type: ignore[import-untyped]


def main(source: str, patterns: list[str]) -> None:
    inventory = InventoryManager(loader=DataLoader(), sources=[source])
    hosts = {
        host.name: {
            "groups": [g.name for g in sort_groups(host.get_groups()) if g.name != "all"],
            "magic": host.get_magic_vars(),
        }
        for host in inventory.get_hosts("all")
    }
    print(
        json.dumps(
            {
                "order": [host.name for host in inventory.get_hosts("all")],
                "hosts": hosts,
                "levels": _levels(inventory),
                "depths": {name: group.depth for name, group in inventory.groups.items()},
                "patterns": {pattern: _select(source, pattern) for pattern in patterns},
            }
        )
    )


def _levels(inventory: InventoryManager) -> dict[str, int]:
    """How many child edges below `all` Ansible's breadth-first walk first meets each host."""
    levels: dict[str, int] = {}
    level, depth, seen = [inventory.groups["all"]], 0, set()
    while level:
        for group in level:
            for host in group.hosts:
                levels.setdefault(host.name, depth)
        seen.update(level)
        level = [c for g in level for c in g.child_groups if c not in seen]
        depth += 1
    return levels


def _select(source: str, pattern: str) -> list[str] | str:
    """Each pattern on an inventory of its own: the implicit localhost, once made, would be
    what a later `localhost`, `127.0.0.1` or `::1` selects."""
    inventory = InventoryManager(loader=DataLoader(), sources=[source])
    try:
        return [host.name for host in inventory.get_hosts(pattern)]
    except AnsibleError:
        return "error"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
