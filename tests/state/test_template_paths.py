"""Templates stay inside the states directory by real path: symlinks that leave it are refused
wherever a template is named (state files, template:, include, import, from, extends)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from statedir import States

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-but-secret\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside states/ holding a (fake) private key: what an attacker points at."""
    secrets = tmp_path / "dot-ssh"
    secrets.mkdir()
    (secrets / "id_ed25519").write_text(KEY)
    return secrets


def link(states: States, name: str, target: Path) -> None:
    path = states.dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def test_template_through_a_symlinked_directory_is_refused(states: States, outside: Path) -> None:
    link(states, "templates/dirlink", outside)
    states.write("all.yml", "files:\n  /etc/x:\n    template: templates/dirlink/id_ed25519\n")
    message = states.error("all.yml", 3, "refused", "outside the states directory")
    assert "fake-but-secret" not in message


def test_symlinked_template_file_is_refused(states: States, outside: Path) -> None:
    link(states, "templates/key.j2", outside / "id_ed25519")
    states.write("all.yml", "files:\n  /etc/x: {template: templates/key.j2}\n")
    states.error("all.yml", 2, "refused")


@pytest.mark.parametrize(
    "statement",
    [
        "{% include 'templates/dirlink/id_ed25519' %}",
        "{% import 'templates/dirlink/id_ed25519' as k %}",
        "{% from 'templates/dirlink/id_ed25519' import x %}",
        "{% extends 'templates/dirlink/id_ed25519' %}",
    ],
)
def test_every_jinja_statement_that_loads_a_file_is_contained(
    states: States, outside: Path, statement: str
) -> None:
    link(states, "templates/dirlink", outside)
    states.write("templates/app.j2", f"line one\n{statement}\n")
    states.write("all.yml", "files:\n  /etc/app:\n    template: templates/app.j2\n")
    message = states.error("templates/app.j2", 2, "refused")
    assert "fake-but-secret" not in message


def test_include_in_a_state_file_names_the_include_line(states: States, outside: Path) -> None:
    link(states, "parts", outside)
    states.write("all.yml", "packages:\n  a: present\n{% include 'parts/id_ed25519' %}\n")
    states.error("all.yml", 3, "refused")


def test_a_symlinked_state_file_leading_outside_is_refused(states: States, outside: Path) -> None:
    (outside / "web.yml").write_text("packages:\n  from-outside: present\n")
    link(states, "web.yml", outside / "web.yml")
    states.error("web.yml", None, "refused", "outside the states directory")


def test_symlinks_that_stay_inside_are_followed(states: States, tmp_path: Path) -> None:
    states.write("shared/web.yml", "packages:\n  nginx: present\n")
    states.write("shared/app.j2", "port={{ port }}\n")
    link(states, "web.yml", Path("shared/web.yml"))
    link(states, "templates", Path("shared"))
    states.write("all.yml", "files:\n  /etc/app: {template: templates/app.j2}\n")
    state = states.load()
    assert set(state.packages) == {"nginx"}
    assert state.files["/etc/app"].content == "port=8080\n"
    # the states directory itself may be a symlink (a checkout kept elsewhere)
    via = tmp_path / "states-link"
    via.symlink_to(states.dir)
    assert set(States(via).load().packages) == {"nginx"}


def test_a_link_swapped_after_a_first_render_is_refused(states: States, outside: Path) -> None:
    # the Jinja2 environment is shared by every host and caches compiled templates: its
    # freshness check must re-resolve the real path, not only look at an mtime
    states.write("real/key.j2", "harmless\n")
    link(states, "templates/key.j2", states.dir / "real" / "key.j2")
    states.write("all.yml", "files:\n  /etc/x: {template: templates/key.j2}\n")
    assert states.load().files["/etc/x"].content == "harmless\n"
    (states.dir / "templates" / "key.j2").unlink()
    link(states, "templates/key.j2", outside / "id_ed25519")
    states.error("all.yml", 2, "refused")


def test_a_fifo_is_refused_not_waited_on(states: States) -> None:
    os.mkfifo(states.dir / "pipe.j2")
    states.write("all.yml", "files:\n  /etc/x: {template: pipe.j2}\n")
    states.error("all.yml", 2, "not a regular file")
