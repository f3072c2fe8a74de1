"""`containers:` and the state declared inside each container (same schema, same host vars)."""

from __future__ import annotations

from statedir import States, make_host


def test_containers_section(states: States) -> None:
    states.write(
        "containers/app.yml",
        """
        packages:
          curl: absent
          app-{{ inventory_hostname }}: "1.4"
        files:
          /app/config.yml:
            template: templates/app-config.j2
        host:
          max_zombies: 0
        services:
          app: {running: true}
        """,
    )
    states.write("templates/app-config.j2", "listen: {{ port }}\n")
    states.write(
        "all.yml",
        """
        containers:
          app:
            image: "registry.example/app:1.4"
            running: true
            state: containers/app.yml
          debug-shell: absent
          sidecar: {image: "busybox@sha256:{{ 'c' * 64 }}"}
        unexpected_containers: report
        """,
    )
    state = states.load(make_host("web07", ("web",), port=8000))
    assert state.unexpected_containers == "report"
    app = state.containers["app"]
    assert (app.image, app.running, app.absent) == ("registry.example/app:1.4", True, False)
    assert app.state is not None
    assert set(app.state.packages) == {"curl", "app-web07"}
    assert app.state.files["/app/config.yml"].content == "listen: 8000\n"
    assert app.state.host.max_zombies == 0
    assert app.state.sources == (str(states.dir / "containers/app.yml"),)
    assert app.state.packages["curl"].origin is not None
    assert app.state.packages["curl"].origin.path == str(states.dir / "containers/app.yml")
    assert state.containers["debug-shell"].absent
    assert state.containers["sidecar"].state is None
    assert str(app.origin) == f"{states.dir / 'all.yml'}:2"


def test_containers_merge_across_files(states: States) -> None:
    states.write("all.yml", "containers:\n  app: {image: 'app:1.3', running: true}\n")
    states.write("web01.yml", "containers:\n  app: {image: 'app:1.4'}\n")
    app = states.load().containers["app"]
    assert (app.image, app.running) == ("app:1.4", True)


def test_unexpected_containers_defaults_to_ignore(states: States) -> None:
    states.write("all.yml", "containers: {}\n")
    assert states.load().unexpected_containers == "ignore"


def test_missing_container_state_file_names_the_declaring_line(states: States) -> None:
    states.write("all.yml", "containers:\n  app:\n    image: app\n    state: containers/app.yml\n")
    states.error("all.yml", 4, "state file not found")


def test_error_inside_container_state_names_that_file(states: States) -> None:
    states.write("containers/app.yml", "packages:\n  curl: present\n  jq: 1.6\n")
    states.write("all.yml", "containers:\n  app: {state: containers/app.yml}\n")
    states.error("containers/app.yml", 3, "quote the version")


def test_template_error_inside_container_state_names_that_file(states: States) -> None:
    states.write("containers/app.yml", "packages:\n  {{ nope }}: present\n")
    states.write("all.yml", "containers:\n  app: {state: containers/app.yml}\n")
    states.error("containers/app.yml", 2, "'nope' is undefined")


def test_containers_do_not_nest(states: States) -> None:
    states.write("containers/app.yml", "containers:\n  inner: absent\n")
    states.write("all.yml", "containers:\n  app: {state: containers/app.yml}\n")
    states.error("containers/app.yml", 1, "container state: unknown key 'containers'")


def test_container_errors(states: States) -> None:
    cases = [
        ("containers:\n  app: stopped\n", 2, "container app: expected absent or a mapping"),
        ("containers:\n  app: {image: app, runing: true}\n", 2, "did you mean 'running'"),
        ("containers:\n  app: {running: 'no'}\n", 2, "running: expected true or false"),
        ("containers:\n  app: {image: 1.4}\n", 2, "image: expected a string"),
        ("containers:\n  'bad name': absent\n", 2, "not a container name"),
        ("containers:\n  app:\n    state: /etc/app.yml\n", 3, "relative to the states"),
        ("containers:\n  app:\n    state: ../app.yml\n", 3, "relative to the states"),
        ("containers:\n  - app\n", 1, "containers: expected a mapping"),
    ]
    for text, line, fragment in cases:
        states.write("all.yml", text)
        states.error("all.yml", line, fragment)
