"""os-release values read without shlex where they can be: the same as shlex reads them."""

from __future__ import annotations

import random
import shlex

from driftcheck.collectors.facts import os_release_value, parse_os_release


def reference(value: str) -> str:
    """What parse_os_release always did: shlex, else the value without outer quotes."""
    try:
        return " ".join(shlex.split(value, comments=False))
    except ValueError:
        return value.strip("\"'")


def test_random_values_read_as_shlex_reads_them() -> None:
    rng = random.Random(11)
    alphabet = ["a", "b", " ", "\t", "\n", "\r", "\x0b", "\xa0", '"', "'", "\\", "$", "#", "(", "é"]
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        if rng.random() < 0.4:
            value = f'"{value.replace(chr(34), "")}"'  # the usual form, wholly double-quoted
        assert os_release_value(value) == reference(value), repr(value)


def test_a_real_os_release() -> None:
    raw = (
        b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        b'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
        b'HOME_URL="https://www.debian.org/"\n'
    )
    assert parse_os_release(raw) == {
        "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux",
        "VERSION_ID": "12", "VERSION": "12 (bookworm)", "VERSION_CODENAME": "bookworm",
        "ID": "debian", "HOME_URL": "https://www.debian.org/",
    }  # fmt: skip
