"""Typed reads from a YAML mapping, with errors that name the file and line of the key.

YAML 1.1 turns `no` into false, `1.10` into 1.1 and `0644` into 420. Every read that wants a
string says so, with the text the user wrote, instead of using what YAML made of it.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any, NoReturn

from driftcheck.errors import StateError
from driftcheck.model import Origin
from driftcheck.state.rules import Refused
from driftcheck.state.rules import text as text_rule
from driftcheck.state.yamlload import YMap
from driftcheck.yamlsafe import excerpt


def fail(origin: Origin, message: str) -> NoReturn:
    raise StateError(origin.path, origin.line, message)


def describe(value: Any, raw: str | None = None) -> str:
    """What YAML made of a value, in words: `YAML reads no as the boolean false`. Bounded: a
    value may be an alias structure that would expand enormously if printed whole."""
    if isinstance(value, bool):
        return f"YAML reads {_short(raw) or value} as the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"YAML reads {_short(raw) or excerpt(value)} as the number {excerpt(value)}"
    if value is None:
        return "it has no value"
    if isinstance(value, dict):
        return f"it is a mapping: {excerpt(value)}"
    if isinstance(value, list):
        return f"it is a list: {excerpt(value)}"
    return f"it is a {type(value).__name__} ({_short(raw) or excerpt(value)})"


def _short(raw: str | None) -> str | None:
    """The text the user wrote, cut to the length of an excerpt."""
    return raw if raw is None or len(raw) <= 80 else raw[:77] + "..."


def check_keys(mapping: YMap, allowed: Collection[str], label: str) -> None:
    """Unknown keys are errors at their own line, with a suggestion when one is close."""
    for key in mapping:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), list(allowed), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
        fail(mapping.where(key), f"{label}unknown key {excerpt(key)}: {hint}")


def text(value: Any, origin: Origin, label: str, raw: str | None = None, hint: str = "") -> str:
    """A non-empty string without NUL bytes."""
    if not isinstance(value, str):
        advice = hint or (f'quote it: "{raw}"' if raw and value is not None else "")
        message = f"{label}expected a string, but {describe(value, raw)}"
        fail(origin, f"{message}: {advice}" if advice else message)
    try:
        return text_rule(value)
    except Refused as exc:
        fail(origin, f"{label}{exc}")


def get_text(mapping: YMap, key: str, label: str, hint: str = "") -> str | None:
    if key not in mapping:
        return None
    return text(mapping[key], mapping.where(key), f"{label}{key}: ", mapping.raw.get(key), hint)


def get_bool(mapping: YMap, key: str, label: str) -> bool | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, bool):
        what = describe(value, mapping.raw.get(key))
        fail(mapping.where(key), f"{label}{key}: expected true or false, but {what}")
    return value


def get_count(mapping: YMap, key: str, label: str) -> int | None:
    """A whole number >= 0 (a boolean is not one, although Python says it is an int)."""
    if key not in mapping:
        return None
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        what = describe(value, mapping.raw.get(key))
        fail(mapping.where(key), f"{label}{key}: expected a whole number >= 0, but {what}")
    return value


def as_map(value: Any, origin: Origin, label: str, expected: str) -> YMap:
    if not isinstance(value, YMap):
        fail(origin, f"{label}expected {expected}, but {describe(value)}")
    return value


def choice(mapping: YMap, key: str, options: tuple[str, ...], default: str) -> str:
    if key not in mapping:
        return default
    value, raw = mapping[key], mapping.raw.get(key)
    if value not in options or not isinstance(value, str):
        what = describe(value, raw) if not isinstance(value, str) else f"got {excerpt(value)}"
        fail(mapping.where(key), f"{key}: expected {' or '.join(options)}, but {what}")
    return value


def relative(value: Any, origin: Origin, label: str) -> str:
    """A path relative to the states directory that stays inside it."""
    rel = text(value, origin, label)
    parts = rel.split("/")
    if rel.startswith("/") or ".." in parts:
        where = "relative to the states directory, without '..'"
        fail(origin, f"{label}{excerpt(rel)} must be {where}")
    return rel
