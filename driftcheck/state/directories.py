"""The `directories:` section: a directory that holds exactly a set of entries.

    directories:
      /etc/cron.d:
        exactly: [e2scrub_all, php]     # entry names, not paths
        ignore: ["*.dpkg-*"]            # optional: names matching one of these globs are not drift

Paths are normalised as `files:` paths are (`/etc//cron.d/` is `/etc/cron.d`), before the merge,
so that two spellings are one entry and merge as one. A name is one path component: no `/`,
not `.` or `..`, not empty.
"""

from __future__ import annotations

from typing import Any

from driftcheck.model import DirectorySpec, Origin
from driftcheck.state.files import normal_path
from driftcheck.state.merge import copy_map
from driftcheck.state.rules import Refused, entry_name
from driftcheck.state.values import as_map, check_keys, describe, fail, text
from driftcheck.state.yamlload import YList, YMap
from driftcheck.yamlsafe import excerpt

SECTION = "directories"
DIRECTORY_KEYS = ("exactly", "ignore")


def normalise_directories(tree: YMap) -> YMap:
    """`tree` with the keys of its `directories:` section normalised; two keys that name one
    directory in one state file are an error at the second."""
    section = tree.get(SECTION)
    if not isinstance(section, YMap):
        return tree  # missing, empty or the wrong type: the schema says so later
    normal = YMap(section.origin)
    for key, value in section.items():
        origin = section.where(key)
        path = normal_path(key, origin)
        if path in normal:
            line = normal.where(path).line
            fail(origin, f"directory {excerpt(key)} is {path}, already declared at line {line}")
        normal[path] = value
        normal.key_origins[path] = origin
        if key in section.raw:
            normal.raw[path] = section.raw[key]
    result = copy_map(tree)
    result[SECTION] = normal
    return result


def build_directories(section: YMap) -> dict[str, DirectorySpec]:
    specs = [_directory(key, value, section.where(key)) for key, value in section.items()]
    return {spec.path: spec for spec in specs}


def _directory(key: Any, value: Any, origin: Origin) -> DirectorySpec:
    path = text(key, origin, f"{SECTION}: ", hint="a path is a string like /etc/cron.d")
    if not path.startswith("/"):
        fail(origin, f"directory {excerpt(path)}: the path must be absolute")
    label = f"directory {path}: "
    checks = as_map(value, origin, label, "a mapping like {exactly: [name, ...]}")
    check_keys(checks, DIRECTORY_KEYS, label)
    if "exactly" not in checks:
        fail(origin, f"{label}exactly: is required (the entry names it holds; [] for none)")
    names = _strings(checks, "exactly", label, _name)
    globs = _strings(checks, "ignore", label, _glob) if "ignore" in checks else ()
    return DirectorySpec(path, exactly=tuple(sorted(names)), ignore=globs, origin=origin)


def _strings(checks: YMap, key: str, label: str, check: Any) -> tuple[str, ...]:
    """A list of strings, each checked by `check(value, origin, label)`; a repeat is an error."""
    value, where = checks[key], checks.where(key)
    if value is None:  # `exactly:` with nothing after it: an empty directory
        return ()
    if not isinstance(value, YList):
        fail(where, f"{label}{key}: expected a list, but {describe(value, checks.raw.get(key))}")
    seen: dict[str, int] = {}
    for item, origin in value.with_origins():
        word = check(item, origin, f"{label}{key}: ")
        if word in seen:
            fail(
                origin,
                f"{label}{key}: {excerpt(word)} is listed twice (first at line {seen[word]})",
            )
        seen[word] = origin.line
    return tuple(seen)


def _name(value: Any, origin: Origin, label: str) -> str:
    name = text(value, origin, label, hint="quote it")
    try:
        return entry_name(name)
    except Refused as exc:
        fail(origin, f"{label}{excerpt(name)} is {exc}")


def _glob(value: Any, origin: Origin, label: str) -> str:
    glob = text(value, origin, label, hint='quote it: "*.dpkg-dist"')
    if "/" in glob:
        fail(origin, f"{label}{excerpt(glob)}: a glob matches entry names, which hold no '/'")
    return glob
