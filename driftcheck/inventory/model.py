"""The loaded inventory: frozen, ordered, ready for the later stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from driftcheck.inventory.graph import hosts_in
from driftcheck.model import Host, Vars
from driftcheck.templating import link_fleet


@dataclass(frozen=True)
class Group:
    """A group as Ansible sees it once the inventory is read.

    `hosts` are the hosts put in this group directly (not via children); `vars` are the
    group's own variables: inventory vars, then its `group_vars/` file(s).
    """

    name: str
    parents: tuple[str, ...]
    children: tuple[str, ...]
    hosts: tuple[str, ...]
    vars: Vars
    depth: int
    priority: int


@dataclass(frozen=True)
class Inventory:
    sources: tuple[str, ...]  # inventory files read, then group_vars/host_vars files read
    root: Path  # the inventory's directory: a file's parent, or the directory given
    hosts: Mapping[str, Host]  # in Ansible's host order (that of the pattern `all`)
    groups: Mapping[str, Group]
    declared: tuple[str, ...] = ()  # host names in the order first declared (Ansible's dict)
    # `localhost`, `127.0.0.1`, `::1` -> the host such a pattern selects when it matches
    # nothing else: the first of them declared, else Ansible's implicit localhost
    localhost: Mapping[str, Host] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # what Ansible warns about and skips, as it does

    def __post_init__(self) -> None:
        # templates see the whole inventory, as in Ansible (`groups`, `hostvars`)
        link_fleet(self.hosts, self.groups, lambda group: hosts_in(self.groups, [group]))
