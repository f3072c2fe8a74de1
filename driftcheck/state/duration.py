"""Durations in declared state: `30d`, `12h`, `2w`, `90m`, `45s`, `1d12h`, or whole seconds."""

from __future__ import annotations

import re

from driftcheck.yamlsafe import excerpt

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+|\d+")


def parse_duration(text: str | int) -> int:
    """Seconds in `text`. Raises ValueError with a message fit for the user."""
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise ValueError(f"expected a duration like 30d, 12h, 2w, 90m or 45s, got {excerpt(text)}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"a duration cannot be negative: {text}")
        return text
    compact = text.strip()
    if not _WHOLE.fullmatch(compact):
        raise ValueError(f"expected a duration like 30d, 12h, 2w, 90m or 45s, got {excerpt(text)}")
    if compact.isdigit():
        return int(compact)
    return sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact))
