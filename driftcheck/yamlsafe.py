"""The guards every YAML reader shares (states, waivers, inventory and its vars files).

PyYAML's safe loader constructs no Python objects, but it still trusts a document in three ways
that a hostile file exploits:

- **Aliases.** `&a [x, x, x]`, `&b [*a, *a, *a]` ... builds a tiny graph that expands to
  billions of nodes as soon as anything walks it (a repr in an error message, a merge, a
  template). The composed graph is measured *before* construction, counting every alias as a
  copy, and refused past `MAX_EXPANDED_NODES` or if it refers to itself (go-yaml, used by
  Kubernetes, refuses "excessive aliasing" the same way).
- **Scalars that match a type but are not values.** `2099-13-45` matches YAML 1.1's timestamp
  pattern and makes `datetime.date` raise ValueError; an integer of 5,000 digits exceeds
  Python's int conversion limit. Both become errors at their line, as any YAML error is.
- **Nesting.** libyaml composes recursively in C: a document nested 200,000 levels deep
  crashed the process (a segfault, measured with PyYAML 6.0.3). Nesting is measured on the
  event stream first and refused past `MAX_DEPTH`.

`excerpt()` shows any loaded value in a bounded number of characters, for error messages.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

# Written plus alias-expanded nodes in one document. A 10,000-package state with defaults
# merged into every entry stays far below it; walking it costs well under a second.
MAX_EXPANDED_NODES = 1_000_000
# Collections inside collections. Real state and inventory files nest fewer than 20 levels;
# constructing mappings recurses in Python, a few frames per level, under its limit of 1000.
MAX_DEPTH = 100
EXCERPT = 80

# A YAML mapping and sequence as loaded: keys and items of any YAML type (a string, a number, a
# date, None, another collection), so open; whoever reads one checks what it needs (a state's
# schema, the inventory's rules). The loaders' own collections are subclasses of these.
YamlMapping = dict[Any, Any]
YamlList = list[Any]

# libyaml's parser with PyYAML's safe constructors: same marks, several times faster.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Events: type[yaml.BaseLoader] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class GuardedLoader(_Base):  # type: ignore[valid-type,misc]  # base chosen at import
    """A safe loader that refuses alias bombs, deep nesting and impossible scalars with a
    `yaml.MarkedYAMLError`, so that every caller's YAML error handling names the line."""

    def __init__(self, text: str) -> None:
        _check_depth(text)
        super().__init__(text)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        check_aliases(node)
        return self.construct_document(node)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before libyaml's recursive composer sees it.

    Only a text with enough brackets, dashes and colons to nest that deep is scanned (a second,
    event-only parse)."""
    if sum(text.count(mark) for mark in "[{-:") < MAX_DEPTH:
        return
    depth = 0
    loader: Any = _Events(text)  # untyped in the stubs: libyaml's event API
    try:
        while loader.check_event():
            event: Any = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    message = f"collections nested more than {MAX_DEPTH} levels deep: refused"
                    mark: Any = event.start_mark  # libyaml's Mark, typed apart in the stubs
                    raise ConstructorError(None, None, message, mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def check_aliases(root: yaml.Node) -> None:
    """Refuse a node graph that expands past MAX_EXPANDED_NODES, or that contains itself.

    Post-order walk with one size per distinct node: linear in the size of the text, however
    far the aliases would expand. The error names the smallest subtree over the budget,
    which is where the anchor that multiplies is written."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = _size(node, sizes)
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise ConstructorError(
                None, None, "an alias refers to the collection that contains it", node.start_mark
            )
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _size(node: yaml.Node, sizes: dict[int, int]) -> int:
    total = 1 + sum(sizes[id(child)] for child in _children(node))
    if total > MAX_EXPANDED_NODES:
        message = (
            f"aliases expand this value to more than {MAX_EXPANDED_NODES:,} nodes: "
            "refused (an alias bomb?)"
        )
        raise ConstructorError(None, None, message, node.start_mark)
    return total


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _construct_timestamp(loader: SafeConstructor, node: yaml.ScalarNode) -> date:
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        message = f"{excerpt(node.value)} is not a valid date ({exc}); quote it if it is text"
        raise ConstructorError(None, None, message, node.start_mark) from None


def _construct_int(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    try:
        return SafeConstructor.construct_yaml_int(loader, node)
    except ValueError as exc:
        message = f"not a usable integer: {exc}"
        raise ConstructorError(None, None, message, node.start_mark) from None


GuardedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
GuardedLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


# --- bounded excerpts -----------------------------------------------------------------------


class _Text(str):
    """Punctuation emitted by the walker, as opposed to a string value to be quoted."""


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """A repr-like text of `value`, at most `limit` characters, built without walking more of
    the value than it shows: a shared-alias structure of billions of nodes costs nothing."""
    parts: list[str] = []
    size = 0
    stack: list[Iterator[object]] = [iter((value,))]
    while stack and size <= limit:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        piece = _piece(item, stack, limit)
        parts.append(piece)
        size += len(piece)
    text = "".join(parts)
    return text if size <= limit and not stack else text[: max(limit - 3, 0)] + "..."


_END = object()


def _piece(item: object, stack: list[Iterator[object]], limit: int) -> str:
    if isinstance(item, _Text):
        return str(item)
    if isinstance(item, Mapping):
        stack.append(_mapping(item))
        return ""
    if isinstance(item, (list, tuple, set, frozenset)):
        stack.append(_sequence(item))
        return ""
    return _scalar(item, limit)


def _mapping(value: Mapping[object, object]) -> Iterator[object]:
    yield _Text("{")
    for index, (key, item) in enumerate(value.items()):
        yield from (_Text(", "), key, _Text(": "), item) if index else (key, _Text(": "), item)
    yield _Text("}")


def _sequence(value: Collection[object]) -> Iterator[object]:
    opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    if isinstance(value, (set, frozenset)):
        opening, closing = "{", "}"
    yield _Text(opening)
    for index, item in enumerate(value):
        yield from (_Text(", "), item) if index else (item,)
    yield _Text(closing)


def _scalar(value: object, limit: int) -> str:
    if isinstance(value, (str, bytes)):
        return repr(value[: limit + 1])
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<an integer of {value.bit_length()} bits>"
    return repr(value)[: limit + 1]
