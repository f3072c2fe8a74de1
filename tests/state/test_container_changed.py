"""The state of the `changed` check (containers changed after they started): a container's
`changed: report | ignore` and `writable: [PATH...]`, and the top-level `container_writable`;
paths normalised, wrong values errors at their file and line."""

from __future__ import annotations

import pytest
from statedir import States


def test_changed_and_writable(states: States) -> None:
    states.write(
        "all.yml",
        """
        containers:
          web: {image: "app:1.4", writable: [/srv/data/, "/var//lib/web"]}
          batch: {changed: ignore}
          plain: {running: true}
        container_writable: [/var/lib/app, /var/lib/app/]
        """,
    )
    state = states.load()
    web, batch, plain = (state.containers[n] for n in ("web", "batch", "plain"))
    assert (web.changed, web.writable) == ("report", ("/srv/data", "/var/lib/web"))
    assert (batch.changed, batch.writable) == ("ignore", ())
    assert (plain.changed, plain.writable) == ("report", ())
    assert state.container_writable == ("/var/lib/app",)


def test_unset_by_default(states: States) -> None:
    states.write("all.yml", "packages: {curl: absent}\n")
    assert states.load().container_writable == ()


ERRORS = [
    ("containers:\n  web: {changed: yes}\n", 2, "changed: expected report or ignore"),
    ("containers:\n  web: {change: ignore}\n", 2, "unknown key 'change'"),
    ("containers:\n  web: {writable: /srv}\n", 2, "writable: expected a list of absolute paths"),
    ("containers:\n  web:\n    writable:\n      - srv\n", 4, "the path must be absolute"),
    ("container_writable:\n  - /srv\n  - /srv/../etc\n", 3, "'..' is not allowed"),
    ("container_writable: [/]\n", 1, "write `changed: ignore` instead"),
    ("container_writable: [12]\n", 1, "container_writable: expected a string"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[2] for c in ERRORS])
def test_errors_name_file_and_line(states: States, case: tuple[object, ...]) -> None:
    text, line, *fragments = case
    states.write("web.yml", str(text))
    states.error("web.yml", int(str(line)), *(str(f) for f in fragments))


def test_not_inside_a_container_state(states: States) -> None:
    states.write("containers/app.yml", "container_writable: [/srv]\n")
    states.write("all.yml", "containers:\n  app: {state: containers/app.yml}\n")
    states.error("containers/app.yml", 1, "unknown key 'container_writable'")
