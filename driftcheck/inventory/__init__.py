"""Ansible-compatible inventories: INI and YAML files, directories of them, group_vars/host_vars.

`load_inventory` gives every host the variables Ansible would give it and its groups in the
order Ansible applies group variables; `select_hosts` evaluates `--limit` patterns.
"""

from __future__ import annotations

from driftcheck.inventory.loader import load_inventory
from driftcheck.inventory.model import Group, Inventory
from driftcheck.inventory.patterns import select_hosts

__all__ = ["Group", "Inventory", "load_inventory", "select_hosts"]
