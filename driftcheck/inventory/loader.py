"""From a path to an `Inventory`: find the files, parse each, then merge variables as Ansible does.

A host's variables, lowest precedence first (Ansible's default VARIABLE_PRECEDENCE):
`all`'s inventory vars, its groups' inventory vars (sorted by depth, priority, name),
group_vars/all, its groups' group_vars (same order), its own inventory vars and the magic
variables, host_vars/HOST. Later wins, whole values replace (hash_behaviour=replace).
"""

from __future__ import annotations

import os
from pathlib import Path

from driftcheck.errors import InventoryError
from driftcheck.inventory.external import (
    is_plugin_config,
    is_script,
    parse_plugin_source,
    parse_script,
)
from driftcheck.inventory.graph import Graph
from driftcheck.inventory.hostpattern import is_ip
from driftcheck.inventory.ini import decode_lines, parse_ini
from driftcheck.inventory.model import Group, Inventory
from driftcheck.inventory.scriptdata import is_script_output, parse_script_data
from driftcheck.inventory.varsfiles import VarsFiles
from driftcheck.inventory.vault import HEADER, Vault, open_file
from driftcheck.inventory.yamldata import load_data
from driftcheck.inventory.yamlinv import is_yaml_inventory, parse_yaml
from driftcheck.model import Host, VarsDict
from driftcheck.templating import HostVars

# Ansible skips these in an inventory directory (IGNORED_ALWAYS, REJECT_EXTS and
# INVENTORY_IGNORE_EXTS); states/ and templates/ hold driftcheck's declared state.
_SKIPPED_DIRS = frozenset({"group_vars", "host_vars", "vars_plugins", "states", "templates"})
_SKIPPED_ENDINGS = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst",
                    ".orig", ".cfg", ".retry", ".j2")  # fmt: skip
_YAML_EXTS = ("", ".yml", ".yaml", ".json")


def load_inventory(source: str | Path, vault: Vault | None = None) -> Inventory:
    """`vault`: secrets to open vaulted values and files with; without, they stay opaque."""
    path = Path(source)
    if not path.exists():
        raise InventoryError(str(path), None, "inventory not found")
    files = inventory_files(path)
    graph = Graph()
    if any(is_plugin_config(file) for file in files):
        parse_plugin_source(graph, str(path), vault)
    else:
        for file in files:
            parse_file(graph, file, vault)
    if not graph.hosts:
        raise InventoryError(str(path), None, "the inventory defines no hosts")
    graph.reconcile()
    return _assemble(graph, files, path if path.is_dir() else path.parent, vault)


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


def parse_file(graph: Graph, path: str, vault: Vault | None = None) -> None:
    """A script runs; else YAML where Ansible's yaml plugin would try it, and INI otherwise
    or when the yaml plugin declines the file (INI content in a `.yml` file is INI)."""
    ext = os.path.splitext(path)[1]
    if ext == ".toml":
        raise InventoryError(path, None, "TOML inventories are not supported")
    if is_script(path):
        parse_script(graph, path, vault)
        return
    raw = _read(path, vault)
    declined = None
    if ext in _YAML_EXTS:
        declined = _parsed_as_yaml(graph, path, raw)
        if declined is None:
            return
    try:
        parse_ini(graph, path, decode_lines(raw, path))
    except InventoryError:
        if ext and declined is not None:  # a .yml/.yaml/.json file: the YAML error tells more
            raise declined from None
        raise


def _read(path: str, vault: Vault | None) -> bytes:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InventoryError(path, None, exc.strerror or str(exc)) from None
    if not raw.startswith(HEADER.encode()):
        return raw
    return open_file(raw.decode("ascii", "replace"), path, vault).encode("utf-8")


def _parsed_as_yaml(graph: Graph, path: str, raw: bytes) -> InventoryError | None:
    """None when parsed; else why Ansible's yaml plugin would decline the file."""
    try:
        data = load_data(raw.decode("utf-8"), path)
    except InventoryError as exc:
        return exc
    except UnicodeDecodeError:
        return _not_utf8(path)
    if is_script_output(data):
        parse_script_data(graph, path, data)
        return None
    if is_yaml_inventory(data):
        parse_yaml(graph, path, data)
        return None
    if isinstance(data, dict) and data.get("plugin"):  # one is_plugin_config could not see
        why = "inventory plugin configuration: Ansible reads one from a .yml/.yaml file"
        return InventoryError(path, 1, f"{why} (not vault-encrypted as a whole)")
    return InventoryError(path, 1, f"expected a mapping of groups, got {type(data).__name__}")


def _not_utf8(path: str) -> InventoryError:
    return InventoryError(path, None, "not UTF-8 text")


def _assemble(graph: Graph, files: list[str], root: Path, vault: Vault | None) -> Inventory:
    depths = graph.depths()
    varsfiles = VarsFiles(str(root), vault)
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
    merged: VarsDict = dict(graph.groups["all"].vars)
    for group in ordered:
        merged.update(graph.groups[group].vars)
    merged.update(varsfiles.group("all"))
    for group in ordered:
        merged.update(varsfiles.group(group))
    merged.update(graph.hosts[name].vars)
    merged.update(magic_vars(name, mine))
    merged.update(varsfiles.host(name))
    where = str(merged.get("inventory_file") or varsfiles.root)
    # the vault's set of opened secrets, shared: complete once every host's files are read
    opened = varsfiles.vault.opened if varsfiles.vault else ()
    return Host(name=name, groups=tuple(ordered), vars=HostVars(merged, where, opened))


def magic_vars(name: str, groups: set[str]) -> dict[str, str | list[str]]:
    """The variables Ansible's Host.get_magic_vars adds (they override inventory host vars)."""
    return {
        "inventory_hostname": name,
        "inventory_hostname_short": name if is_ip(name) else name.split(".", maxsplit=1)[0],
        "group_names": sorted(groups),
    }
