"""The docs are tested: every command has --help and a README mention; every scan option is
documented; the exit codes in the README match the code (sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from driftcheck.cli import build_parser
from driftcheck.cli.commands import COMMANDS
from driftcheck.errors import ExitStatus

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"driftcheck {name}" in README


def _subparser(name: str):  # type: ignore[no-untyped-def]
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[name]  # type: ignore[index]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    text = _subparser(name).format_help()
    assert COMMANDS[name][0] in text


def test_every_scan_option_is_in_the_readme() -> None:
    options = [
        o for a in _subparser("scan")._actions for o in a.option_strings if o.startswith("--")
    ]
    missing = [o for o in options if o not in README and o != "--help"]
    assert missing == []


def test_readme_exit_codes_match_the_code() -> None:
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", README, re.M)}
    assert documented == {int(s) for s in ExitStatus}
