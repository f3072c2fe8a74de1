"""YAML 1.1 reads `1.10` as 1.1, `no` as false and `0644` as 420: each is an error that says so."""

from __future__ import annotations

import pytest
from statedir import States


@pytest.mark.parametrize(
    ("value", "read_as"),
    [("1.10", "the number 1.1"), ("2", "the number 2"), ("1.0", "the number 1.0")],
)
def test_numeric_version_must_be_quoted(states: States, value: str, read_as: str) -> None:
    states.write("all.yml", f"packages:\n  openssh-server: present\n  acme-agent: {value}\n")
    message = states.error("all.yml", 3, f"YAML reads {value} as {read_as}")
    assert f'quote the version: "{value}"' in message


@pytest.mark.parametrize(("word", "boolean"), [("no", "false"), ("yes", "true"), ("on", "true")])
def test_boolean_package_spec_is_explained(states: States, word: str, boolean: str) -> None:
    states.write("all.yml", f"packages:\n  telnetd: {word}\n")
    message = states.error("all.yml", 2, f"YAML reads {word} as the boolean {boolean}")
    assert "write present or absent" in message


@pytest.mark.parametrize(
    ("mode", "read_as", "advice"),
    [
        ("0644", "the number 420 (a leading 0 makes it octal)", '"0644"'),
        ("644", "the number 644", '"0644"'),
        ("0755", "the number 493", '"0755"'),
    ],
)
def test_unquoted_mode_is_explained(states: States, mode: str, read_as: str, advice: str) -> None:
    states.write("all.yml", f"files:\n  /etc/passwd:\n    owner: root\n    mode: {mode}\n")
    message = states.error("all.yml", 4, f"YAML reads {mode} as {read_as}")
    assert f"quote the mode: {advice}" in message


def test_boolean_where_a_choice_is_expected(states: States) -> None:
    states.write("all.yml", "unexpected_packages: no\n")
    states.error("all.yml", 1, "YAML reads no as the boolean false")


def test_boolean_owner_is_explained(states: States) -> None:
    states.write("all.yml", "files:\n  /etc/a:\n    owner: off\n")
    states.error("all.yml", 3, "YAML reads off as the boolean false", 'quote it: "off"')


def test_boolean_or_numeric_names_must_be_quoted(states: States) -> None:
    states.write("all.yml", "packages:\n  yes: present\n")
    states.error("all.yml", 2, "packages: a name", 'quote it: "True"')
    states.write("all.yml", "services:\n  on: {running: true}\n")
    states.error("all.yml", 2, "services: a unit name", "boolean")


def test_date_version_must_be_quoted(states: States) -> None:
    states.write("all.yml", "packages:\n  tzdata: 2024-01-01\n")
    states.error("all.yml", 2, "package tzdata: it is a date", 'quote the version: "2024-01-01"')


def test_quoted_values_are_fine(states: States) -> None:
    states.write(
        "all.yml",
        """
        packages:
          acme: "1.10"
          "no": present
        files:
          /etc/a: {mode: "0644", owner: "off"}
        """,
    )
    state = states.load()
    assert state.packages["acme"].version == "1.10"
    assert "no" in state.packages
    assert state.files["/etc/a"].owner == "off"
