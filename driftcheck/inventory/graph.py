"""The inventory while it is being read: groups, hosts and the edges between them.

Mirrors the rules of Ansible's `InventoryData`/`Group`/`Host`: every inventory starts with
`all` and `ungrouped`; a host keeps the port of its first declaration; a group may not
become its own ancestor; after parsing, parentless groups join `all` and hosts in no group
join `ungrouped` (and leave it once they belong to a real group).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from driftcheck.model import VarsDict


class GraphError(ValueError):
    """A rule of the inventory broken; the parser adds file and line."""


@dataclass
class GroupNode:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: VarsDict = field(default_factory=dict)
    priority: int = 1


@dataclass
class HostNode:
    name: str
    vars: VarsDict = field(default_factory=dict)
    direct: list[str] = field(default_factory=list)  # groups it was put in by name


class Graph:
    def __init__(self) -> None:
        self.groups: dict[str, GroupNode] = {}
        self.hosts: dict[str, HostNode] = {}
        self.add_group("all")
        self.add_group("ungrouped")
        self.add_child("all", "ungrouped")

    def add_group(self, name: str) -> None:
        if not name:
            raise GraphError("empty group name")
        self.groups.setdefault(name, GroupNode(name))

    def add_host(self, name: str, group: str, port: int | None, source: str) -> None:
        if not name:
            raise GraphError("empty host name")
        if name not in self.hosts:
            host = self.hosts[name] = HostNode(name)
            if port is not None:
                host.vars["ansible_port"] = port
            host.vars["inventory_file"] = os.path.abspath(source)
            host.vars["inventory_dir"] = os.path.dirname(os.path.abspath(source))
        self._put_host(group, name)

    def _put_host(self, group: str, host: str) -> None:
        node = self.groups[group]
        if host not in node.hosts:
            node.hosts.append(host)
            self.hosts[host].direct.append(group)

    def add_child(self, parent: str, child: str) -> None:
        if parent == child:
            raise GraphError(f"group {child!r} cannot be a child of itself")
        if child in self.ancestors(parent):
            raise GraphError(
                f"adding group {child!r} as child to {parent!r} creates a dependency loop"
            )
        if child not in self.groups[parent].children:
            self.groups[parent].children.append(child)
        if parent not in self.groups[child].parents:
            self.groups[child].parents.append(parent)

    def set_group_var(self, group: str, key: str, value: Any) -> None:
        if key != "ansible_group_priority":
            self.groups[group].vars[key] = value
            return
        try:
            self.groups[group].priority = int(value)
        except (TypeError, ValueError):
            raise GraphError(f"ansible_group_priority must be an integer, got {value!r}") from None

    def ancestors(self, group: str) -> set[str]:
        found: set[str] = set()
        todo = list(self.groups[group].parents)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.groups[name].parents)
        return found

    def groups_of(self, host: str) -> set[str]:
        direct = self.hosts[host].direct
        return set(direct).union(*(self.ancestors(g) for g in direct))

    def reconcile(self) -> None:
        for group in list(self.groups.values()):
            if group.name != "all" and not group.parents:
                self.add_child("all", group.name)
        for name in self.hosts:
            mine = self.groups_of(name)
            if "ungrouped" in mine and mine - {"all", "ungrouped"}:
                self.groups["ungrouped"].hosts.remove(name)
                self.hosts[name].direct.remove("ungrouped")
            elif mine <= {"all"}:
                self._put_host("ungrouped", name)

    def depths(self) -> dict[str, int]:
        """Longest path from `all`, as Ansible's incremental depth ends up."""
        depth: dict[str, int] = {}
        for name in self._topological():
            parents = self.groups[name].parents
            depth[name] = max((depth[p] + 1 for p in parents), default=0)
        return depth

    def _topological(self) -> list[str]:
        order: list[str] = []
        done: set[str] = set()

        def visit(name: str) -> None:
            if name not in done:
                done.add(name)
                for parent in self.groups[name].parents:
                    visit(parent)
                order.append(name)

        for name in self.groups:
            visit(name)
        return order

    def hosts_in(self, groups: Iterable[str]) -> list[str]:
        return hosts_in(self.groups, groups)


class _Node(Protocol):
    @property
    def children(self) -> Sequence[str]: ...

    @property
    def hosts(self) -> Sequence[str]: ...


def descendants(groups: Mapping[str, _Node], group: str) -> list[str]:
    """Breadth first, children in declaration order (Ansible walks each level as a set)."""
    ordered = [group]
    seen = {group}
    level = [group]
    while level:
        level = [c for g in level for c in groups[g].children if c not in seen]
        level = list(dict.fromkeys(level))
        seen.update(level)
        ordered.extend(level)
    return ordered


def hosts_in(groups: Mapping[str, _Node], names: Iterable[str]) -> list[str]:
    """Hosts of these groups and their descendants, first appearance wins."""
    found: dict[str, None] = {}
    for name in names:
        for kid in descendants(groups, name):
            found.update(dict.fromkeys(groups[kid].hosts))
    return list(found)
