"""Each state file and file template is rendered with the host's variables (StrictUndefined)."""

from __future__ import annotations

from statedir import States, make_host


def test_state_file_sees_inventory_vars_hostname_and_group_names(states: States) -> None:
    states.write(
        "all.yml",
        """
        packages:
          agent-{{ inventory_hostname }}: present
        {% for group in group_names %}
          role-{{ group }}: absent
        {% endfor %}
        files:
          /etc/app.conf:
            content: "port={{ port }}\\n"
        """,
    )
    state = states.load(make_host("web01", ("web", "prod"), port=9090))
    assert set(state.packages) == {"agent-web01", "role-web", "role-prod"}
    assert state.files["/etc/app.conf"].content == "port=9090\n"


def test_origins_of_loop_output_point_at_the_loop_body(states: States) -> None:
    states.write(
        "all.yml",
        """
        packages:
          first: present
        {% for name in ["a", "b", "c"] %}
          {{ name }}: absent
        {% endfor %}
          last: present
        """,
    )
    packages = states.load().packages
    assert [packages[n].origin.line for n in ("first", "a", "b", "c", "last")] == [2, 4, 4, 4, 6]


def test_undefined_variable_names_file_and_line(states: States) -> None:
    states.write("all.yml", "packages:\n  nginx: present\n  x: {{ nope }}\n")
    states.error("all.yml", 3, "'nope' is undefined")


def test_undefined_attribute_is_an_error_too(states: States) -> None:
    states.write("web.yml", 'packages:\n  x: "{{ group_names.missing }}"\n')
    states.error("web.yml", 2, "template error", "missing")


def test_template_syntax_error_names_file_and_line(states: States) -> None:
    states.write("all.yml", "packages:\n  a: present\n{% for x in y %}\n  b: present\n")
    states.error("all.yml", 4, "endfor")


def test_failing_filter_names_file_and_line(states: States) -> None:
    states.write("all.yml", "host:\n  max_zombies: {{ 1 // 0 }}\n")
    states.error("all.yml", 2, "ZeroDivisionError")


def test_include_of_a_missing_template_names_the_including_line(states: States) -> None:
    states.write("all.yml", "packages:\n{% include 'parts/pkgs.yml' %}\n")
    states.error("all.yml", 2, "template not found: parts/pkgs.yml")


def test_non_utf8_state_file_is_an_error(states: States) -> None:
    (states.dir / "all.yml").write_bytes(b"packages:\n  caf\xe9: present\n")
    states.error("all.yml", None, "UTF-8")


def test_rendering_is_sandboxed(states: States) -> None:
    states.write("all.yml", "x: {{ ''.__class__.__mro__ }}\n")
    states.error("all.yml", 1, "template error")


def test_file_template_is_rendered_with_host_vars(states: States) -> None:
    states.write("templates/app.conf.j2", "host={{ inventory_hostname }}\nport={{ port }}\n")
    states.write(
        "all.yml",
        """
        files:
          /etc/app.conf:
            template: templates/app.conf.j2
            mode: "0600"
        """,
    )
    spec = states.load(make_host("db1", ("db",), port=5432)).files["/etc/app.conf"]
    assert spec.content == "host=db1\nport=5432\n"  # the trailing newline is kept
    assert spec.mode == "0600"


def test_file_template_blocks_leave_no_blank_lines(states: States) -> None:
    states.write("t.j2", "{% for g in group_names %}\n{{ g }}\n{% endfor %}\n")
    states.write("all.yml", "files:\n  /etc/groups.txt: {template: t.j2}\n")
    assert states.load().files["/etc/groups.txt"].content == "web\nprod\n"


def test_error_in_file_template_names_the_template_and_its_line(states: States) -> None:
    states.write("templates/app.conf.j2", "a=1\nb={{ undefined_thing }}\n")
    states.write("all.yml", "files:\n  /etc/app.conf:\n    template: templates/app.conf.j2\n")
    states.error("templates/app.conf.j2", 2, "'undefined_thing' is undefined")


def test_syntax_error_in_file_template_names_the_template(states: States) -> None:
    states.write("t.j2", "ok\n{% if %}\n")
    states.write("all.yml", "files:\n  /etc/x: {template: t.j2}\n")
    states.error("t.j2", 2)


def test_missing_file_template_names_the_state_line(states: States) -> None:
    states.write("all.yml", "files:\n  /etc/x:\n    mode: '0644'\n    template: nope.j2\n")
    states.error("all.yml", 4, "template not found: nope.j2")


def test_template_outside_the_states_dir_is_refused(states: States) -> None:
    (states.dir.parent / "secret.j2").write_text("x\n")
    states.write("all.yml", "files:\n  /etc/x: {template: ../secret.j2}\n")
    states.error("all.yml", 2, "relative to the states directory")
    states.write("all.yml", "files:\n  /etc/x: {template: /etc/passwd}\n")
    states.error("all.yml", 2, "relative to the states directory")
