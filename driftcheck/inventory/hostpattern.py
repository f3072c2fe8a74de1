"""Host patterns as inventory files write them: `name`, `name:port`, `[v6]:port`, `web[01:20]`.

Ansible splits off a port only when what remains is a valid address or hostname (ranges
allowed); otherwise the whole text is the pattern. Ranges expand left to right, one
bracket at a time: `[01:20]` keeps the zero padding, `[a:c]` counts letters, `[0:10:2]` steps.
"""

from __future__ import annotations

import ipaddress
import re
import string

_NUM_RANGE = r"\[\d+:\d+(?::\d+)?\]"
_HEX_RANGE = r"\[[0-9a-f]+:[0-9a-f]+(?::\d+)?\]"
_ALNUM_RANGE = r"\[(?:[a-z]:[a-z]|\d+:\d+)(?::\d+)?\]"
_LABEL = rf"(?:\w|{_ALNUM_RANGE})(?:[\w-]|{_ALNUM_RANGE})*(?<![_-])"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.I | re.U)
_OCTET = rf"(?:[01]?\d{{1,2}}|2[0-4]\d|25[0-5]|{_NUM_RANGE})"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_BRACKETED_PORT = re.compile(r"\[(.+)\]:(\d+)")
_HOST_PORT = re.compile(r"((?:[^:\[\]]|\[[^\]]*\])*):(\d+)")


class RangeError(ValueError):
    """A host range that cannot be expanded."""


def expand_host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """Return the hostnames a pattern stands for and the port it names, if any."""
    try:
        address, port = split_port(pattern)
    except ValueError:
        address, port = pattern, None
    return expand_ranges(address), port


def split_port(text: str) -> tuple[str, int | None]:
    """Split `host:port` / `[host]:port`; raise ValueError unless the host is valid."""
    port = None
    for regex in (_BRACKETED_PORT, _HOST_PORT):
        match = regex.fullmatch(text)
        if match:
            text, port = match.group(1), int(match.group(2))
    if not is_address(text):
        raise ValueError(f"not a valid network hostname: {text}")
    return text, port


def is_address(text: str) -> bool:
    """An IPv4 or IPv6 address or a hostname, any of them possibly with ranges."""
    return bool(_IPV4.fullmatch(text) or _HOSTNAME.fullmatch(text) or _is_ipv6(text))


def is_ip(text: str) -> bool:
    """An IPv4 or IPv6 address (ranges allowed): its short name is itself."""
    return bool(_IPV4.fullmatch(text)) or _is_ipv6(text)


def _is_ipv6(text: str) -> bool:
    if "%" in text or ":" not in text:
        return False
    plain = re.sub(_HEX_RANGE, "0", text, flags=re.I)
    try:
        ipaddress.IPv6Address(plain)
    except ValueError:
        return False
    return True


def expand_ranges(pattern: str) -> list[str]:
    """Expand every `[begin:end(:step)]` in a pattern, leftmost first."""
    if "[" not in pattern:
        return [pattern]
    head, _, rest = pattern.partition("[")
    body, closed, tail = rest.partition("]")
    if not closed:
        raise RangeError(f"host range {pattern!r} has no closing ']'")
    names: list[str] = []
    for item in _range_items(body):
        names.extend(expand_ranges(head + item + tail))
    return names


def _range_items(body: str) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise RangeError(f"host range [{body}] must be begin:end or begin:end:step")
    begin, end = bounds[0] or "0", bounds[1]
    step = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise RangeError(f"host range [{body}] must specify an end value")
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and width != len(end):
        raise RangeError(f"host range [{body}] must use equal-length begin and end")
    try:
        return [item.zfill(width) for item in _sequence(begin, end, step)]
    except ValueError as exc:
        raise RangeError(f"bad host range [{body}]: {exc}") from None


def _sequence(begin: str, end: str, step: str) -> list[str]:
    letters = string.ascii_letters
    if begin in letters and end in letters:  # substring test, as Ansible's str.index
        first, last = letters.index(begin), letters.index(end)
        if first > last:
            raise RangeError(f"[{begin}:{end}] must have begin <= end")
        return list(letters[first : last + 1 : int(step)])
    return [str(n) for n in range(int(begin), int(end) + 1, int(step))]
