"""all -> groups (host order) -> host: mappings merge deeply, later files win."""

from __future__ import annotations

from statedir import States, make_host


def _fleet(states: States) -> None:
    states.write(
        "all.yml",
        """
        packages:
          openssh-server: present
          nginx: ">= 1.18"
        files:
          /etc/motd:
            content: "all\\n"
            mode: "0644"
            owner: root
        services:
          ssh: {running: true, enabled: true}
        host:
          max_age: 30d
          max_zombies: 0
        """,
    )
    states.write("web.yml", "packages:\n  nginx: '1.22.1-9'\nhost:\n  max_age: 7d\n")
    states.write("prod.yml", "packages:\n  nginx: '1.24.0-1'\nunexpected_packages: report\n")
    states.write(
        "web01.yml",
        """
        files:
          /etc/motd:
            sha256: "{{ 'ab' * 32 }}"
        services:
          ssh: {enabled: false}
        """,
    )


def test_later_files_win_in_group_order(states: States) -> None:
    _fleet(states)
    state = states.load(make_host("web01", ("web", "prod")))
    assert str(state.packages["nginx"]) == "1.24.0-1"
    assert state.packages["nginx"].origin is not None
    assert state.packages["nginx"].origin.path == str(states.dir / "prod.yml")
    assert state.unexpected_packages == "report"
    assert state.host.max_age_seconds == 7 * 86400
    assert state.host.max_zombies == 0
    reordered = states.load(make_host("web01", ("prod", "web")))
    assert str(reordered.packages["nginx"]) == "1.22.1-9"


def test_sources_are_recorded_in_merge_order(states: States) -> None:
    _fleet(states)
    state = states.load(make_host("web01", ("web", "prod")))
    names = ["all.yml", "web.yml", "prod.yml", "web01.yml"]
    assert state.sources == tuple(str(states.dir / n) for n in names)


def test_nested_mappings_merge_key_by_key(states: States) -> None:
    _fleet(states)
    state = states.load(make_host("web01", ("web", "prod")))
    service = state.services["ssh.service"]
    assert (service.running, service.enabled) == (True, False)
    assert service.origin is not None
    assert str(service.origin) == f"{states.dir / 'web01.yml'}:5"


def test_a_later_content_source_replaces_an_earlier_one(states: States) -> None:
    _fleet(states)
    motd = states.load(make_host("web01", ("web", "prod"))).files["/etc/motd"]
    assert (motd.sha256, motd.content) == ("ab" * 32, None)
    assert (motd.mode, motd.owner) == ("0644", "root")  # the rest still merges


def test_scalar_replaces_mapping(states: States) -> None:
    states.write("all.yml", "files:\n  /etc/telnet.conf: {mode: '0644'}\n")
    states.write("web01.yml", "files:\n  /etc/telnet.conf: absent\n")
    spec = states.load().files["/etc/telnet.conf"]
    assert spec.absent
    assert spec.mode is None


def test_an_empty_section_in_a_later_file_keeps_earlier_entries(states: States) -> None:
    states.write("all.yml", "packages:\n  curl: present\n")
    states.write("web.yml", "packages:\n{% for p in [] %}\n  {{ p }}: present\n{% endfor %}\n")
    assert set(states.load().packages) == {"curl"}


def test_empty_and_missing_files(states: States) -> None:
    states.write("all.yml", "")
    states.write("web.yml", "# nothing declared yet\n")
    state = states.load()
    assert state.packages == {}
    assert state.host.max_age_seconds is None
    assert len(state.sources) == 2


def test_no_state_files_at_all_is_an_empty_state(states: States) -> None:
    state = states.load()
    assert (state.sources, state.packages, state.files) == ((), {}, {})


def test_yaml_anchors_and_merge_keys_work(states: States) -> None:
    states.write(
        "all.yml",
        """
        files:
          /etc/a: &root_file {owner: root, group: root, mode: "0644"}
          /etc/b:
            <<: *root_file
            mode: "0600"
        """,
    )
    files = states.load().files
    assert (files["/etc/a"].mode, files["/etc/b"].mode, files["/etc/b"].owner) == (
        "0644",
        "0600",
        "root",
    )
