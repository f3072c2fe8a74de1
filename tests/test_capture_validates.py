"""What `driftcheck capture` writes, `driftcheck validate` accepts, whatever the host reports.

The pure half is tested on observed records a hostile host could send (paths with `..`, `//`,
NUL, relative ones; versions with spaces or YAML tags; names of any length). The whole command is
tested against a real sshd whose `dpkg-query` is a fake printing such packages and conffiles
(the rest is the real collector on this machine: real files behind those paths, see
tests/hostile.py), and with a real 1,174-character path on disk.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from driftcheck.capture import AUTHORIZED_KEYS, Captured, build_captured
from driftcheck.capturefile import key, render_yaml, validated
from driftcheck.capturepaths import spellings
from driftcheck.errors import StateError
from driftcheck.model import (
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
from tests import hostile
from tests.cli import driftcheck as _driftcheck
from tests.sshd import Sshd, keygen

ROOT = Path(__file__).resolve().parent.parent
LONG_NAME = "p" * 1100  # a key past YAML's 1,024 characters
NOT_READ_BACK = "a state would not read it back as that version; declared present"
ALICE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWkuNCU5n4alu+jJu9cKs29MtzL+ZaRiStLHyXvoXgS alice"


def _long_path(base: str, length: int) -> str:
    """An absolute path of exactly `length` characters under `base`, in components of at most
    200 (NAME_MAX is 255)."""
    path = base
    while len(path) < length:
        path += "/" + "d" * min(200, length - len(path) - 1)
    return path


LONG_PATH = _long_path("/srv", 1174)


# --- the pure half -----------------------------------------------------------------------------


def _packages(**versions: str) -> Section[dict[str, tuple[Package, ...]]]:
    return Section(
        Outcome.COLLECTED,
        {name: (Package(name, v, "amd64", "dpkg"),) for name, v in versions.items()},
    )


def _reported() -> tuple[Observed, Observed]:
    """What a hostile host can send through the collector's parsers."""
    packages = _packages(
        **{
            "spaced": "1.0 beta",
            "tagged": '!!python/object/apply:os.system ["id"]',
            "tag": "!!python/object:os.system",
            "lt": "<1",
            "word": "absent",
            "nul\0name": "1.0",
            LONG_NAME: "2.0",
            "honest": "1:2.36-9+deb12u4",
        }
    )
    units = {
        name: ServiceState(name, "loaded", "active", "enabled")
        for name in ("cron.service", "cron", "bad name.service", "", LONG_NAME + ".service")
    }
    listing = ("ok", "a/b", "..", "", "ok")
    directories = {
        "/etc/cron.d": DirectoryListing("/etc/cron.d", "directory", listing),
        "etc/sudoers.d": DirectoryListing("etc/sudoers.d", "directory", ()),
    }
    keys = FileState(AUTHORIZED_KEYS, True, "file", "e" * 64, "0600", "root", "root",
                     f"{ALICE}\n".encode())  # fmt: skip
    main = Observed(
        packages=packages,
        units=Section(Outcome.COLLECTED, units),
        facts=Section(Outcome.COLLECTED, HostFacts(zombies=0)),
        directories=Section(Outcome.COLLECTED, directories),
        files=Section(Outcome.COLLECTED, {AUTHORIZED_KEYS: keys}),
    )
    state = {"mode": "0644", "owner": "root", "group": "root"}
    paths = ["/etc/../etc/hosts", "/etc//hostname", "/etc/hostname", "etc/relative",
             "/etc/a\0b", LONG_PATH, "/etc/x/"]  # fmt: skip
    files = {p: FileState(p, True, "file", "f" * 64, **state) for p in paths}
    files["/etc/owner"] = FileState("/etc/owner", True, "file", "f" * 64, "0600", "ro\0ot", "g")
    return main, Observed(files=Section(Outcome.COLLECTED, files))


