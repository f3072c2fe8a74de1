"""From a path to an `Inventory`: find the files, parse each, then merge variables as Ansible does.

A host's variables, lowest precedence first (Ansible's default VARIABLE_PRECEDENCE):
`all`'s inventory vars, its groups' inventory vars (sorted by depth, priority, name),
group_vars/all, its groups' group_vars (same order), its own inventory vars and the magic
variables, host_vars/HOST. Later wins, whole values replace (hash_behaviour=replace).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.inventory.graph import Graph
from driftcheck.inventory.hostpattern import is_ip
from driftcheck.inventory.ini import decode_lines, parse_ini
from driftcheck.inventory.model import Group, Inventory
from driftcheck.inventory.varsfiles import VarsFiles
from driftcheck.inventory.yamldata import load_data
from driftcheck.inventory.yamlinv import is_yaml_inventory, parse_yaml
from driftcheck.models import Host

# Ansible skips these in an inventory directory (IGNORED_ALWAYS, REJECT_EXTS and
# INVENTORY_IGNORE_EXTS); states/ and templates/ hold driftcheck's declared state.
_SKIPPED_DIRS = frozenset({"group_vars", "host_vars", "vars_plugins", "states", "templates"})
_SKIPPED_ENDINGS = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst",
                    ".orig", ".cfg", ".retry", ".j2")  # fmt: skip
_YAML_EXTS = ("", ".yml", ".yaml", ".json")


def load_inventory(source: str | Path) -> Inventory:
    path = Path(source)
    if not path.exists():
        raise InventoryError(str(path), None, "inventory not found")
    files = inventory_files(path)
    graph = Graph()
    for file in files:
        parse_file(graph, file)
    if not graph.hosts:
        raise InventoryError(str(path), None, "the inventory defines no hosts")
    graph.reconcile()
    return _assemble(graph, files, path if path.is_dir() else path.parent)


def inventory_files(path: Path) -> list[str]:
    """The file itself, or every inventory file under a directory in Ansible's order."""
    if not path.is_dir():
        return [str(path)]
    found: list[str] = []
    for name in sorted(os.listdir(path)):
        if not _skipped(name):
            found.extend(inventory_files(path / name))
    return found


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in _SKIPPED_DIRS or name.endswith(_SKIPPED_ENDINGS)


def parse_file(graph: Graph, path: str) -> None:
    """Try YAML where Ansible's yaml plugin would, and INI otherwise or if YAML does not fit."""
    ext = os.path.splitext(path)[1]
    if ext == ".toml":
        raise InventoryError(path, None, "TOML inventories are not supported")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InventoryError(path, None, exc.strerror or str(exc)) from None
    if ext in _YAML_EXTS and _parsed_as_yaml(graph, path, raw, ext):
        return
    parse_ini(graph, path, decode_lines(raw, path))


def _parsed_as_yaml(graph: Graph, path: str, raw: bytes, ext: str) -> bool:
    try:
        data = load_data(raw.decode("utf-8"), path)
    except (InventoryError, UnicodeDecodeError) as exc:
        if ext:  # a .yml/.yaml/.json file: the YAML error is the one to show
            raise exc if isinstance(exc, InventoryError) else _not_utf8(path) from None
        return False
    if isinstance(data, dict) and data.get("plugin"):
        raise InventoryError(path, 1, "inventory plugin configurations are not supported")
    if is_yaml_inventory(data):
        parse_yaml(graph, path, data)
        return True
    if ext and data:
        raise InventoryError(path, 1, f"expected a mapping of groups, got {type(data).__name__}")
    return False


def _not_utf8(path: str) -> InventoryError:
    return InventoryError(path, None, "not UTF-8 text")


def _assemble(graph: Graph, files: list[str], root: Path) -> Inventory:
    depths = graph.depths()
    varsfiles = VarsFiles(str(root))
    groups = {name: _group(graph, name, depths[name], varsfiles) for name in graph.groups}
    hosts = {name: _host(graph, name, depths, varsfiles) for name in graph.hosts_in(["all"])}
    sources = (*files, *varsfiles.read)
    return Inventory(sources, root, hosts, groups, declared=tuple(graph.hosts))


def _group(graph: Graph, name: str, depth: int, varsfiles: VarsFiles) -> Group:
    node = graph.groups[name]
    return Group(
        name=name,
        parents=tuple(node.parents),
        children=tuple(node.children),
        hosts=tuple(node.hosts),
        vars={**node.vars, **varsfiles.group(name)},
        depth=depth,
        priority=node.priority,
    )


def _host(graph: Graph, name: str, depths: dict[str, int], varsfiles: VarsFiles) -> Host:
    mine = graph.groups_of(name) - {"all"}
    ordered = sorted(mine, key=lambda g: (depths[g], graph.groups[g].priority, g))
    merged: dict[str, Any] = dict(graph.groups["all"].vars)
    for group in ordered:
        merged.update(graph.groups[group].vars)
    merged.update(varsfiles.group("all"))
    for group in ordered:
        merged.update(varsfiles.group(group))
    merged.update(graph.hosts[name].vars)
    merged.update(magic_vars(name, mine))
    merged.update(varsfiles.host(name))
    return Host(name=name, groups=tuple(ordered), vars=merged)


def magic_vars(name: str, groups: set[str]) -> dict[str, Any]:
    """The variables Ansible's Host.get_magic_vars adds (they override inventory host vars)."""
    return {
        "inventory_hostname": name,
        "inventory_hostname_short": name if is_ip(name) else name.split(".", maxsplit=1)[0],
        "group_names": sorted(groups),
    }
