"""What running containers may change without it being drift: `container_writable: [PATH...]`
(every container) and, per declared container, `writable: [PATH...]` and `changed: report |
ignore`. Paths are absolute and normalised like declared files (`/srv//data/` is `/srv/data`).
"""

from __future__ import annotations

from typing import Any

from driftcheck.model import Origin
from driftcheck.state.values import fail, text
from driftcheck.state.yamlload import YList, YMap
from driftcheck.yamlsafe import excerpt

MAX_WRITABLE = 256  # paths in one list: each is matched against every changed path


def writable_paths(mapping: YMap, key: str, label: str) -> tuple[str, ...]:
    """`key`'s list of absolute paths in `mapping` (none when the key is not there)."""
    if key not in mapping:
        return ()
    items = mapping[key]
    where = mapping.where(key)
    if not isinstance(items, YList):
        fail(where, f"{label}{key}: expected a list of absolute paths, like [/srv/data]")
    if len(items) > MAX_WRITABLE:
        fail(where, f"{label}{key}: more than {MAX_WRITABLE} paths")
    paths: list[str] = []
    for item, origin in items.with_origins():
        path = _path(item, origin, f"{label}{key}: ")
        if path not in paths:
            paths.append(path)
    return tuple(paths)


def _path(item: Any, origin: Origin, label: str) -> str:
    path = text(item, origin, label, hint="a path is a string like /srv/data")
    if not path.startswith("/"):
        fail(origin, f"{label}{excerpt(path)}: the path must be absolute")
    if any(c in path for c in "\0\n\r"):
        fail(origin, f"{label}{excerpt(path)}: a path with a NUL byte or a line break")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        fail(origin, f"{label}{excerpt(path)}: '..' is not allowed in a path")
    if not parts:
        fail(origin, f"{label}/ would allow every change: write `changed: ignore` instead")
    return "/" + "/".join(parts)
