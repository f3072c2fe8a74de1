"""Deep merge of state files: mappings merge key by key, anything else is replaced; later wins."""

from __future__ import annotations

from typing import Any

from driftcheck.state.yamlload import YMap

# A file's expected content comes from one of these: a later file that names one replaces
# whichever an earlier file named, instead of leaving two that contradict each other.
CONTENT_KEYS = ("sha256", "content", "template")


def merge(base: YMap, later: YMap, path: tuple[Any, ...] = ()) -> YMap:
    """A new mapping: `base` overlaid with `later`. Origins follow the value that won."""
    result = _copy(base, later.origin)
    if _is_file_spec(path) and any(key in later for key in CONTENT_KEYS):
        for key in CONTENT_KEYS:
            _drop(result, key)
    for key, value in later.items():
        current = result.get(key)
        if isinstance(current, YMap) and value is None:
            # `packages:` left empty (often a loop that yielded nothing) adds nothing;
            # it must not wipe what earlier files declared.
            continue
        if isinstance(current, YMap) and isinstance(value, YMap):
            result[key] = merge(current, value, (*path, key))
        else:
            result[key] = value
            result.raw.pop(key, None)
            if key in later.raw:
                result.raw[key] = later.raw[key]
        result.key_origins[key] = later.key_origins[key]
    return result


def _is_file_spec(path: tuple[Any, ...]) -> bool:
    return len(path) == 2 and path[0] == "files"


def _copy(source: YMap, origin: Any) -> YMap:
    result = YMap(origin)
    result.update(source)
    result.key_origins.update(source.key_origins)
    result.raw.update(source.raw)
    return result


def _drop(mapping: YMap, key: str) -> None:
    mapping.pop(key, None)
    mapping.key_origins.pop(key, None)
    mapping.raw.pop(key, None)
