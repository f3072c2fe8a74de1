"""JSON read back, checked against the TypedDict that describes it.

The TypedDicts of model/document.py are the report's schema: this checks a parsed JSON value
against one of them, so a field added there is checked with no more code. A missing key, a value
of the wrong type, a count below zero or past 2^53, a number JSON cannot hold (NaN, Infinity) or
nesting deeper than MAX_DEPTH is an InputError naming the file and the field, e.g.
`r.json: hosts[3].findings: expected an array, got a string`. Keys a TypedDict does not name are
allowed (fields may be added within a schema version) and only bounded in depth.
"""

from __future__ import annotations

import json
import math
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NotRequired, Required, Union, get_args, get_origin, get_type_hints, is_typeddict

from driftcheck.errors import InputError

MAX_DEPTH = 64  # levels of nesting in a document (a report's own fields go 7 deep)
MAX_INT = 2**53 - 1  # the largest integer report.js reads exactly

Where = tuple[str | int, ...]  # the path to a value: keys and list indexes
Check = Callable[[object], None]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALARS = (str, int, float, bool, type(None))


class _Mismatch(Exception):
    """A value that is not what its shape says; check_shape turns it into an InputError."""

    def __init__(self, where: Where, message: str) -> None:  # where: below the value checked
        super().__init__(message)
        self.where = where
        self.message = message


def parse_json(text: str, source: str) -> object:
    """JSON text as Python values; what is not JSON, or nests past what the parser takes, is an
    input error naming `source`."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError(source, exc.lineno, f"not a JSON report: {exc.msg}") from exc
    except RecursionError as exc:  # the parser's own bound, past MAX_DEPTH
        raise InputError(source, None, f"nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # NaN, Infinity, or an integer of more than 4,300 digits
        raise InputError(
            source, None, "not a JSON report: NaN, Infinity or a number of over 4,300 digits"
        ) from exc


def _refuse_constant(name: str) -> object:
    raise ValueError(name)


def check_shape(value: object, shape: object, source: str) -> None:
    """Raise an InputError naming `source` and the field unless `value` fits `shape` (a
    TypedDict, or a list, dict, union or scalar type of them)."""
    try:
        checker(shape).check(value)
    except _Mismatch as exc:
        raise InputError(source, None, f"{where_text(exc.where)}: {exc.message}") from None


def where_text(where: Where) -> str:
    """`hosts[3].findings[0].kind`; a key that is not a name in brackets: `facts["a b"]`."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)[:80]}]"
    return (out if len(out) <= 200 else f"{out[:197]}...") or "the document"


@dataclass(frozen=True)
class Checker:
    """The check of one annotation. A value whose type is in `plain` fits as it is (the common
    case, tested inline by the containers); any other goes through `check`, which raises
    _Mismatch. Paths are added on the way out of a mismatch only: a report that fits costs no
    path building."""

    plain: frozenset[type]
    check: Check


@cache
def checker(shape: object) -> Checker:
    """The check of one annotation, built once."""
    if is_typeddict(shape):
        return Checker(frozenset(), _typed_dict(shape))
    origin, args = get_origin(shape), get_args(shape)
    if origin is list:
        return Checker(frozenset(), _list(checker(args[0])))
    if origin is dict:
        return Checker(frozenset(), _dict(checker(args[1])))
    if origin in (Union, types.UnionType):
        return _union(args)
    if shape in _SCALARS:
        return _union((shape,))
    raise TypeError(f"no check for {shape!r}")  # a schema type this module does not know yet


def _typed_dict(shape: object) -> Check:
    hints = get_type_hints(shape, include_extras=True)
    # __required_keys__ is wrong for string annotations before Python 3.12: read NotRequired
    required = [k for k, hint in hints.items() if get_origin(hint) is not NotRequired]
    fields = {k: checker(_unwrapped(hint)) for k, hint in hints.items()}

    def check(value: object) -> None:
        if type(value) is not dict:
            raise _Mismatch((), f"expected an object, got {_described(value)}")
        for key in required:
            if key not in value:
                raise _Mismatch((key,), "missing")
        for key, item in value.items():
            field = fields.get(key)
            try:
                if field is None:
                    _bounded(item)
                elif type(item) not in field.plain:
                    field.check(item)
            except _Mismatch as exc:
                exc.where = (key, *exc.where)
                raise

    return check


def _unwrapped(hint: object) -> object:
    return get_args(hint)[0] if get_origin(hint) in (NotRequired, Required) else hint


def _list(item: Checker) -> Check:
    plain, check_item = item.plain, item.check

    def check(value: object) -> None:
        if type(value) is not list:
            raise _Mismatch((), f"expected an array, got {_described(value)}")
        for index, element in enumerate(value):
            if type(element) not in plain:
                try:
                    check_item(element)
                except _Mismatch as exc:
                    exc.where = (index, *exc.where)
                    raise

    return check


def _dict(item: Checker) -> Check:
    plain, check_item = item.plain, item.check

    def check(value: object) -> None:
        if type(value) is not dict:
            raise _Mismatch((), f"expected an object, got {_described(value)}")
        for key, element in value.items():
            if type(element) not in plain:
                try:
                    check_item(element)
                except _Mismatch as exc:
                    exc.where = (key, *exc.where)
                    raise

    return check


def _union(args: tuple[object, ...]) -> Checker:
    """Scalars, or one other type and null (`ShardEntry | None`)."""
    others = [a for a in args if a not in _SCALARS]
    if not others:
        # strings, true/false and null fit as they are; numbers have their range checked
        plain = frozenset(a for a in (str, bool, type(None)) if a in args)
        return Checker(plain, _scalar(args))
    if len(others) > 1 or len(args) != 2 or type(None) not in args:
        raise TypeError(f"no check for a union of {args!r}")
    inner = checker(others[0])
    return Checker(inner.plain | {type(None)}, inner.check)


def _scalar(args: tuple[object, ...]) -> Check:
    # An integer field of its own is a count: never negative. In a union with other scalars
    # (a fact's value) it may be.
    signed = any(a in (str, float, bool) for a in args)
    low, span = (-MAX_INT, "-(2^53-1)..2^53-1") if signed else (0, "0..2^53-1")
    names = [_JSON_NAMES[a] for a in args]
    expected = " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"
    allowed = (*args, int) if float in args else args  # 4 is a number; true is not an integer

    def check(value: object) -> None:
        if type(value) not in allowed:
            raise _Mismatch((), f"expected {expected}, got {_described(value)}")
        if isinstance(value, int) and not low <= value <= MAX_INT:
            raise _Mismatch((), f"{short(value)} is out of range ({span})")
        if isinstance(value, float) and not math.isfinite(value):
            raise _Mismatch((), f"{value} is not a finite number")

    return check


_JSON_NAMES: dict[object, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _bounded(value: object) -> None:
    """A value no TypedDict describes: only its depth is bounded (it is kept, not read)."""
    stack: list[tuple[object, Where]] = [(value, ())]
    while stack:
        item, at = stack.pop()
        if isinstance(item, dict | list):
            if len(at) >= MAX_DEPTH:
                raise _Mismatch(at, f"nested deeper than {MAX_DEPTH} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((child, (*at, key)) for key, child in pairs)


def _described(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return f"{_JSON_NAMES.get(type(value), type(value).__name__)} ({short(value)})"


def short(value: object) -> str:
    """A value in a message: ASCII (no control or bidi characters), at most about 60."""
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."