def test_what_a_host_reports_is_written_only_as_a_state_can_hold_it(tmp_path: Path) -> None:
    main, files = _reported()
    captured = build_captured("golden", main, files, "exact")
    text = validated(render_yaml(captured, 0.0))
    (tmp_path / "all.yml").write_text(text)
    state = load_declared_state(tmp_path, Host("golden"))
    assert {name: (spec.op, spec.version) for name, spec in state.packages.items()} == {
        "spaced": ("present", None),
        "tagged": ("present", None),
        "tag": ("=", "!!python/object:os.system"),  # quoted: a string like any other
        "lt": ("present", None),  # `<1` would read as "below 1"
        "word": ("present", None),  # `absent` would read as absent
        LONG_NAME: ("=", "2.0"),
        "honest": ("=", "1:2.36-9+deb12u4"),
    }
    assert sorted(state.services) == sorted(["cron.service", LONG_NAME + ".service"])
    assert sorted(state.files) == sorted(
        ["/etc/hostname", "/etc/x", "/etc/owner", LONG_PATH, AUTHORIZED_KEYS]
    )
    assert state.files["/etc/owner"].owner is None
    assert state.files["/etc/owner"].group == "g"
    assert state.directories["/etc/cron.d"].exactly == ("ok",)
    assert "/etc/sudoers.d" not in state.directories
    assert state.files[AUTHORIZED_KEYS].keys == (ALICE,)
    comments = [line for line in text.splitlines() if line.startswith("# Not captured: ")]
    assert comments == [f"# Not captured: {note}" for note in captured.notes]
    assert set(captured.notes) == {
        "package 'nul\\x00name': contains a NUL byte",
        f"package 'lt': version '<1': {NOT_READ_BACK}",
        f"package 'spaced': version '1.0 beta': {NOT_READ_BACK}",
        f"package 'tagged': version '!!python/object/apply:os.system [\"id\"]': {NOT_READ_BACK}",
        f"package 'word': version 'absent': {NOT_READ_BACK}",
        "service '': must not be empty",
        "service 'bad name.service': not a systemd unit name",
        "service 'cron': not a unit name with its type (.service, .socket, ...)",
        "file '/etc/../etc/hosts': '..' is not allowed in a declared path",
        "file 'etc/relative': the path must be absolute",
        "file '/etc/a\\x00b': contains a NUL byte",
        "file /etc/owner: owner 'ro\\x00ot': contains a NUL byte",
        "directory /etc/cron.d: entry 'a/b': not an entry name (one path component, no '/')",
        "directory /etc/cron.d: entry '..': not an entry name (one path component, no '/')",
        "directory /etc/cron.d: entry '': must not be empty",
        "directory 'etc/sudoers.d': the path must be absolute",
    }


def test_two_spellings_of_one_path_are_one_entry() -> None:
    files = Observed(
        files=Section(
            Outcome.COLLECTED,
            {
                "/etc//hostname": FileState("/etc//hostname", True, "file", "a" * 64),
                "/etc/hostname": FileState("/etc/hostname", True, "file", "a" * 64),
                "/etc/./hostname/": FileState("/etc/./hostname/", True, "file", "a" * 64),
            },
        )
    )
    captured = build_captured("h", Observed(), files, "exact")
    assert captured.files == {"/etc/hostname": {"sha256": "a" * 64}}
    assert [note for note in captured.notes if "hostname" in note] == []


def test_paths_with_dotdot_wait_for_the_host_and_the_rest_is_spelled_once() -> None:
    reported = ["/etc//hostname", "/etc/hostname", "/etc/../etc/hosts", "/a/b/../../../c",
                "/etc/x/..", "rel/../x", "/etc/\0/../x", ""]  # fmt: skip
    plain, dotted, notes = spellings(reported)
    assert plain == {"/etc/hostname"}
    assert dotted == [("/etc/../etc/hosts", "/etc/hosts"), ("/a/b/../../../c", "/c")]
    assert notes == [
        "file '/etc/x/..': '..' is not allowed in a declared path",  # names a directory
        "file 'rel/../x': the path must be absolute",
        "file '/etc/\\x00/../x': contains a NUL byte",
        "file '': must not be empty",
    ]


def test_notes_are_bounded() -> None:
    packages = _packages(**{f"n{i}\0": "1" for i in range(500)})
    captured = build_captured("h", Observed(packages=packages), Observed(), "exact")
    assert len(captured.notes) == 51
    assert captured.notes[-1] == "and 451 more notes"  # 500 names, and services not collected


