"""Two spellings of one path are one file, and a file marked sensitive stays sensitive."""

from __future__ import annotations

import pytest
from statedir import States, make_host


@pytest.mark.parametrize("spelling", ["/x//secret", "/x/./secret", "/x/secret/", "//x/secret"])
def test_spellings_of_one_path_merge_into_one_sensitive_file(states: States, spelling: str) -> None:
    states.write("all.yml", "files:\n  /x/secret: {sensitive: true, mode: '0600'}\n")
    states.write("web.yml", f'files:\n  {spelling}:\n    content: "hunter2\\n"\n')
    files = states.load().files
    assert list(files) == ["/x/secret"]
    spec = files["/x/secret"]
    assert spec.sensitive
    assert (spec.content, spec.mode) == ("hunter2\n", "0600")


def test_spellings_in_one_file_are_one_key_declared_twice(states: States) -> None:
    states.write("all.yml", "files:\n  /x/secret: present\n  /x//secret: {content: a}\n")
    states.error("all.yml", 3, "is /x/secret, already declared at line 2")


@pytest.mark.parametrize("path", ["/x/../secret", "/x/..", "/../x"])
def test_dot_dot_is_refused(states: States, path: str) -> None:
    states.write("all.yml", f"files:\n  /ok: present\n  {path}: present\n")
    states.error("all.yml", 3, "'..' is not allowed")


def test_relative_paths_are_still_refused(states: States) -> None:
    states.write("all.yml", "files:\n  x/./secret: present\n")
    states.error("all.yml", 2, "must be absolute")


@pytest.mark.parametrize(
    "later",
    [
        "{sensitive: false, content: hunter2}",
        "{content: hunter2}",
        "present",
    ],
)
def test_a_later_file_cannot_unset_sensitive(states: States, later: str) -> None:
    states.write("all.yml", "files:\n  /x/secret: {sensitive: true}\n")
    states.write("web01.yml", f"files:\n  /x/secret: {later}\n")
    assert states.load().files["/x/secret"].sensitive


def test_sensitive_survives_absent_then_content(states: States) -> None:
    states.write("all.yml", "files:\n  /x/secret: {sensitive: true}\n")
    states.write("web.yml", "files:\n  /x/secret: absent\n")
    states.write("web01.yml", "files:\n  /x/secret: {content: hunter2}\n")
    assert states.load().files["/x/secret"].sensitive


def test_sensitive_from_a_later_file_covers_earlier_content(states: States) -> None:
    states.write("all.yml", "files:\n  /x//secret: {content: hunter2}\n")
    states.write("web01.yml", "files:\n  /x/secret: {sensitive: true}\n")
    assert states.load().files["/x/secret"].sensitive


def test_a_final_absent_stays_absent(states: States) -> None:
    states.write("all.yml", "files:\n  /x/secret: {sensitive: true}\n")
    states.write("web01.yml", "files:\n  /x/secret: absent\n")
    assert states.load().files["/x/secret"].absent


def test_sensitive_only_applies_to_hosts_whose_states_say_so(states: States) -> None:
    states.write("db.yml", "files:\n  /x/secret: {sensitive: true}\n")
    states.write("all.yml", "files:\n  /x/secret: {content: hunter2}\n")
    assert not states.load(make_host("web01", ("web",))).files["/x/secret"].sensitive
    assert states.load(make_host("db01", ("db",))).files["/x/secret"].sensitive
