"""`group_vars/` and `host_vars/` beside the inventory, found as Ansible's host_group_vars does.

For an entity NAME the first that exists of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json`
is used, and only that one. If it is a directory, every file below it (sorted, recursively;
no hidden files, no `~` backups, only those extensions or none) is merged in order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from driftcheck.errors import InventoryError
from driftcheck.inventory.vault import Vault
from driftcheck.inventory.yamldata import load_data, read_text
from driftcheck.model import Vars, VarsDict

EXTENSIONS = (".yml", ".yaml", ".json")


class VarsFiles:
    """Loads and caches the variables of groups and hosts under one inventory root."""

    def __init__(self, root: str, vault: Vault | None = None) -> None:
        self.root = root
        self.vault = vault
        self.read: list[str] = []
        self._cache: dict[tuple[str, str], VarsDict] = {}

    def group(self, name: str) -> VarsDict:
        return self._vars("group_vars", name)

    def host(self, name: str) -> VarsDict:
        return self._vars("host_vars", name)

    def _vars(self, subdir: str, name: str) -> VarsDict:
        key = (subdir, name)
        if key not in self._cache:
            self._cache[key] = self._load(subdir, name)
        return self._cache[key]

    def _load(self, subdir: str, name: str) -> VarsDict:
        folder = os.path.join(self.root, subdir)
        merged: VarsDict = {}
        if name.startswith(os.sep) or not os.path.isdir(folder):
            return merged
        for path in find_vars_files(folder, name):
            merged.update(self._file(path))
        return merged

    def _file(self, path: str) -> Vars:
        self.read.append(path)
        data = load_data(read_text(path), path, self.vault)
        if not data:
            return {}
        if not isinstance(data, Mapping):
            kind = type(data).__name__
            raise InventoryError(path, 1, f"expected a mapping of variables, got {kind}")
        return data


def find_vars_files(folder: str, name: str) -> list[str]:
    base = os.path.join(folder, name)
    for candidate in (base, *(base + ext for ext in EXTENSIONS)):
        if os.path.isdir(candidate):
            return _files_below(candidate)
        if os.path.exists(candidate):
            return [candidate]
    return []


def _files_below(folder: str) -> list[str]:
    found: list[str] = []
    for entry in sorted(os.listdir(folder)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path = os.path.join(folder, entry)
        ext = os.path.splitext(entry)[1]
        if os.path.isdir(path) and not ext:
            found.extend(_files_below(path))
        elif os.path.isfile(path) and (not ext or ext in EXTENSIONS):
            found.append(path)
    return found
