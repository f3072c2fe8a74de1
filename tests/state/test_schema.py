"""Schema v1: what each section becomes, and every error with its exact file:line."""

from __future__ import annotations

import pytest
from statedir import States

from driftcheck.model import PackageSpec


def test_package_specs(states: States) -> None:
    states.write(
        "all.yml",
        """
        packages:
          openssh-server: present
          telnetd: absent
          acme-agent: "1.3.0"
          epoch: "1:2.30-1ubuntu1"
          nginx-light: ">= 1.22"
          a: "<1.0"
          b: "<= 2"
          c: "= 3.1"
          d: "> 0.9~rc1"
        unexpected_packages: report
        """,
    )
    state = states.load()
    specs = {name: (spec.op, spec.version) for name, spec in state.packages.items()}
    assert specs == {
        "openssh-server": ("present", None),
        "telnetd": ("absent", None),
        "acme-agent": ("=", "1.3.0"),
        "epoch": ("=", "1:2.30-1ubuntu1"),
        "nginx-light": (">=", "1.22"),
        "a": ("<", "1.0"),
        "b": ("<=", "2"),
        "c": ("=", "3.1"),
        "d": (">", "0.9~rc1"),
    }
    assert state.unexpected_packages == "report"
    assert state.packages["a"] == PackageSpec("a", "<", "1.0", state.packages["a"].origin)
    assert str(state.packages["openssh-server"].origin) == f"{states.dir / 'all.yml'}:2"


def test_file_specs(states: States) -> None:
    digest = "A" * 64
    states.write(
        "all.yml",
        f"""
        files:
          /etc/nginx/nginx.conf:
            sha256: "{digest}"
            mode: "0644"
            owner: root
            group: www-data
          /etc/shadow: {{mode: "640", sensitive: true}}
          /etc/motd: {{content: ""}}
          /etc/telnetd.conf: absent
          /etc/hostname: present
          "/etc/odd dir/it's $(touch PWNED).conf": {{owner: root}}
        """,
    )
    files = states.load().files
    nginx = files["/etc/nginx/nginx.conf"]
    assert (nginx.sha256, nginx.mode, nginx.owner, nginx.group) == (
        "a" * 64,
        "0644",
        "root",
        "www-data",
    )
    assert (files["/etc/shadow"].mode, files["/etc/shadow"].sensitive) == ("0640", True)
    assert files["/etc/motd"].content == ""
    assert files["/etc/telnetd.conf"].absent
    assert not files["/etc/hostname"].absent
    assert files["/etc/odd dir/it's $(touch PWNED).conf"].owner == "root"
    assert str(nginx.origin) == f"{states.dir / 'all.yml'}:2"


def test_services_get_a_unit_suffix_when_they_have_none(states: States) -> None:
    states.write(
        "all.yml",
        """
        services:
          nginx: {running: true, enabled: true}
          fstrim.timer: {enabled: true}
          getty@tty1: {running: false}
          docker.socket: {}
        """,
    )
    services = states.load().services
    assert list(services) == [
        "nginx.service",
        "fstrim.timer",
        "getty@tty1.service",
        "docker.socket",
    ]
    assert (services["nginx.service"].running, services["nginx.service"].enabled) == (True, True)
    assert (services["fstrim.timer"].running, services["fstrim.timer"].enabled) == (None, True)


def test_host_section(states: States) -> None:
    states.write("all.yml", "host:\n  max_age: 2w\n  max_zombies: 3\n")
    host = states.load().host
    assert (host.max_age_seconds, host.max_zombies) == (14 * 86400, 3)
    states.write("all.yml", "host:\n  max_age: 3600\n")
    assert states.load().host.max_age_seconds == 3600


