"""`directories:` and a file's `keys:` / `lines:`: what they read as, the errors at file:line,
and how they merge across state files."""

from __future__ import annotations

import pytest
from statedir import States

from driftcheck.model import DirectorySpec

ALICE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF8VAqf/GHpOVDfAANKPcF3UQBMO3Z6lvLPXAyAgult+ alice"
BOB = 'from="10.0.0.0/8",no-pty ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= bob@x y'


def test_directories_read(states: States) -> None:
    states.write(
        "all.yml",
        """
        directories:
          /etc//cron.d/:
            exactly: [php, e2scrub_all, ".placeholder", "it's $(x)"]
            ignore: ["*.dpkg-*", "*~"]
          /etc/sudoers.d: {exactly: []}
          /etc/ssh/sshd_config.d:
            exactly:
        """,
    )
    state = states.load()
    assert state.directories == {
        "/etc/cron.d": DirectorySpec(
            "/etc/cron.d",
            exactly=(".placeholder", "e2scrub_all", "it's $(x)", "php"),
            ignore=("*.dpkg-*", "*~"),
            origin=state.directories["/etc/cron.d"].origin,
        ),
        "/etc/sudoers.d": DirectorySpec(
            "/etc/sudoers.d", origin=state.directories["/etc/sudoers.d"].origin
        ),
        "/etc/ssh/sshd_config.d": DirectorySpec(
            "/etc/ssh/sshd_config.d", origin=state.directories["/etc/ssh/sshd_config.d"].origin
        ),
    }
    assert state.checks_something()


@pytest.mark.parametrize(
    ("body", "line", "fragments"),
    [
        ("directories: [/etc/cron.d]\n", 1, ("directories: expected a mapping",)),
        ("directories:\n  etc/cron.d: {exactly: []}\n", 2, ("must be absolute",)),
        ("directories:\n  /etc/cron.d: [a, b]\n", 2,
         ("directory /etc/cron.d: expected a mapping",)),
        ("directories:\n  /etc/cron.d: {ignore: ['*~']}\n", 2, ("exactly: is required",)),
        ("directories:\n  /etc/cron.d: {exactly: [a], exact: []}\n", 2,
         ("unknown key 'exact'", "did you mean 'exactly'?")),
        ("directories:\n  /etc/cron.d: {exactly: a}\n", 2, ("exactly: expected a list",)),
        ("directories:\n  /etc/cron.d:\n    exactly:\n      - a\n      - sub/b\n", 5,
         ("'sub/b' is not an entry name",)),
        ("directories:\n  /etc/cron.d:\n    exactly:\n      - ..\n", 4, ("is not an entry name",)),
        ("directories:\n  /etc/cron.d:\n    exactly:\n      - no\n", 4,
         ("YAML reads", "boolean false", "quote it")),
        ("directories:\n  /etc/cron.d:\n    exactly:\n      - 1.10\n", 4, ("the number 1.1",)),
        ("directories:\n  /etc/cron.d:\n    exactly:\n      - a\n      - b\n      - a\n", 6,
         ("'a' is listed twice (first at line 4)",)),
        ("directories:\n  /etc/cron.d:\n    exactly: []\n    ignore: ['x/*']\n", 4,
         ("a glob matches entry names",)),
        ("directories:\n  /etc/cron.d: {exactly: []}\n  /etc/cron.d/: {exactly: []}\n", 3,
         ("is /etc/cron.d, already declared at line 2",)),
        ("directories:\n  /etc/../cron.d: {exactly: []}\n", 2, ("'..' is not allowed",)),
    ],
)  # fmt: skip
def test_directory_errors_name_file_and_line(
    states: States, body: str, line: int, fragments: tuple[str, ...]
) -> None:
    states.write("all.yml", body)
    states.error("all.yml", line, *fragments)


