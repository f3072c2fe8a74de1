from __future__ import annotations

import pytest

from driftcheck.state import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * 86400),
        ("12h", 12 * 3600),
        ("2w", 14 * 86400),
        ("90m", 90 * 60),
        ("45s", 45),
        ("1d12h", 36 * 3600),
        (" 7d ", 7 * 86400),
        ("3600", 3600),
        (0, 0),
        (86400, 86400),
    ],
)
def test_parse_duration(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "30 days", "1.5d", "-1d", "30D", -1, True, 1.5])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)  # type: ignore[arg-type]
