"""The loaded inventory: frozen, ordered, ready for the later stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from driftcheck.model import Host, Vars


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
