"""The `files:` section: `/path: absent`, `/path: present`, or a mapping of checks.

Two spellings of one path are one file: `/x//secret`, `/x/./secret` and `/x/secret/` are
`/x/secret`, so that `sensitive: true` on one spelling cannot be dodged by another. Paths are
normalised in each file before the merge (`normalise_paths`, by `rules.declared_path`: a path
with a `..` component is refused).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from driftcheck.model import FileSpec, Origin
from driftcheck.state.keysets import get_keys, get_lines
from driftcheck.state.merge import CONTENT_KEYS, copy_map
from driftcheck.state.rules import Refused, declared_path
from driftcheck.state.values import (
    as_map,
    check_keys,
    describe,
    fail,
    get_bool,
    get_text,
    relative,
    text,
)
from driftcheck.state.yamlload import YMap
from driftcheck.yamlsafe import excerpt

FILE_KEYS = (*CONTENT_KEYS, "mode", "owner", "group", "sensitive")
_MODE = re.compile(r"[0-7]{3,4}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

RenderTemplate = Callable[[str, Origin], str]  # (path relative to states dir, referrer) -> text


def normalise_paths(tree: YMap) -> YMap:
    """`tree` with the keys of its `files:` section normalised; two keys that name one file
    in one state file are an error at the second, as a duplicate key is."""
    section = tree.get("files")
    if not isinstance(section, YMap):
        return tree  # missing, empty or the wrong type: the schema says so later
    result = copy_map(tree)
    result["files"] = _normalised(section)
    return result


def _normalised(section: YMap) -> YMap:
    result = YMap(section.origin)
    written: dict[object, object] = {}  # a normal path -> the key as written
    for key, value in section.items():
        origin = section.where(key)
        path = normal_path(key, origin)
        if path in result:
            first = result.where(path)
            fail(
                origin,
                f"file {excerpt(key)} is {path}, already declared at line {first.line}"
                f" as {excerpt(written[path])}",
            )
        result[path] = value
        result.key_origins[path] = origin
        written[path] = key
        if key in section.raw:
            result.raw[path] = section.raw[key]
    return result


def normal_path(key: Any, origin: Origin) -> Any:
    """`/a//b/./c/` -> `/a/b/c`. Anything but an absolute string is left for the schema."""
    if not isinstance(key, str) or not key.startswith("/"):
        return key
    try:
        return declared_path(key)
    except Refused as exc:
        fail(origin, f"file {excerpt(key)}: {exc}")


def build_files(section: YMap, render: RenderTemplate) -> dict[str, FileSpec]:
    specs = [_file(key, value, section.where(key), render) for key, value in section.items()]
    return {spec.path: spec for spec in specs}


def _file(key: Any, value: Any, origin: Origin, render: RenderTemplate) -> FileSpec:
    path = text(key, origin, "files: ", hint="a path is a string like /etc/hosts")
    if not path.startswith("/"):
        fail(origin, f"file {path}: the path must be absolute")
    if value in ("absent", "present"):
        return FileSpec(path, absent=value == "absent", origin=origin)
    label = f"file {path}: "
    checks = as_map(value, origin, label, "absent, present or a mapping of checks")
    check_keys(checks, FILE_KEYS, label)
    return FileSpec(
        path,
        sha256=_sha256(checks, label),
        content=_content(checks, label, render),
        mode=_mode(checks, label),
        owner=get_text(checks, "owner", label),
        group=get_text(checks, "group", label),
        sensitive=bool(get_bool(checks, "sensitive", label)),
        origin=origin,
        keys=get_keys(checks, label),
        lines=get_lines(checks, label),
    )


def _sha256(checks: YMap, label: str) -> str | None:
    digest = get_text(checks, "sha256", label)
    if digest is not None and not _SHA256.fullmatch(digest):
        fail(checks.where("sha256"), f"{label}sha256: expected 64 hex digits, got {digest!r}")
    return digest.lower() if digest else None


def _content(checks: YMap, label: str, render: RenderTemplate) -> str | None:
    sources = sorted(
        (key for key in CONTENT_KEYS if key in checks), key=lambda k: checks.where(k).line
    )
    if len(sources) > 1:
        names = " and ".join(sources)
        fail(checks.where(sources[1]), f"{label}{names} exclude each other: keep one")
    if "template" in checks:
        origin = checks.where("template")
        return render(relative(checks["template"], origin, f"{label}template: "), origin)
    if "content" not in checks:
        return None
    content = checks["content"]
    if not isinstance(content, str):
        raw = checks.raw.get("content")
        fail(
            checks.where("content"),
            f"{label}content: expected a string, but {describe(content, raw)}",
        )
    return content


def _mode(checks: YMap, label: str) -> str | None:
    if "mode" not in checks:
        return None
    value, raw, origin = checks["mode"], checks.raw.get("mode"), checks.where("mode")
    example = raw.zfill(4) if raw and _MODE.fullmatch(raw) else "0644"
    if isinstance(value, int) and not isinstance(value, bool):
        octal = " (a leading 0 makes it octal)" if raw and raw.startswith("0") else ""
        fail(origin, f'{label}mode: {describe(value, raw)}{octal}: quote the mode: "{example}"')
    mode = text(value, origin, f"{label}mode: ", raw)
    if not _MODE.fullmatch(mode):
        fail(origin, f'{label}mode: expected octal digits in quotes, like "0644", got {mode!r}')
    return mode.zfill(4)