# Each case: the file text, the line the error must name, fragments of the message.
ERRORS = [
    ("pakages:\n  a: present\n", 1, "unknown key 'pakages'", "did you mean 'packages'"),
    ("packages: {}\nfiles: {}\nextra: 1\n", 3, "unknown key 'extra'"),
    ("- packages\n", 1, "must be a mapping"),
    ("packages:\n  - nginx\n", 1, "packages: expected a mapping, but it is a list"),
    ("packages:\n  a: present\n  a: absent\n", 3, "duplicate key 'a' (first at line 2)"),
    ("packages:\n  a: [present\n", 2, "invalid YAML"),
    ("packages:\n  a: latest\n", 2, "'latest' cannot be audited"),
    ("packages:\n  a: '=> 1.0'\n", 2, "cannot read '=> 1.0'"),
    ("packages:\n  a: '== 1.0'\n", 2, "cannot read"),
    ("packages:\n  a: 'at least 1'\n", 2, "cannot read"),
    ("packages:\n  a: ''\n", 2, "must not be empty"),
    ("packages:\n  a:\n", 2, "package a: expected a string, but it has no value"),
    ("packages:\n  a: {version: 1}\n", 2, "package a: expected a string, but it is a mapping"),
    ("unexpected_packages: always\n", 1, "expected ignore or report, but got 'always'"),
    ("unexpected_containers: 1\n", 1, "expected report or ignore"),
    ("peers: yes please\n", 1, "peers: expected true or false"),
    ("modified_config: true\n", 1, "modified_config: expected report or ignore"),
    ("files:\n  etc/passwd: absent\n", 2, "file etc/passwd: the path must be absolute"),
    ("files:\n  /etc/a: gone\n", 2, "file /etc/a: expected absent, present or a mapping"),
    ("files:\n  /etc/a:\n    mod: '0644'\n", 3, "unknown key 'mod'", "did you mean 'mode'"),
    ("files:\n  /etc/a:\n    mode: 'rw-r--r--'\n", 3, "mode: expected octal digits"),
    ("files:\n  /etc/a:\n    mode: '06444'\n", 3, "mode: expected octal digits"),
    ("files:\n  /etc/a:\n    mode: '0o644'\n", 3, "mode: expected octal digits"),
    ("files:\n  /etc/a:\n    sha256: abc\n", 3, "sha256: expected 64 hex digits"),
    ("files:\n  /etc/a:\n    owner: 0\n", 3, "owner: expected a string", 'quote it: "0"'),
    ("files:\n  /etc/a:\n    sensitive: 'yes'\n", 3, "sensitive: expected true or false"),
    ("files:\n  /etc/a:\n    content: 12\n", 3, "content: expected a string"),
    (
        "files:\n  /etc/a:\n    content: x\n    sha256: '" + "a" * 64 + "'\n",
        4,
        "content and sha256 exclude each other",
    ),
    ('files:\n  "/etc/a\\0b": absent\n', 2, "NUL byte"),
    ("files:\n  12: absent\n", 2, "a path is a string"),
    ("services:\n  nginx: running\n", 2, "service nginx: expected a mapping"),
    ("services:\n  nginx: {running: yes, enable: true}\n", 2, "unknown key 'enable'"),
    ("services:\n  nginx: {running: 'true'}\n", 2, "running: expected true or false"),
    ("services:\n  'bad name': {}\n", 2, "not a systemd unit name"),
    ("services:\n  a: {}\n  a.service: {}\n", 3, "a.service is already declared"),
    ("host:\n  max_age: 30 days\n", 2, "host: max_age: expected a duration"),
    ("host:\n  max_age: -5\n", 2, "cannot be negative"),
    ("host:\n  max_zombies: -1\n", 2, "max_zombies: expected a whole number"),
    ("host:\n  max_zombies: true\n", 2, "max_zombies: expected a whole number"),
    ("host:\n  max_zombie: 1\n", 2, "host: unknown key 'max_zombie'"),
    ("host: 30d\n", 1, "host: expected a mapping"),
    ("peers:\n  tree: [/etc]\n", 2, "peers: unknown key 'tree'", "did you mean 'trees'"),
    ("peers:\n  trees: /etc\n", 2, "peers: trees: expected a list of absolute paths"),
    ("peers:\n  trees: [etc]\n", 2, "'etc' must be an absolute path"),
    ("peers:\n  trees:\n    - /etc\n    - /etc/../root\n", 4, "without '..'"),
    ("peers:\n  ignore: [12]\n", 2, "peers: ignore: expected a string"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[2] for c in ERRORS])
def test_errors_name_file_and_line(states: States, case: tuple[object, ...]) -> None:
    text, line, *fragments = case
    states.write("web.yml", str(text))
    states.error("web.yml", int(str(line)), *(str(f) for f in fragments))


def test_peers_and_modified_config_merge_like_any_key(states: States) -> None:
    states.write("all.yml", "peers: true\nmodified_config: report\n")
    states.write("web.yml", "peers: false\n")
    state = states.load()
    assert (state.peers, state.modified_config) == (False, "report")
    assert state.checks_something()  # modified_config is a check


def test_peers_and_modified_config_are_unset_by_default(states: States) -> None:
    states.write("all.yml", "packages:\n  bash: present\n")
    state = states.load()
    assert (state.peers, state.modified_config) == (None, None)


def test_peers_can_name_the_trees_compared_and_paths_left_out(states: States) -> None:
    states.write(
        "all.yml", "peers:\n  trees: [/etc, /srv/app/]\n  ignore: ['/etc/ssh/ssh_host_*']\n"
    )
    state = states.load()
    assert state.peers is True
    assert state.peer_trees == ("/etc", "/srv/app")
    assert state.peer_ignore == ("/etc/ssh/ssh_host_*",)


def test_the_default_trees_are_where_hands_change_hosts(states: States) -> None:
    states.write("all.yml", "peers: true\n")
    trees = states.load().peer_trees
    assert {"/etc", "/root/.ssh", "/home/*/.ssh/authorized_keys", "/var/spool/cron"} <= set(trees)
    assert {"/usr/local/bin", "/usr/local/sbin", "/usr/local/lib"} <= set(trees)


def test_error_after_a_merge_names_the_file_that_won(states: States) -> None:
    states.write("all.yml", "packages:\n  nginx: present\n")
    states.write("web.yml", "# web servers\n\npackages:\n  nginx: ''\n")
    states.error("web.yml", 4, "package nginx: must not be empty")


def test_error_lines_count_source_lines_not_rendered_lines(states: States) -> None:
    states.write(
        "all.yml",
        """
        packages:
        {% for name in ["a", "b", "c", "d"] %}
          {{ name }}: present
        {% endfor %}
        files:
          /etc/x:
            mode: 0644
        """,
    )
    states.error("all.yml", 7, "mode")
