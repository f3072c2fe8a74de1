"""The JSON of Ansible's script protocol, which `ansible-inventory --list` prints too.

`{"group": {"hosts": [...], "vars": {...}, "children": [...]}, "_meta": {"hostvars": {...}}}`,
read as `ansible.plugins.inventory.script` reads it: a group given as a list is its hosts; a
group with none of hosts/vars/children is a host of that name with those variables; host
variables come from `_meta.hostvars`, or, when `_meta` has none, from `SCRIPT --host NAME`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.inventory.graph import Graph, GraphError
from driftcheck.model import Vars

HostVarsOf = Callable[[str], object]  # `SCRIPT --host NAME`'s JSON, checked: must be an object
# `_meta.hostvars`: host -> its variables, each checked where it is read (must be an object)
HostVarsTable = Mapping[str, object]


def is_script_output(data: object) -> bool:
    """`ansible-inventory --list` output saved to a file: it always has `_meta.hostvars`.
    (Without it, `hosts: [a, b]` is a broken YAML inventory, refused as Ansible refuses it.)"""
    if not isinstance(data, Mapping):
        return False
    meta = data.get("_meta")
    return isinstance(meta, Mapping) and "hostvars" in meta


def parse_script_data(
    graph: Graph, path: str, data: object, host_vars_of: HostVarsOf | None = None
) -> None:
    if not isinstance(data, Mapping):
        raise InventoryError(path, None, f"expected a JSON object, got {type(data).__name__}")
    meta: HostVarsTable | None = None
    hosts: dict[str, None] = {}
    try:
        for group, body in data.items():
            if group == "_meta":
                meta = _hostvars(path, body)
            else:
                hosts.update(dict.fromkeys(_group(graph, path, str(group), body)))
        for host in hosts:
            graph.hosts[host].vars.update(_vars_of(path, host, meta, host_vars_of))
    except GraphError as exc:
        raise InventoryError(path, None, str(exc)) from None


def _hostvars(path: str, meta: object) -> HostVarsTable | None:
    found = meta.get("hostvars") if isinstance(meta, Mapping) else None
    if found is None:
        return None
    if not isinstance(found, Mapping):
        raise InventoryError(path, None, "'_meta.hostvars' must be an object")
    return found


def _group(graph: Graph, path: str, name: str, body: Any) -> list[str]:
    graph.add_group(name)
    if not isinstance(body, Mapping):
        body = {"hosts": body}
    elif not any(key in body for key in ("hosts", "vars", "children")):
        body = {"hosts": [name], "vars": body}
    hosts = body.get("hosts") or []
    if not isinstance(hosts, list):
        raise InventoryError(path, None, f"'{name}.hosts' must be a list")
    for host in hosts:
        graph.add_host(str(host), name, None, path)
    group_vars = body.get("vars") or {}
    if not isinstance(group_vars, Mapping):
        raise InventoryError(path, None, f"'{name}.vars' must be an object")
    for key, value in group_vars.items():
        graph.set_group_var(name, key, value)
    for child in body.get("children") or []:
        graph.add_group(str(child))
        graph.add_child(name, str(child))
    return [str(host) for host in hosts]


def _vars_of(
    path: str, host: str, meta: HostVarsTable | None, host_vars_of: HostVarsOf | None
) -> Vars:
    if meta is not None:
        found = meta.get(host) or {}
    elif host_vars_of is not None:
        found = host_vars_of(host)
    else:
        found = {}
    if not isinstance(found, Mapping):
        raise InventoryError(path, None, f"variables of host {host!r} must be an object")
    return found