def test_directories_merge_later_list_wins(states: States) -> None:
    states.write(
        "all.yml",
        """
        directories:
          /etc/cron.d: {exactly: [e2scrub_all], ignore: ["*.dpkg-*"]}
          /etc/sudoers.d: {exactly: [README]}
        """,
    )
    states.write("web.yml", "directories:\n  /etc/cron.d/: {exactly: [e2scrub_all, php]}\n")
    state = states.load()
    cron = state.directories["/etc/cron.d"]
    assert (cron.exactly, cron.ignore) == (("e2scrub_all", "php"), ("*.dpkg-*",))
    assert cron.origin is not None
    assert cron.origin.path.endswith("web.yml")
    assert state.directories["/etc/sudoers.d"].exactly == ("README",)


def test_keys_and_lines_read(states: States) -> None:
    states.write(
        "all.yml",
        f"""
        files:
          /root/.ssh/authorized_keys:
            keys:
              - "{ALICE}"
              - '{BOB}'
            mode: "0600"
          /etc/hosts.allow:
            lines: ["sshd: 10.0.0.0/8", "ALL: LOCAL"]
          /home/x/.ssh/authorized_keys: {{keys: []}}
        """,
    )
    files = states.load().files
    assert files["/root/.ssh/authorized_keys"].keys == (ALICE, BOB)
    assert files["/root/.ssh/authorized_keys"].mode == "0600"
    assert files["/etc/hosts.allow"].lines == ("sshd: 10.0.0.0/8", "ALL: LOCAL")
    assert files["/etc/hosts.allow"].keys is None
    assert files["/home/x/.ssh/authorized_keys"].keys == ()


@pytest.mark.parametrize(
    ("body", "line", "fragments"),
    [
        ("keys: \"ssh-ed25519 AAAA\"\n", 3, ("keys: expected a list",)),
        ("keys:\n      - \"ssh-ed25519 AAAA a\"\n      - \"AAAAC3Nza alice\"\n", 5,
         ("is not an authorized_keys line",)),
        ("keys:\n      - \"# ssh-ed25519 AAAA\"\n", 4, ("is not an authorized_keys line",)),
        ("keys:\n      - 42\n", 4, ("the number 42",)),
        ("lines:\n      - \"a\\nb\"\n", 4, ("one line each",)),
        ("lines:\n      - \"\"\n", 4, ("must not be empty",)),
        ("lines: [a]\n    sha256: \"" + "a" * 64 + "\"\n", 4,
         ("lines and sha256 exclude each other",)),
        ("keys: []\n    content: x\n", 4, ("keys and content exclude each other",)),
    ],
)  # fmt: skip
def test_keys_and_lines_errors_name_file_and_line(
    states: States, body: str, line: int, fragments: tuple[str, ...]
) -> None:
    states.write("all.yml", "files:\n  /root/.ssh/authorized_keys:\n    " + body)
    states.error("all.yml", line, *fragments)


def test_a_later_keys_replaces_an_earlier_digest(states: States) -> None:
    states.write("all.yml", f'files:\n  /root/.ssh/authorized_keys: {{sha256: "{"a" * 64}"}}\n')
    states.write("web01.yml", f'files:\n  /root/.ssh/authorized_keys: {{keys: ["{ALICE}"]}}\n')
    spec = states.load().files["/root/.ssh/authorized_keys"]
    assert (spec.sha256, spec.keys) == (None, (ALICE,))
    states.write("web01.yml", "files:\n  /root/.ssh/authorized_keys: {mode: '0600'}\n")
    spec = states.load().files["/root/.ssh/authorized_keys"]
    assert (spec.sha256, spec.keys, spec.mode) == ("a" * 64, None, "0600")


def test_container_states_may_declare_directories(states: States) -> None:
    states.write("all.yml", "containers:\n  app:\n    state: app.yml\n")
    states.write("app.yml", "directories:\n  /etc/cron.d: {exactly: []}\n")
    inner = states.load().containers["app"].state
    assert inner is not None
    assert list(inner.directories) == ["/etc/cron.d"]
