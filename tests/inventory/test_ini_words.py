"""shell.split's fast path splits exactly as shlex.split does, with and without comments (host
lines are split with them, os-release values without)."""

from __future__ import annotations

import random
import shlex

import pytest

from driftcheck import shell

# shlex's blanks, its quotes, escape and comment, and whitespace that shlex does not split on
ALPHABET = " \t\r\nab=1'\"\\#\x0b\x0c\xa0\u2003x"


def split_or_error(split: object, text: str) -> list[str] | str:
    try:
        return split(text)  # type: ignore[operator, no-any-return]
    except ValueError:
        return "error"


@pytest.mark.parametrize("comments", [True, False])
def test_fast_path_agrees_with_shlex_on_random_lines(comments: bool) -> None:
    rng = random.Random(20261130)
    for _ in range(20_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14)))
        expected = split_or_error(lambda t: shlex.split(t, comments=comments), text)
        got = split_or_error(lambda t: shell.split(t, comments=comments), text)
        assert got == expected, repr(text)