@pytest.mark.parametrize("length", [1020, 1021, 1022, 1023, 1024, 1025, 3000])
def test_keys_of_any_length_read_back(length: int) -> None:
    for fill in ("a", "{", "\x00", "\U0001f600"):  # escapes make the written key longer
        name = fill * length
        loaded = yaml.safe_load(f'packages:\n{key(name)} "1"\nx: 1\n')
        assert loaded == {"packages": {name: "1"}, "x": 1}


def test_a_state_validate_would_refuse_is_never_written() -> None:
    """The last guard, for whatever the rules might miss: a Captured made by hand, bypassing
    them, is refused with the validator's own message and line."""
    captured = Captured("h", packages={"a": "1.0 beta"}, services={}, files={})
    text = render_yaml(captured, 0.0)
    with pytest.raises(StateError, match=r"cannot read '1\.0 beta'.*nothing written") as caught:
        validated(text)
    assert caught.value.line == text.splitlines().index('  "a": "1.0 beta"') + 1


# --- the whole command, against a real sshd whose dpkg-query lies -----------------------------

_SHIM = """#!/bin/sh
case "$3" in
*Status-Abbrev*) exec cat {packages} ;;
*Conffiles*) exec cat {conffiles} ;;
*) exec {real} "$@" ;;
esac
"""
ZERO = "0" * 32  # no file's md5: every conffile below is modified


def _crafted(workdir: Path) -> str:
    """A host whose package database lists the packages and conffiles below (a fake: a shim
    bound over /usr/bin/dpkg-query); every other answer is this machine's, collected by the
    real collector. `link` is a symlink to a directory, so `link/../x` is not `x` beside it."""
    (workdir / "real" / "sub").mkdir(parents=True)
    (workdir / "real" / "x.conf").write_text("the file link/../x.conf names\n")
    (workdir / "x.conf").write_text("the file its lexical form names\n")
    (workdir / "link").symlink_to(workdir / "real" / "sub")
    packages = workdir / "packages.txt"
    packages.write_bytes(
        b"ii \tnul\0name\t1.0\tamd64\n"
        b"ii \tspaced\t1.0 beta\tamd64\n"
        b'ii \ttagged\t!!python/object/apply:os.system ["id"]\tamd64\n'
        b"ii \ttag\t!!python/object:os.system\tamd64\n"
        + f"ii \t{LONG_NAME}\t2.0\tamd64\n".encode()
        + b"ii \thonest\t1.0-1\tamd64\n"
    )
    conffiles = workdir / "conffiles.txt"
    conffiles.write_text(
        "honest\n"
        f" /etc/../etc/hosts {ZERO}\n"
        f" /etc//hostname {ZERO}\n"
        f" /etc/hostname {ZERO}\n"
        f" {workdir}/link/../x.conf {ZERO}\n"
    )
    shim = hostile.dpkg_query_shim(
        workdir, lambda real: _SHIM.format(packages=packages, conffiles=conffiles, real=real)
    )
    return hostile.bound_command([(shim, "/usr/bin/dpkg-query")])


@pytest.fixture
def crafted(tmp_path: Path) -> Iterator[Sshd]:
    workdir = tmp_path / "host"
    workdir.mkdir()
    command = _crafted(workdir)
    key_file = keygen(tmp_path / "id_ed25519")
    with Sshd.start(
        workdir, client_key=key_file, extra_config=f"ForceCommand {command}\n"
    ) as server:
        yield server


def _inventory(tmp_path: Path, server: Sshd) -> tuple[Path, Path]:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        f"golden ansible_host={server.address} ansible_port={server.port} "
        f"ansible_user={server.user} ansible_ssh_private_key_file={server.client_key}\n"
    )
    (tmp_path / "states").mkdir()
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    return inventory, known


