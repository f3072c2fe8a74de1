"""Reading YAML and JSON the way Ansible's DataLoader does, keeping line numbers.

JSON is tried first (Ansible does, and `1e3` means 1000.0 in JSON but a string in YAML 1.1),
then YAML with the safe constructors plus Ansible's `!unsafe` tag. Mappings remember the
line of each key so that inventory errors can name it. `!vault` values (and JSON's
`{"__ansible_vault": ...}`) become opaque `Vaulted` values, opened only with vault secrets.

The guards of `driftcheck.yamlsafe` apply (alias bombs, deep nesting, impossible dates). A key
written twice keeps the last value, as in Ansible, which only warns about it
(`DUPLICATE_YAML_DICT_KEY=warn`): an inventory Ansible accepts is accepted here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import yaml

from driftcheck.errors import InventoryError
from driftcheck.inventory.vault import Vault, mark_secret, open_file, seal
from driftcheck.model import Unsafe, Vaulted
from driftcheck.yamlsafe import GuardedLoader, YamlMapping


class LineMap(YamlMapping):
    """A mapping that remembers the (1-based) line of itself and of each key."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}


def line_of(mapping: Any, key: Any = None) -> int | None:
    if not isinstance(mapping, LineMap):
        return None
    return mapping.lines.get(key, mapping.line) if key is not None else mapping.line


class _Loader(GuardedLoader):
    path = ""  # the file read, for the Vaulted values found in it


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            result[key] = loader.construct_object(value_node, deep=True)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            ) from None
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_unsafe(loader: _Loader, node: yaml.Node) -> Any:
    plain = copy.copy(node)
    plain.tag = loader.resolve(type(node), node.value, (True, False))
    value = loader.construct_object(plain, deep=True)
    return Unsafe(value) if isinstance(value, str) else value


def _construct_vault(loader: _Loader, node: yaml.Node) -> Vaulted:
    text = node.value if isinstance(node.value, str) else ""
    return Vaulted(text, loader.path, node.start_mark.line + 1)


def _json_object(path: str) -> Callable[[dict[str, object]], object]:
    def hook(pairs: dict[str, object]) -> object:
        if set(pairs) == {"__ansible_vault"} and isinstance(pairs["__ansible_vault"], str):
            return Vaulted(pairs["__ansible_vault"], path)
        if set(pairs) == {"__ansible_unsafe"} and isinstance(pairs["__ansible_unsafe"], str):
            return Unsafe(pairs["__ansible_unsafe"])
        return pairs

    return hook


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("!unsafe", _construct_unsafe)
_Loader.add_constructor("!vault", _construct_vault)
_Loader.add_constructor("!vault-encrypted", _construct_vault)


def load_data(text: str, path: str, vault: Vault | None = None) -> Any:
    """Parse JSON or YAML text (a whole vaulted file opened first); errors become
    InventoryError at the offending line."""
    plain = open_file(text, path, vault)
    data = seal(_parse(plain, path), vault)
    return mark_secret(data, vault) if vault and plain is not text else data


def _parse(text: str, path: str) -> Any:
    try:
        return json.loads(text, object_hook=_json_object(path))
    except (ValueError, RecursionError):  # too deep for json: YAML's guard says where
        pass
    try:
        loader = _Loader(text)  # its depth guard runs here
        loader.path = path
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(path, exc) from None
    except yaml.YAMLError as exc:
        raise InventoryError(path, None, f"bad YAML: {exc}") from None


def _yaml_error(path: str, exc: yaml.MarkedYAMLError) -> InventoryError:
    mark = exc.problem_mark or exc.context_mark
    message = f"bad YAML: {exc.problem or exc}"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    return InventoryError(path, mark.line + 1 if mark else None, message)


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise InventoryError(path, None, f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise InventoryError(path, None, exc.strerror or str(exc)) from None
