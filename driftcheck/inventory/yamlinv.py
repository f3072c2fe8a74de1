"""Ansible's YAML inventory format: `group: {hosts: {...}, children: {...}, vars: {...}}`.

Keys are read in the order written, as `ansible.plugins.inventory.yaml` does. Where Ansible
only warns and skips (an unknown key in a group, a group that is not a mapping) we stop with
the line: a misspelt `host:` would otherwise silently drop machines from the audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.inventory.graph import Graph, GraphError
from driftcheck.inventory.hostpattern import expand_host_pattern
from driftcheck.inventory.yamldata import line_of

_SECTIONS = ("vars", "children", "hosts")


def is_yaml_inventory(data: object) -> bool:
    """Ansible's yaml plugin accepts a non-empty mapping that is not a plugin config."""
    return isinstance(data, Mapping) and bool(data) and not data.get("plugin")


def parse_yaml(graph: Graph, path: str, data: Mapping[object, object]) -> None:
    reader = _YamlReader(graph, path)
    for name, body in data.items():
        reader.group(name, body, line_of(data, name))


class _YamlReader:
    def __init__(self, graph: Graph, path: str) -> None:
        self.graph = graph
        self.path = path

    def fail(self, line: int | None, message: str) -> InventoryError:
        return InventoryError(self.path, line, message)

    def group(self, name: Any, body: Any, line: int | None) -> str:
        if not isinstance(name, str):
            raise self.fail(line, f"group name {name!r} must be a string")
        if body is not None and not isinstance(body, Mapping):
            raise self.fail(line, f"group {name!r} must be a mapping (hosts/children/vars)")
        try:
            self.graph.add_group(name)
        except GraphError as exc:
            raise self.fail(line, str(exc)) from None
        for key, value in (body or {}).items():
            self._section(name, key, value, line_of(body, key))
        return name

    def _section(self, group: str, key: Any, value: Any, line: int | None) -> None:
        if key not in _SECTIONS:
            expected = "hosts, children or vars"
            raise self.fail(line, f"unexpected key {key!r} in group {group!r}: {expected}")
        if isinstance(value, str):
            value = {value: None}
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise self.fail(line, f"{key!r} of group {group!r} must be a mapping")
        for item, body in value.items():
            where = line_of(value, item) or line
            try:
                self._item(group, key, item, body, where)
            except (GraphError, ValueError) as exc:
                raise self.fail(where, str(exc)) from None

    def _item(self, group: str, key: str, item: Any, body: Any, line: int | None) -> None:
        if key == "vars":
            self.graph.set_group_var(group, item, body)
        elif key == "children":
            self.graph.add_child(group, self.group(item, body, line))
        else:
            self._host(group, item, body, line)

    def _host(self, group: str, pattern: Any, hostvars: Any, line: int | None) -> None:
        if not isinstance(pattern, str):
            raise self.fail(line, f"host {pattern!r} must be a string: quote numbers")
        if hostvars is not None and not isinstance(hostvars, Mapping):
            raise self.fail(line, f"variables of host {pattern!r} must be a mapping")
        names, port = expand_host_pattern(pattern)
        for name in names:
            self.graph.add_host(name, group, port, self.path)
            self.graph.hosts[name].vars.update(hostvars or {})
