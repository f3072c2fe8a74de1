"""Version ordering in each package manager's own terms: dpkg, rpm (rpmvercmp) and apk.

`compare_versions` returns -1, 0 or 1 like the managers' own `vercmp`. Each ordering is checked in
tests against the real tool (dpkg --compare-versions, rpm's lua `rpm.vercmp`) or, for apk, against
apk-tools' own test vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from debian.debian_support import Version as DebianVersion

from driftcheck.model import PackageSpec


def compare_versions(manager: str, a: str, b: str) -> int:
    """-1, 0 or 1 as `a` sorts before, with or after `b`. ValueError: unknown manager or
    (dpkg only) a string that is not a Debian version at all."""
    try:
        cmp = _COMPARERS[manager]
    except KeyError:
        raise ValueError(f"unknown package manager {manager!r}") from None
    return cmp(a, b)


def satisfies(manager: str, installed: str, spec: PackageSpec) -> bool:
    """Whether an installed version meets a declared spec. A version that cannot be compared
    does not satisfy: the finding then shows both strings instead of hiding the drift."""
    if spec.op in ("present", "absent"):
        return spec.op == "present"
    if spec.version is None:
        return False
    if manager == "rpm":
        installed = _rpm_match_release(installed, spec.version)
    try:
        order = compare_versions(manager, installed, spec.version)
    except ValueError:
        return False
    check = _OPS.get(spec.op)
    return check is not None and check(order)


_OPS: dict[str, Callable[[int], bool]] = {
    "=": lambda o: o == 0,
    "<": lambda o: o < 0,
    "<=": lambda o: o <= 0,
    ">=": lambda o: o >= 0,
    ">": lambda o: o > 0,
}


# --- dpkg ------------------------------------------------------------------------------------


def dpkg_compare(a: str, b: str) -> int:
    """Debian policy 5.6.12 ordering, as dpkg implements it (python-debian)."""
    va, vb = DebianVersion(a), DebianVersion(b)
    return (va > vb) - (va < vb)


# --- rpm ---------------------------------------------------------------------------------------


def _rpm_alpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _rpm_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _rpm_skip_separators(s: str, i: int) -> int:
    while i < len(s) and not (_rpm_alpha(s[i]) or _rpm_digit(s[i]) or s[i] in "~^"):
        i += 1
    return i


def _rpm_segment(s: str, i: int, numeric: bool) -> int:
    accept = _rpm_digit if numeric else _rpm_alpha
    while i < len(s) and accept(s[i]):
        i += 1
    return i


def _rpm_tilde_caret(a: str, i: int, b: str, j: int) -> int | None:  # noqa: PLR0911 - rpm's cases
    """rpmvercmp's `~` (sorts before anything, even the end) and `^` (after the end, before
    anything else). None: neither is at hand."""
    ca, cb = a[i : i + 1], b[j : j + 1]
    if "~" in (ca, cb):
        if ca != cb:
            return -1 if ca == "~" else 1
        return 0
    if "^" in (ca, cb):
        if not ca:
            return -1
        if not cb:
            return 1
        if ca != cb:
            return -1 if ca == "^" else 1
        return 0
    return None


def _rpm_compare_segments(x: str, y: str, numeric: bool) -> int:
    if numeric:
        x, y = x.lstrip("0"), y.lstrip("0")
        if len(x) != len(y):
            return 1 if len(x) > len(y) else -1
    return (x > y) - (x < y)


def rpmvercmp(a: str, b: str) -> int:
    """rpm's rpmvercmp() on one version or release string."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        i, j = _rpm_skip_separators(a, i), _rpm_skip_separators(b, j)
        special = _rpm_tilde_caret(a, i, b, j)
        if special is not None:
            if special:
                return special
            i, j = i + 1, j + 1
            continue
        if i >= len(a) or j >= len(b):
            break
        numeric = _rpm_digit(a[i])
        ei, ej = _rpm_segment(a, i, numeric), _rpm_segment(b, j, numeric)
        if ej == j:  # different kinds of segment: numeric is newer than alpha
            return 1 if numeric else -1
        rc = _rpm_compare_segments(a[i:ei], b[j:ej], numeric)
        if rc:
            return rc
        i, j = ei, ej
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def _rpm_split_evr(evr: str) -> tuple[str, str, str | None]:
    """`[epoch:]version[-release]` as rpm parses it (the release follows the last '-')."""
    digits = len(evr) - len(evr.lstrip("0123456789"))
    epoch, rest = "0", evr
    if evr[digits : digits + 1] == ":":
        epoch, rest = (evr[:digits] or "0"), evr[digits + 1 :]
    version, dash, release = rest.rpartition("-")
    if not dash:
        return epoch, rest, None
    return epoch, version, release