@pytest.mark.sshd
def test_a_host_reporting_what_no_state_holds_is_captured_valid(
    tmp_path: Path, crafted: Sshd
) -> None:
    inventory, known = _inventory(tmp_path, crafted)
    long_path = Path(_long_path(str(tmp_path / "long"), 1174))
    long_path.parent.mkdir(parents=True)
    long_path.write_text("an honest file with a long path\n")
    out = tmp_path / "states" / "all.yml"
    captured = _driftcheck(
        "capture", "-i", str(inventory), "--known-hosts", str(known), "golden",
        "-o", str(out), "--file", str(long_path), "--file", f"{tmp_path}/host/.*",
    )  # fmt: skip
    assert captured.returncode == 0, captured.stderr
    validated = _driftcheck("validate", "-i", str(inventory))
    assert validated.returncode == 0, validated.stderr
    state = load_declared_state(tmp_path / "states", Host("golden"))
    versions = {name: (spec.op, spec.version) for name, spec in state.packages.items()}
    assert versions == {
        "spaced": ("present", None),
        "tagged": ("present", None),
        "tag": ("=", "!!python/object:os.system"),
        LONG_NAME: ("=", "2.0"),
        "honest": ("=", "1.0-1"),
    }
    assert {"/etc/hosts", "/etc/hostname", str(long_path)} <= set(state.files)
    assert state.files[str(long_path)].sha256 is not None
    assert not [p for p in state.files if ".." in p or "//" in p or "x.conf" in p]
    assert f"{tmp_path}/host" not in state.files  # dash's `.*` matches `.` and `..`: skipped
    assert f"'{tmp_path}/host/..'" not in captured.stderr
    warnings = [line for line in captured.stderr.splitlines() if "not captured" in line]
    linked = f"{tmp_path}/host/link/../x.conf"
    for said in (
        "package 'nul\\x00name': contains a NUL byte",
        f"package 'spaced': version '1.0 beta': {NOT_READ_BACK}",
        f"file '{linked}': with its '..' it is not '{tmp_path}/host/x.conf' on the host",
    ):
        assert [w for w in warnings if said in w], said
        assert said in out.read_text()


# --- output files are checked before any connection -------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port that records whether anyone connected (nothing answers there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def _connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-o", "{tmp}/missing/x.yml"], "argument -o/--output: {tmp}/missing/x.yml: no such"),
        (["-o", "{tmp}"], "argument -o/--output: {tmp}: is a directory"),
        (["--file", "etc/hosts"], "--file 'etc/hosts': the path must be absolute"),
        (["--file", "/etc/../etc/hosts"], "'..' is not allowed"),
    ],
)
def test_capture_refuses_a_bad_output_or_file_before_connecting(
    tmp_path: Path, listener: socket.socket, args: list[str], said: str
) -> None:
    port = listener.getsockname()[1]
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"golden ansible_host=127.0.0.1 ansible_port={port}\n")
    argv = [arg.format(tmp=tmp_path) for arg in args]
    proc = _driftcheck("capture", "-i", str(inventory), "golden", "--timeout", "3", *argv)
    assert proc.returncode == 3, proc.stderr
    assert said.format(tmp=tmp_path) in proc.stderr
    assert "internal error" not in proc.stderr
    assert not _connected(listener)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A real saved report: a scan of a host nobody answers for."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("golden ansible_host=127.0.0.1 ansible_port=1\n")
    scanned = _driftcheck("scan", "-i", str(inventory), "--format", "json")
    assert scanned.returncode == 2, scanned.stderr
    report = tmp_path / "report.json"
    report.write_text(scanned.stdout)
    return report


def test_report_refuses_an_output_in_a_missing_directory(tmp_path: Path, saved: Path) -> None:
    proc = _driftcheck("report", str(saved), "-o", str(tmp_path / "missing" / "r.html"))
    assert proc.returncode == 3, proc.stderr
    assert f"{tmp_path}/missing/r.html: no such directory: {tmp_path}/missing" in proc.stderr


def test_report_never_replaces_a_fifo_given_as_its_output(tmp_path: Path, saved: Path) -> None:
    """`-o /dev/stdout` or a FIFO: the atomic write would rename a file over it."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = _driftcheck("report", str(saved), "-o", str(fifo))
    assert proc.returncode == 3, proc.stderr
    assert f"{fifo}: not a regular file" in proc.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_scan_refuses_junit_and_prometheus_files_it_could_not_write(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("golden ansible_host=127.0.0.1 ansible_port=1\n")
    for option in ("--junit", "--prometheus"):
        proc = _driftcheck("scan", "-i", str(inventory), option, str(tmp_path / "no" / "f"))
        assert proc.returncode == 3, proc.stderr
        assert f"argument {option}: {tmp_path}/no/f: no such directory" in proc.stderr
