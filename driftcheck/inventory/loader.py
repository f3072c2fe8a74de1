"""From a path to an `Inventory`: find the files, parse each, then merge variables as Ansible does.

A host's variables, lowest precedence first (Ansible's default VARIABLE_PRECEDENCE):
`all`'s inventory vars, its groups' inventory vars (sorted by depth, priority, name),
group_vars/all, its groups' group_vars (same order), its own inventory vars and the magic
variables, host_vars/HOST. Later wins, whole values replace (hash_behaviour=replace).
Several sources (repeated `-i`) are read in order into one graph; group_vars/ and host_vars/
are read beside each source, group by group in the order of the sources, as Ansible's
vars plugins do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from driftcheck.errors import InventoryError
from driftcheck.inventory.external import (
    is_plugin_config,
    is_script,
    names_a_plugin,
    parse_plugin_sources,
    parse_script,
)
from driftcheck.inventory.graph import Graph
from driftcheck.inventory.hostpattern import is_ip
from driftcheck.inventory.ini import decode_lines, parse_ini
from driftcheck.inventory.model import Group, Inventory
from driftcheck.inventory.programs import TIMEOUT
from driftcheck.inventory.scriptdata import is_script_output, parse_script_data
from driftcheck.inventory.varsfiles import VarsFiles
from driftcheck.inventory.vault import HEADER, Vault, open_file
from driftcheck.inventory.yamldata import load_data
from driftcheck.inventory.yamlinv import is_yaml_inventory, parse_yaml
from driftcheck.model import Host, VarsDict
from driftcheck.templating import HostVars

# Ansible skips these in an inventory directory (IGNORED_ALWAYS, REJECT_EXTS and
# INVENTORY_IGNORE_EXTS); states/, templates/ and *.j2 are driftcheck's declared state.
_SKIPPED_DIRS = frozenset({"group_vars", "host_vars", "vars_plugins", "states", "templates"})
_SKIPPED_ENDINGS = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst",
                    ".orig", ".cfg", ".retry", ".j2")  # fmt: skip
_YAML_EXTS = ("", ".yml", ".yaml", ".json")
LOCALHOST = ("127.0.0.1", "localhost", "::1")  # Ansible's C.LOCALHOST
Source = str | Path


def load_inventory(
    source: Source | Sequence[Source], vault: Vault | None = None, timeout: float = TIMEOUT
) -> Inventory:
    """`source`: one inventory, or several read in order into one, as Ansible's repeated `-i`
    (later files win for variables). `vault`: secrets to open vaulted values and files with;
    without, they stay opaque. `timeout`: seconds an inventory script or ansible-inventory may
    run."""
    paths = [Path(source)] if isinstance(source, (str, Path)) else [Path(s) for s in source]
    if not paths:
        raise InventoryError("-i", None, "no inventory given")
    for path in paths:
        if not path.exists():
            raise InventoryError(str(path), None, "inventory not found")
    files = [file for path in paths for file in inventory_files(path)]
    unread = {file for file in files if unread_plugin_config(file)}
    read = [file for file in files if file not in unread]
    graph = Graph()
    _parse(graph, paths, read, unread, vault=vault, timeout=timeout)
    if not graph.hosts:
        raise InventoryError(", ".join(map(str, paths)), None, "the inventory defines no hosts")
    graph.reconcile()
    roots = [str(path if path.is_dir() else path.parent) for path in paths]
    warnings = tuple(_skip_warning(file) for file in files if file in unread)
    return _assemble(graph, read, roots, vault, warnings)


def _parse(
    graph: Graph,
    paths: list[Path],
    read: list[str],
    unread: set[str],
    *,
    vault: Vault | None,
    timeout: float,
) -> None:
    """Each file here; or, when one is a plugin configuration, all of them by ansible-core."""
    if not any(is_plugin_config(file) for file in read):
        for file in read:
            parse_file(graph, file, vault, timeout)
        return
    names = {os.path.basename(file) for file in unread}
    _check_skippable(names, read)
    given = [str(path) for path in paths if str(path) not in unread]
    parse_plugin_sources(graph, given, vault, timeout, names)


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


def unread_plugin_config(path: str) -> bool:
    """A plugin configuration that none of Ansible's default inventory plugins reads: `auto`
    takes one only from .yml/.yaml, `yaml` refuses one, and it is no INI. Ansible warns and
    skips it (`plugin: constructed` in a .config file needs `enable_plugins`)."""
    if is_plugin_config(path) or path.endswith(".toml") or is_script(path):
        return False
    if not names_a_plugin(path):
        return False
    try:
        parse_ini(Graph(), path, decode_lines(_read(path, None), path))
    except InventoryError:
        return True
    return False


def _skip_warning(path: str) -> str:
    return (
        f"{path}: skipped, as Ansible skips it: an inventory plugin configuration that no "
        "enabled inventory plugin reads (Ansible's defaults enable host_list, script, auto, "
        "yaml, ini and toml; auto reads one only from a .yml or .yaml file)"
    )


def _check_skippable(names: set[str], read: list[str]) -> None:
    """ansible-inventory can be told to ignore names only, wherever they are."""
    for file in read:
        if os.path.basename(file) in names:
            raise InventoryError(
                file,
                None,
                "another file of this name is skipped, and ansible-inventory (run for the "
                "plugin configuration) can only skip both: rename one of them",
            )


def parse_file(
    graph: Graph, path: str, vault: Vault | None = None, timeout: float = TIMEOUT
) -> None:
    """A script runs; else YAML where Ansible's yaml plugin would try it, and INI otherwise
    or when the yaml plugin declines the file (INI content in a `.yml` file is INI)."""
    ext = os.path.splitext(path)[1]
    if ext == ".toml":
        raise InventoryError(path, None, "TOML inventories are not supported")
    if is_script(path):
        parse_script(graph, path, vault, timeout)
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


def _assemble(
    graph: Graph, files: list[str], roots: list[str], vault: Vault | None, warnings: tuple[str, ...]
) -> Inventory:
    """Variables files are read beside every source, in the order of the sources (a
    directory given twice is read twice, as Ansible does: the later wins)."""
    depths = graph.depths()
    found = {root: VarsFiles(root, vault) for root in roots}
    varsfiles = [found[root] for root in roots]
    groups = {name: _group(graph, name, depths[name], varsfiles) for name in graph.groups}
    hosts = {name: _host(graph, name, depths, varsfiles) for name in graph.hosts_in(["all"])}
    localhost = _localhost(graph, hosts, depths, varsfiles)
    sources = (*files, *(path for vf in found.values() for path in vf.read))
    inventory = Inventory(
        tuple(sources),
        Path(roots[0]),
        hosts,
        groups,
        declared=tuple(graph.hosts),
        localhost=localhost,
        warnings=warnings,
    )
    _share_fleet(inventory)
    return inventory


def _group(graph: Graph, name: str, depth: int, varsfiles: list[VarsFiles]) -> Group:
    node = graph.groups[name]
    merged: VarsDict = dict(node.vars)
    for vf in varsfiles:
        merged.update(vf.group(name))
    return Group(
        name=name,
        parents=tuple(node.parents),
        children=tuple(node.children),
        hosts=tuple(node.hosts),
        vars=merged,
        depth=depth,
        priority=node.priority,
    )


def _host(graph: Graph, name: str, depths: dict[str, int], varsfiles: list[VarsFiles]) -> Host:
    mine = graph.groups_of(name) - {"all"}
    ordered = sorted(mine, key=lambda g: (depths[g], graph.groups[g].priority, g))
    merged: VarsDict = dict(graph.groups["all"].vars)
    for group in ordered:
        merged.update(graph.groups[group].vars)
    for group in ("all", *ordered):
        for vf in varsfiles:
            merged.update(vf.group(group))
    merged.update(graph.hosts[name].vars)
    merged.update(magic_vars(name, mine))
    for vf in varsfiles:
        merged.update(vf.host(name))
    return Host(name=name, groups=tuple(ordered), vars=_host_vars(merged, varsfiles))


def _host_vars(merged: VarsDict, varsfiles: list[VarsFiles]) -> HostVars:
    where = str(merged.get("inventory_file") or varsfiles[0].root)
    # the vault's set of opened secrets, shared: complete once every host's files are read
    vault = varsfiles[0].vault
    return HostVars(merged, where, vault.opened if vault else ())


def _localhost(
    graph: Graph, hosts: dict[str, Host], depths: dict[str, int], varsfiles: list[VarsFiles]
) -> dict[str, Host]:
    """What `localhost`, `127.0.0.1` or `::1` selects when no host or group matches: the
    first such host declared, else Ansible's implicit localhost of that name. That one is in
    no group, not in `all`, and has `all`'s variables, its own host_vars and
    `ansible_connection: local` (its host variable, which only host_vars overrides)."""
    declared = next((name for name in graph.hosts if name in LOCALHOST), None)
    if declared is not None:
        return dict.fromkeys(LOCALHOST, hosts[declared])
    return {name: _implicit(graph, name, varsfiles) for name in LOCALHOST}


def _implicit(graph: Graph, name: str, varsfiles: list[VarsFiles]) -> Host:
    merged: VarsDict = dict(graph.groups["all"].vars)
    for vf in varsfiles:
        merged.update(vf.group("all"))
    merged["ansible_connection"] = "local"
    merged.update(magic_vars(name, set()))
    for vf in varsfiles:
        merged.update(vf.host(name))
    return Host(name=name, vars=_host_vars(merged, varsfiles))


def _share_fleet(inventory: Inventory) -> None:
    """An implicit localhost's templates see the inventory's `groups` and `hostvars` too."""
    fleet = next(
        (h.vars.fleet for h in inventory.hosts.values() if isinstance(h.vars, HostVars)), None
    )
    for host in inventory.localhost.values():
        if isinstance(host.vars, HostVars) and host.vars.fleet is None:
            host.vars.fleet = fleet


def magic_vars(name: str, groups: set[str]) -> dict[str, str | list[str]]:
    """The variables Ansible's Host.get_magic_vars adds (they override inventory host vars)."""
    return {
        "inventory_hostname": name,
        "inventory_hostname_short": name if is_ip(name) else name.split(".", maxsplit=1)[0],
        "group_names": sorted(groups),
    }