def rpm_compare(a: str, b: str) -> int:
    """rpm's EVR ordering (lua `rpm.vercmp`): epoch (missing is 0), version, then release (a
    missing release sorts before any)."""
    ea, va, ra = _rpm_split_evr(a)
    eb, vb, rb = _rpm_split_evr(b)
    return rpmvercmp(ea, eb) or rpmvercmp(va, vb) or rpmvercmp(ra or "", rb or "")


def _rpm_match_release(installed: str, wanted: str) -> str:
    """As rpm matches a dependency: `foo = 1.2` names no release, so any release of 1.2 fits."""
    if _rpm_split_evr(wanted)[2] is not None:
        return installed
    epoch, version, _ = _rpm_split_evr(installed)
    return f"{epoch}:{version}"


# --- apk ---------------------------------------------------------------------------------------
# apk-tools' grammar: digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]. Token kinds are
# ordered: after equal leading tokens, the version that goes on to a later kind sorts first.

_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION, _END, _INVALID = range(9)
_SUFFIXES = ("alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p")
_NO_SUFFIX = _SUFFIXES.index("")  # suffixes before it are pre-releases, after it post-releases


@dataclass
class _ApkToken:
    kind: int
    text: str = ""
    suffix: int = _NO_SUFFIX


def _apk_span(s: str, i: int, accept: Callable[[str], bool]) -> int:
    while i < len(s) and accept(s[i]):
        i += 1
    return i


def _apk_tokens(s: str) -> Iterator[_ApkToken]:
    """apk-tools' token_first()/token_next(): yields tokens, then one END or INVALID."""
    end = _apk_span(s, 0, _rpm_digit)
    token = _ApkToken(_INITIAL if end else _INVALID, s[:end])
    i = end
    while token.kind < _END:
        yield token
        token, i = _apk_next(s, i, token.kind)
    yield token


def _apk_next(s: str, i: int, prev: int) -> tuple[_ApkToken, int]:  # noqa: PLR0911 - one per rule
    if i >= len(s):
        return _ApkToken(_END), i
    c = s[i]
    if "a" <= c <= "z" and prev <= _DIGIT:
        return _ApkToken(_LETTER, c), i + 1
    if c == "." and prev <= _DIGIT:
        return _apk_digits(s, i + 1, _DIGIT)
    if _rpm_digit(c) and prev == _SUFFIX:
        return _apk_digits(s, i, _SUFFIX_NO)
    if c == "_" and prev <= _SUFFIX_NO:
        end = _apk_span(s, i + 1, lambda ch: "a" <= ch <= "z")
        name = s[i + 1 : end]
        if name and name in _SUFFIXES:
            return _ApkToken(_SUFFIX, name, _SUFFIXES.index(name)), end
    if c == "~" and prev < _HASH:
        end = _apk_span(s, i + 1, lambda ch: ch in "0123456789abcdefABCDEF")
        if end > i + 1:
            return _ApkToken(_HASH, s[i + 1 : end]), end
    if s.startswith("-r", i) and prev < _REVISION:
        return _apk_digits(s, i + 2, _REVISION)
    return _ApkToken(_INVALID), i


def _apk_digits(s: str, i: int, kind: int) -> tuple[_ApkToken, int]:
    end = _apk_span(s, i, _rpm_digit)
    return _ApkToken(kind if end > i else _INVALID, s[i:end]), end


def _apk_key(t: _ApkToken, as_text: bool) -> tuple[int, str]:
    if as_text or t.kind in (_LETTER, _HASH):
        return 0, t.text
    return (t.suffix if t.kind == _SUFFIX else int(t.text)), ""


def _apk_token_cmp(a: _ApkToken, b: _ApkToken) -> int:
    # A leading zero in a dotted number compares as text, like Gentoo: 1.01 < 1.1.
    as_text = a.kind == _DIGIT and (a.text.startswith("0") or b.text.startswith("0"))
    x, y = _apk_key(a, as_text), _apk_key(b, as_text)
    return (x > y) - (x < y)


def apk_compare(a: str, b: str) -> int:
    """apk-tools' apk_version_compare()."""
    for ta, tb in zip(_apk_tokens(a), _apk_tokens(b), strict=False):
        if ta.kind != tb.kind or ta.kind >= _END:
            return _apk_tail(ta, tb)
        rc = _apk_token_cmp(ta, tb)
        if rc:
            return rc
    return 0  # unreachable: both token streams end with END or INVALID


def _apk_tail(ta: _ApkToken, tb: _ApkToken) -> int:
    """Equal so far: the longer version is newer, unless it goes on with a pre-release."""
    if ta.kind == tb.kind:
        return 0
    if ta.kind == _SUFFIX and ta.suffix < _NO_SUFFIX:
        return -1
    if tb.kind == _SUFFIX and tb.suffix < _NO_SUFFIX:
        return 1
    return -1 if ta.kind > tb.kind else 1


_COMPARERS: dict[str, Callable[[str, str], int]] = {
    "dpkg": dpkg_compare,
    "rpm": rpm_compare,
    "apk": apk_compare,
}
