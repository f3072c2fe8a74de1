"""A safe YAML loader whose mappings remember where each key was written.

Only the safe loader is used: a state file can never construct Python objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from driftcheck.errors import StateError
from driftcheck.models import Origin


class YMap(dict[Any, Any]):
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


# libyaml's parser with PyYAML's safe constructors: same marks, several times faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]  # base chosen at import
    path = ""
    line_of: Callable[[int], int] = staticmethod(lambda line: line)

    def origin(self, node: yaml.Node) -> Origin:
        return Origin(self.path, self.line_of(node.start_mark.line + 1))


def _construct_map(loader: _Loader, node: yaml.Node) -> YMap:
    if not isinstance(node, yaml.MappingNode):
        raise StateError(loader.path, loader.origin(node).line, "expected a mapping")
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
        raise StateError(origin.path, origin.line, "a key must be a plain value")
    return key


def _refuse_duplicates(loader: _Loader, node: yaml.MappingNode) -> None:
    """PyYAML keeps the last of two equal keys silently; a state file must not."""
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = _key(loader, key_node)
        origin = loader.origin(key_node)
        if key in seen:
            message = f"duplicate key {key!r} (first at line {seen[key]})"
            raise StateError(origin.path, origin.line, message)
        seen[key] = origin.line


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def load_yaml(text: str, path: str, line_of: Callable[[int], int]) -> Any:
    """Parse one rendered state file. YAML errors name `path` and the source line."""
    loader = _Loader(text)
    loader.path = path
    loader.line_of = line_of
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = line_of(mark.line + 1) if mark else None
        raise StateError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise StateError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
