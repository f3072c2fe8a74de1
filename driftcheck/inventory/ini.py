"""Ansible's INI inventory format, read the way `ansible.plugins.inventory.ini` reads it.

Values after `=` (inline on a host line and in `[group:vars]` sections alike) go through
`ast.literal_eval`: `5` is an int, `True` a bool, `[1, 2]` a list, `'07'` the string 07,
and anything literal_eval refuses stays the text as written. Host lines are split like a
shell would (`shlex`, `#` starts a comment); `:vars` lines are split at the first `=`.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from driftcheck import shell
from driftcheck.errors import InventoryError
from driftcheck.inventory.graph import Graph, GraphError
from driftcheck.inventory.hostpattern import expand_host_pattern

_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")
_STATES = ("hosts", "children", "vars")


def decode_lines(data: bytes, path: str) -> list[str]:
    """UTF-8 lines; a non-UTF-8 comment line is blanked (Ansible tolerates those)."""
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return [_decode_line(raw, path, n) for n, raw in enumerate(data.splitlines(), 1)]


def _decode_line(raw: bytes, path: str, number: int) -> str:
    if raw[:1] in (b"#", b";"):
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InventoryError(path, number, "line is not valid UTF-8") from None


def parse_ini(graph: Graph, path: str, lines: list[str]) -> None:
    _IniReader(graph, path).read(lines)


@dataclass
class _Pending:
    line: int
    state: str
    parents: list[str] = field(default_factory=list)


class _IniReader:
    def __init__(self, graph: Graph, path: str) -> None:
        self.graph = graph
        self.path = path
        self.line = 0
        self.group = "ungrouped"
        self.state = "hosts"
        self.pending: dict[str, _Pending] = {}

    def read(self, lines: list[str]) -> None:
        for self.line, raw in enumerate(lines, 1):
            text = raw.strip()
            if text and text[0] not in "#;":
                self._guarded(text)
        self._check_pending()

    def fail(self, message: str, line: int | None = None) -> InventoryError:
        return InventoryError(self.path, line or self.line, message)

    def _guarded(self, text: str) -> None:
        try:
            self._line(text)
        except (GraphError, ValueError) as exc:
            raise self.fail(str(exc)) from None

    def _line(self, text: str) -> None:
        section = _SECTION.fullmatch(text)
        if section:
            self._section(section.group(1), section.group(2) or "hosts")
        elif text.startswith("[") and text.endswith("]"):
            raise self.fail(f"invalid section header {text} (no spaces or ':' in group names)")
        elif self.state == "hosts":
            self._hosts(text)
        elif self.state == "vars":
            self._var(text)
        else:
            self._child(text)

    def _section(self, group: str, state: str) -> None:
        if state not in _STATES:
            raise self.fail(f"section [{group}:{state}] has unknown type {state!r}")
        self.group, self.state = group, state
        if group not in self.graph.groups:
            if state == "vars" and group not in self.pending:
                self.pending[group] = _Pending(self.line, state)
            self.graph.add_group(group)
        declared = self.pending.get(group)
        if declared and state != "vars":
            if declared.state == "children":
                self._resolve_children(group)
            else:
                del self.pending[group]

    def _resolve_children(self, group: str) -> None:
        for parent in self.pending[group].parents:
            self.graph.add_child(parent, group)
            if parent in self.pending and self.pending[parent].state == "children":
                self._resolve_children(parent)
        del self.pending[group]

    def _hosts(self, text: str) -> None:
        try:
            tokens = shell.split(text, comments=True)
        except ValueError as exc:
            raise self.fail(f"cannot split host line: {exc}") from None
        if not tokens:
            raise self.fail(f"expected a host, got {text!r}")
        names, port = self._host_pattern(tokens[0])
        variables = dict(self._assignment(token) for token in tokens[1:])
        for name in names:
            self.graph.add_host(name, self.group, port, self.path)
            self.graph.hosts[name].vars.update(variables)

    def _host_pattern(self, pattern: str) -> tuple[list[str], int | None]:
        names, port = expand_host_pattern(pattern)
        if pattern.endswith(":") and port is None:
            raise self.fail(f"host pattern {pattern!r} ends in ':' (reserved for a port)")
        if "---" in (name.strip() for name in names):
            raise self.fail("host pattern '---' looks like YAML, not INI")
        return names, port

    def _assignment(self, token: str) -> tuple[str, object]:
        if "=" not in token:
            raise self.fail(f"expected key=value host variable, got {token!r}")
        key, value = token.split("=", 1)
        return key, parse_value(value)

    def _var(self, text: str) -> None:
        if "=" not in text:
            raise self.fail(f"expected key=value, got {text!r}")
        key, value = (part.strip() for part in text.split("=", 1))
        self.graph.set_group_var(self.group, key, parse_value(value))

    def _child(self, text: str) -> None:
        match = _GROUP_NAME.fullmatch(text)
        if not match:
            raise self.fail(f"expected a group name, got {text!r}")
        child = match.group(1)
        if child in self.graph.groups:
            self.graph.add_child(self.group, child)
        elif child in self.pending:
            self.pending[child].parents.append(self.group)
        else:
            self.pending[child] = _Pending(self.line, "children", [self.group])

    def _check_pending(self) -> None:
        for group, declared in self.pending.items():
            if declared.state == "vars":
                message = f"section [{group}:vars] names a group that is never declared"
            else:
                parent = declared.parents[-1]
                message = f"section [{parent}:children] names undeclared group {group!r}"
            raise self.fail(message, declared.line)


def parse_value(text: str) -> Any:
    """What Ansible makes of an INI value: a Python literal if it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _coerce(value)


def _coerce(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)):
        return [_coerce(item) for item in value]
    if isinstance(value, dict):
        return {key: _coerce(item) for key, item in value.items()}
    if value is ...:
        return "..."
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value
