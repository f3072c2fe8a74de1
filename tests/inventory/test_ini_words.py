"""The host-line splitter's fast path splits exactly as shlex.split(comments=True) does."""

from __future__ import annotations

import random
import shlex

from driftcheck.inventory.ini import _words

# shlex's blanks, its quotes, escape and comment, and whitespace that shlex does not split on
ALPHABET = " \t\r\nab=1'\"\\#\x0b\x0c\xa0\u2003x"


def split_or_error(split: object, text: str) -> list[str] | str:
    try:
        return split(text)  # type: ignore[operator, no-any-return]
    except ValueError:
        return "error"


def test_fast_path_agrees_with_shlex_on_random_lines() -> None:
    rng = random.Random(20261130)
    for _ in range(20_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14)))
        expected = split_or_error(lambda t: shlex.split(t, comments=True), text)
        assert split_or_error(_words, text) == expected, repr(text)
