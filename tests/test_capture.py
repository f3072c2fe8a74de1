"""capture's pure half: observed state -> the declared state it writes, read back exactly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from driftcheck.backends import TransportOptions
from driftcheck.capture import (
    AUTHORIZED_KEYS,
    DIRECTORIES,
    Captured,
    build_captured,
    capture,
    everything,
)
from driftcheck.capturefile import q, render_yaml
from driftcheck.compare import compare
from driftcheck.errors import LimitError
from driftcheck.model import (
    ConfFile,
    DirectoryListing,
    FileState,
    Host,
    HostFacts,
    Observed,
    Outcome,
    Package,
    Section,
    ServiceState,
)
from driftcheck.state import load_declared_state

TRAPS = ["1.10", "0644", "no", "yes", "on", "null", "~", "1e3", "0x1F", "2024-01-01", ""]
HOSTILE = [
    'it\'s "$(x)"\\',
    "tab\there",
    "line\nbreak",
    "\x1b[31mred",
    "caf\u00e9 \u202e",
    "\U0001f600",
]


def test_quoted_strings_read_back_exactly() -> None:
    for text in TRAPS + HOSTILE:
        assert yaml.safe_load(f"k: {q(text)}") == {"k": text}, text


def observed() -> Observed:
    libc = (Package("libc6", "2.36", "amd64", "dpkg"), Package("libc6", "2.35", "i386", "dpkg"))
    packages = {"acme-agent": (Package("acme-agent", "1.10", "all", "dpkg"),), "libc6": libc}
    units = {
        "acme-agent.service": ServiceState("acme-agent.service", "loaded", "active", "enabled"),
        "cron.service": ServiceState("cron.service", "loaded", "inactive", "enabled"),
        "journald.service": ServiceState("journald.service", "loaded", "active", "static"),
        "sshd.service": ServiceState("sshd.service", "loaded", "active", "alias"),
        "getty@.service": ServiceState("getty@.service", "not-loaded", "inactive", "enabled"),
        "apt-daily.service": ServiceState("apt-daily.service", "loaded", "inactive", "static"),
    }
    conf = {"/etc/a.conf": ConfFile("/etc/a.conf", "a", "md5", "1" * 32, "2" * 32, "0644")}
    facts = HostFacts(zombies=0)
    return Observed(
        packages=Section(Outcome.COLLECTED, packages),
        units=Section(Outcome.COLLECTED, units),
        conffiles=Section(Outcome.COLLECTED, conf),
        facts=Section(Outcome.COLLECTED, facts),
    )


def files() -> Observed:
    states = {
        "/etc/a.conf": FileState("/etc/a.conf", True, "file", "f" * 64, "0644", "root", "root"),
        "/etc/gone": FileState("/etc/gone", False),
        "/etc/d": FileState("/etc/d", True, "directory", None, "0755", "root", "adm"),
    }
    return Observed(files=Section(Outcome.COLLECTED, states))


def test_what_goes_in() -> None:
    captured = build_captured("web01", observed(), files(), "exact")
    assert captured == Captured(
        host="web01",
        packages={"acme-agent": "1.10", "libc6": "present"},  # two versions: present
        services={
            "acme-agent.service": (True, True),
            "cron.service": (False, True),  # enabled, not running
            "journald.service": (True, True),  # static counts as enabled, as scan counts it
        },
        files={
            "/etc/a.conf": {"sha256": "f" * 64, "mode": "0644", "owner": "root", "group": "root"},
            "/etc/d": {"mode": "0755", "owner": "root", "group": "adm"},
            "/etc/gone": None,
        },
    )
    assert build_captured("h", observed(), files(), "present").packages == {
        "acme-agent": "present",
        "libc6": "present",
    }


def test_written_file_is_a_valid_state_of_exactly_that(tmp_path: Path) -> None:
    text = render_yaml(build_captured("web01", observed(), files(), "exact"), 1_800_000_000)
    assert text.startswith("# Declared state captured from web01 at 2027-01-15T08:00:00+00:00 by")
    assert render_yaml(build_captured("web01", observed(), files(), "exact"), 1_800_000_000) == text
    (tmp_path / "all.yml").write_text(text)
    state = load_declared_state(tmp_path, Host("web01"))
    assert {n: (s.op, s.version) for n, s in state.packages.items()} == {
        "acme-agent": ("=", "1.10"),
        "libc6": ("present", None),
    }
    assert state.unexpected_packages == "report"
    assert state.files["/etc/a.conf"].mode == "0644"
    assert state.files["/etc/gone"].absent
    assert state.services["cron.service"].running is False
    assert state.host.max_zombies == 0


JINJA = ["{{ 7 * 7 }}", "{% raw %}", "{# c #}", "{{", "a}}b", "{%- if x %}"]


def test_every_string_reads_back_through_jinja_and_yaml(tmp_path: Path) -> None:
    """The state loader renders a state file with Jinja2 before YAML reads it: what a host
    sent (a path, an owner, a package name) must reach YAML as data, never as template source."""
    states = tmp_path / "states"
    states.mkdir()
    for n, text in enumerate(TRAPS + HOSTILE + JINJA):
        path, owner = f"/etc/x{text}", text or "root"
        captured = Captured(
            host=f"golden{{{{ {n} }}}}",
            packages={f"p{text}": "1.0"},
            services={},
            files={path: {"owner": owner}},
        )
        (states / "all.yml").write_text(render_yaml(captured, 0.0))
        state = load_declared_state(states, Host("golden"))
        assert list(state.packages) == [f"p{text}"], text
        assert [(f.path, f.owner) for f in state.files.values()] == [(path, owner)], text


def test_output_cut_at_the_cap_is_never_captured() -> None:
    """A collection the output cap cut short is not the host: capture writes nothing from it
    (a state missing the packages past the cut would pass a host that has them)."""
    host = Host("me", vars={"ansible_connection": "local"})
    with pytest.raises(LimitError, match="per-host cap"):
        capture(host, TransportOptions(timeout=60, output_cap=4096), [], "exact")


# --- config directories and root's authorized keys ------------------------------------------

ALICE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWkuNCU5n4alu+jJu9cKs29MtzL+ZaRiStLHyXvoXgS alice"
BOB = (
    'from="10.0.0.1" ssh-ed25519'
    " AAAAC3NzaC1lZDI1NTE5AAAAIEGAeKfOztW3G7GC+gZHQPEOInELVa+quxFKSe9vUcJb bob"
)
ODD = ["e2scrub_all", ".placeholder", "new\nline", "{{ 7 * 7 }}", 'it\'s "$(x)"', "caf\\xe9"]


def golden(authorized_keys: bytes | None = f"# root\n{ALICE}\n\n{BOB}\n".encode()) -> Observed:
    listings = {
        "/etc/cron.d": DirectoryListing("/etc/cron.d", "directory", tuple(sorted(ODD))),
        "/etc/sudoers.d": DirectoryListing("/etc/sudoers.d", "directory", ()),
        "/etc/yum.repos.d": DirectoryListing("/etc/yum.repos.d", "absent"),
        "/etc/cron.daily": DirectoryListing("/etc/cron.daily", "symlink"),
        "/srv/x": DirectoryListing("/srv/x", "", error="cannot list: Permission denied"),
    }
    keys = FileState(AUTHORIZED_KEYS, False)
    if authorized_keys is not None:
        keys = FileState(
            AUTHORIZED_KEYS, True, "file", "e" * 64, "0600", "root", "root", authorized_keys
        )
    return replace(
        observed(),
        directories=Section(Outcome.COLLECTED, listings),
        files=Section(Outcome.COLLECTED, {**files().files.value, AUTHORIZED_KEYS: keys}),
    )


def test_directories_and_keys_go_in() -> None:
    captured = build_captured("web01", golden(), Observed(), "exact", ["/etc/yum.repos.d"])
    assert captured.directories == {"/etc/cron.d": tuple(sorted(ODD)), "/etc/sudoers.d": ()}
    assert captured.keys == {AUTHORIZED_KEYS: (ALICE, BOB)}
    assert captured.files[AUTHORIZED_KEYS] == {"mode": "0600", "owner": "root", "group": "root"}
    assert captured.notes == (
        "directory /etc/yum.repos.d: absent",  # asked for with --directory
        "directory /srv/x: cannot list: Permission denied",
    )


def test_captured_directories_and_keys_pass_on_the_golden_host(tmp_path: Path) -> None:
    """What capture writes validates, and the host it came from has no drift against it."""
    text = render_yaml(build_captured("web01", golden(), files(), "exact"), 0.0)
    assert "modified_config: report\n" in text
    (tmp_path / "all.yml").write_text(text)
    state = load_declared_state(tmp_path, Host("web01"))
    assert state.modified_config == "report"
    assert state.directories["/etc/cron.d"].exactly == tuple(sorted(ODD))
    assert state.files[AUTHORIZED_KEYS].keys == (ALICE, BOB)
    assert state.files[AUTHORIZED_KEYS].sha256 is None
    findings = compare(replace(state, packages={}, services={}), golden(), now=0)
    assert [f for f in findings if f.category == "file" and f.kind != "unknown"] == []


def test_a_sibling_with_a_dropped_file_and_a_key_more(tmp_path: Path) -> None:
    (tmp_path / "all.yml").write_text(
        render_yaml(build_captured("web01", golden(), Observed(), "exact"), 0.0)
    )
    state = load_declared_state(tmp_path, Host("web02"))
    sibling = golden(f"{ALICE}\n{BOB}\n{CAROL}\n".encode())
    cron = sibling.directories.value["/etc/cron.d"]
    listings = {**sibling.directories.value, "/etc/cron.d": replace(cron, names=(*cron.names, "x"))}
    sibling = replace(sibling, directories=Section(Outcome.COLLECTED, listings))
    found = {(f.item, f.kind) for f in compare(state, sibling, now=0) if f.category == "file"}
    assert ("/etc/cron.d/x", "unexpected") in found
    assert (f"{AUTHORIZED_KEYS} {CAROL_NAME}", "unexpected") in found


CAROL = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMx0vXX2YsF1FMSxDMDc"
    "B0jOpCCTXPVXugFF/IRyjGj7h7tJ9lQ8cAnGJy/r7cs2vEHa9t1KAU57lojDfee7Gwo= carol"
)
CAROL_NAME = "ecdsa-sha2-nistp256 SHA256:n3nhJrVs8BKZuWn/5nEjtih9yW72caJRToceA673uGE carol"


def test_unusable_or_unread_keys_are_noted_not_declared() -> None:
    host = golden(f"{ALICE}\nssh-rsa garbage!\n".encode())
    garbled = build_captured("h", host, Observed(), "exact")
    assert garbled.keys == {}
    assert AUTHORIZED_KEYS not in garbled.files
    assert f"{AUTHORIZED_KEYS}: 1 lines sshd cannot use; declare it by hand" in garbled.notes
    cut = golden()
    state = replace(cut.files.value[AUTHORIZED_KEYS], content_truncated=True)
    cut = replace(cut, files=Section(Outcome.COLLECTED, {AUTHORIZED_KEYS: state}))
    assert build_captured("h", cut, Observed(), "exact").keys == {}


def test_no_authorized_keys_is_declared_absent() -> None:
    captured = build_captured("h", golden(None), Observed(), "exact")
    assert captured.files[AUTHORIZED_KEYS] is None
    assert captured.keys == {}


def test_the_main_collection_asks_for_directories_and_keys() -> None:
    state = everything(["/etc/profile.d"])
    assert {*DIRECTORIES, "/etc/profile.d"} == set(state.directories)
    assert state.files[AUTHORIZED_KEYS].keys == ()
    assert state.modified_config == "report"
