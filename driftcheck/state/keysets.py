"""A declared file's exact set of keys or lines: `keys: [...]` (authorized_keys lines, compared
by key type and fingerprint) or `lines: [...]` (compared as text, in any order).

A key is checked here only for its form, `[options] TYPE BASE64 [comment]`: the fingerprint is
taken where it is compared (compare/keysets.py), with the parser that reads the host's file.
"""

from __future__ import annotations

from typing import Any

from driftcheck.model import Origin
from driftcheck.state.rules import Refused, key_line, one_line
from driftcheck.state.values import describe, fail, text
from driftcheck.state.yamlload import YList, YMap
from driftcheck.yamlsafe import excerpt


def get_keys(checks: YMap, label: str) -> tuple[str, ...] | None:
    return _lines(checks, "keys", label, _key) if "keys" in checks else None


def get_lines(checks: YMap, label: str) -> tuple[str, ...] | None:
    return _lines(checks, "lines", label, _line) if "lines" in checks else None


def _lines(checks: YMap, key: str, label: str, check: Any) -> tuple[str, ...]:
    value, where = checks[key], checks.where(key)
    if value is None:  # `keys:` with nothing after it: the file holds none
        return ()
    if not isinstance(value, YList):
        fail(where, f"{label}{key}: expected a list, but {describe(value, checks.raw.get(key))}")
    return tuple(check(item, origin, f"{label}{key}: ") for item, origin in value.with_origins())


def _key(value: Any, origin: Origin, label: str) -> str:
    line = _line(value, origin, label)
    try:
        return key_line(line)
    except Refused as exc:
        fail(origin, f"{label}{excerpt(line.strip())} is {exc}")


def _line(value: Any, origin: Origin, label: str) -> str:
    line = text(value, origin, label, hint="quote it")
    try:
        return one_line(line)
    except Refused as exc:
        fail(origin, f"{label}{excerpt(line)}: {exc}")
