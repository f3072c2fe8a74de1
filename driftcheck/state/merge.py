"""Deep merge of state files: mappings merge key by key, anything else is replaced; later wins.

One exception: a file's sensitivity is sticky. Once any of a host's state files marks a path
`sensitive: true`, the merged entry stays sensitive whatever a later file says of it (a later
`sensitive: false`, a plain `present`, or `absent` then `content:` in a third file), so that
its content and digest never reach a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftcheck.model import Origin
from driftcheck.state.yamlload import YMap

# A file's expected content comes from one of these: a later file that names one replaces
# whichever an earlier file named, instead of leaving two that contradict each other.
# (`keys` and `lines`: an exact set of authorized_keys lines, or of lines in any order.)
CONTENT_KEYS = ("sha256", "content", "template", "keys", "lines")


def merge_all(trees: Sequence[YMap], origin: Origin) -> YMap:
    """The trees merged in order (lowest precedence first), sensitivity kept sticky."""
    result = YMap(origin)
    for tree in trees:
        result = merge(result, tree)
    marked = {path: where for tree in trees for path, where in sensitive_paths(tree).items()}
    return _keep_sensitive(result, marked) if marked else result


def sensitive_paths(tree: YMap) -> dict[Any, Origin]:
    """The `files:` keys that one tree marks `sensitive: true`, with where it says so."""
    section = tree.get("files")
    if not isinstance(section, YMap):
        return {}
    return {
        key: spec.where("sensitive")
        for key, spec in section.items()
        if isinstance(spec, YMap) and spec.get("sensitive") is True
    }


def _keep_sensitive(tree: YMap, marked: dict[Any, Origin]) -> YMap:
    section = tree.get("files")
    if not isinstance(section, YMap):
        return tree
    files = copy_map(section)
    for key, origin in marked.items():
        spec = files.get(key)
        if spec == "present":  # present and sensitive: the same checks, the flag kept
            spec = YMap(files.where(key))
        if isinstance(spec, YMap) and spec.get("sensitive") is not True:
            spec = copy_map(spec)
            spec["sensitive"] = True
            spec.key_origins["sensitive"] = origin
            spec.raw.pop("sensitive", None)
            files[key] = spec
    result = copy_map(tree)
    result["files"] = files
    return result


def merge(base: YMap, later: YMap, path: tuple[Any, ...] = ()) -> YMap:
    """A new mapping: `base` overlaid with `later`. Origins follow the value that won."""
    result = copy_map(base, later.origin)
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


def copy_map(source: YMap, origin: Origin | None = None) -> YMap:
    """A shallow copy with the origins and raw texts (and `origin` as its own, if given)."""
    result = YMap(source.origin if origin is None else origin)
    result.update(source)
    result.key_origins.update(source.key_origins)
    result.raw.update(source.raw)
    return result


def _drop(mapping: YMap, key: str) -> None:
    mapping.pop(key, None)
    mapping.key_origins.pop(key, None)
    mapping.raw.pop(key, None)
