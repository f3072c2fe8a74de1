"""A safe YAML loader whose mappings remember where each key was written, for states and waivers.

Only the safe loader is used: a state file can never construct Python objects. It refuses
duplicate keys, and inherits the guards of `driftcheck.yamlsafe` (alias bombs, deep nesting,
impossible dates). Errors are `InputError`s of the caller's class, at the source line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from driftcheck.errors import InputError, StateError
from driftcheck.model import Origin
from driftcheck.yamlsafe import GuardedLoader, YamlList, YamlMapping, excerpt


class YMap(YamlMapping):
    """A YAML mapping plus the origin of the mapping, of each key, and the raw text of scalars.

    `raw` keeps what the user wrote (`1.10`, `0644`, `no`) so that a YAML trap can be
    explained with the text the user sees, not with the value YAML made of it.
    """

    def __init__(self, origin: Origin) -> None:
        super().__init__()
        self.origin = origin
        self.key_origins: dict[Any, Origin] = {}
        self.raw: dict[Any, str] = {}

    def where(self, key: Any) -> Origin:
        return self.key_origins.get(key, self.origin)


class YList(YamlList):
    """A YAML sequence plus its origin and the origin of each item."""

    def __init__(self, origin: Origin) -> None:
        super().__init__()
        self.origin = origin
        self.item_origins: list[Origin] = []

    def with_origins(self) -> list[tuple[Any, Origin]]:
        """Each item with the line it was written on (the list's own line when an item's is
        not known)."""
        origins = self.item_origins
        return [
            (item, origins[i] if i < len(origins) else self.origin) for i, item in enumerate(self)
        ]


class _Loader(GuardedLoader):
    path = ""
    line_of: Callable[[int], int] = staticmethod(lambda line: line)
    error: type[InputError] = StateError

    def origin(self, node: yaml.Node) -> Origin:
        return Origin(self.path, self.line_of(node.start_mark.line + 1))


def _construct_map(loader: _Loader, node: yaml.Node) -> YMap:
    if not isinstance(node, yaml.MappingNode):
        raise loader.error(loader.path, loader.origin(node).line, "expected a mapping")
    _refuse_duplicates(loader, node)
    loader.flatten_mapping(node)  # honours `<<: *anchor`; the keys written here come last and win
    result = YMap(loader.origin(node))
    for key_node, value_node in node.value:
        key = _key(loader, key_node)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_origins[key] = loader.origin(key_node)
        result.raw.pop(key, None)
        if isinstance(value_node, yaml.ScalarNode):
            result.raw[key] = value_node.value
    return result


def _key(loader: _Loader, key_node: yaml.Node) -> Any:
    key = loader.construct_object(key_node, deep=True)
    if isinstance(key, (list, dict)):
        origin = loader.origin(key_node)
        raise loader.error(origin.path, origin.line, "a key must be a plain value")
    return key


def _refuse_duplicates(loader: _Loader, node: yaml.MappingNode) -> None:
    """PyYAML keeps the last of two equal keys silently; a state or waivers file must not.
    (Ansible only warns for inventory files, and inventory keeps that: see inventory/yamldata.)"""
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = _key(loader, key_node)
        origin = loader.origin(key_node)
        if key in seen:
            message = f"duplicate key {excerpt(key)} (first at line {seen[key]})"
            raise loader.error(origin.path, origin.line, message)
        seen[key] = origin.line


def _construct_seq(loader: _Loader, node: yaml.Node) -> YList:
    if not isinstance(node, yaml.SequenceNode):
        raise loader.error(loader.path, loader.origin(node).line, "expected a list")
    result = YList(loader.origin(node))
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_origins.append(loader.origin(item))
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _same(line: int) -> int:
    return line


def load_yaml(
    text: str,
    path: str,
    line_of: Callable[[int], int] = _same,
    error: type[InputError] = StateError,
) -> Any:
    """Parse one document (a rendered state file, a waivers file). Errors are `error`s naming
    `path` and the source line (`line_of` maps rendered lines back to the template's)."""
    try:
        loader = _Loader(text)
    except yaml.MarkedYAMLError as exc:  # the nesting guard runs before construction
        raise _yaml_error(exc, path, line_of, error) from None
    loader.path = path
    loader.line_of = line_of
    loader.error = error
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, path, line_of, error) from None
    except yaml.YAMLError as exc:
        raise error(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _yaml_error(
    exc: yaml.MarkedYAMLError, path: str, line_of: Callable[[int], int], error: type[InputError]
) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = line_of(mark.line + 1) if mark else None
    return error(path, line, f"invalid YAML: {exc.problem or exc.context}")
