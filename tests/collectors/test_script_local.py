"""End to end on this machine: build_script's output run by real shells (`sh -s`, as root), on
files made here, hostile names included; then parse_output. Nothing declared may be executed."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path
from shlex import quote

import pytest

from driftcheck.collectors.peerdata import SECTIONS, UNIT_FILES, UNITS_LOADED
from driftcheck.collectors.procs import Proc, by_pid, lasting_zombies, parse_proc_lines, zombies
from driftcheck.collectors.script import (
    PROCS,
    ZOMBIES_AGAIN,
    build_script,
    parse_output,
    prelude,
)
from driftcheck.collectors.sections import split_sections
from driftcheck.model import CommandResult, DeclaredState, FileSpec, Observed, Outcome, ServiceSpec
from tests.tools import require, require_root, require_tools

NONCE = "0123456789abcdef"
HOSTILE_DIR = "odd dir"
HOSTILE = "it's $(touch PWNED).conf"
BINARY = b"\xff\xfe\x00binary\r\n\x80 not utf-8\n"

SHELLS = [
    pytest.param(["sh", "-s"], id="sh"),
    pytest.param(["busybox", "sh", "-s"], id="busybox-sh"),
    pytest.param(["bash", "--posix", "-s"], id="bash-posix"),
]


def make_tree(root: Path) -> dict[str, FileSpec]:
    (root / "plain.conf").write_text("listen 80;\n")
    (root / "plain.conf").chmod(0o640)
    (root / HOSTILE_DIR).mkdir()
    (root / HOSTILE_DIR / HOSTILE).write_bytes(BINARY)
    (root / "big.txt").write_bytes(b"a" * 5000)
    (root / "link").symlink_to("plain.conf")
    os.mkfifo(root / "fifo")  # must never be opened: reading it would block the audit
    (root / "-rf").write_text("dash\n")
    specs = {
        "plain.conf": FileSpec("", content="listen 80;\n", mode="0640"),
        f"{HOSTILE_DIR}/{HOSTILE}": FileSpec("", content="x"),
        "big.txt": FileSpec("", content="a"),
        "link": FileSpec("", content="listen 80;\n"),
        "fifo": FileSpec("", sha256="0" * 64),
        "-rf": FileSpec("", sha256="0" * 64),
        "missing/$(touch PWNED2)": FileSpec("", absent=True),
        "secret": FileSpec("", content="s", sensitive=True),
        "": FileSpec(""),  # the directory itself
    }
    (root / "secret").write_text("top secret\n")
    return rooted(root, specs)


def rooted(root: Path, specs: dict[str, FileSpec]) -> dict[str, FileSpec]:
    """Declared files by their path under `root`, from specs keyed by relative path."""
    return {str(root / rel): replace(spec, path=str(root / rel)) for rel, spec in specs.items()}


def run(shell: list[str], state: DeclaredState, cwd: Path, cap: int = 1000) -> Observed:
    script = build_script(state, NONCE, content_cap=cap)
    proc = subprocess.run(
        shell, check=False, input=script.encode(), capture_output=True, cwd=cwd, timeout=60
    )
    return parse_output(CommandResult(proc.returncode, proc.stdout, proc.stderr), state, NONCE)


@pytest.mark.parametrize("shell", SHELLS)
def test_script_on_real_files(shell: list[str], tmp_path: Path) -> None:
    require_tools(shell[0])
    root = tmp_path / "tree"
    root.mkdir()
    files = make_tree(root)
    units = {u: ServiceSpec(u) for u in ("ssh.service", "it's $(touch PWNED3).service")}
    observed = run(shell, DeclaredState(files=files, services=units), cwd=tmp_path)

    assert not list(tmp_path.rglob("PWNED*")), "a declared name was executed"
    assert observed.facts.ok
    assert observed.files.ok
    got = {
        Path(p).relative_to(root).as_posix() if p != str(root) else "": s
        for p, s in observed.files.value.items()
    }

    plain = got["plain.conf"]
    assert (plain.type, plain.mode, plain.owner, plain.content) == (
        "file",
        "0640",
        "root",
        b"listen 80;\n",
    )
    assert plain.sha256 == hashlib.sha256(b"listen 80;\n").hexdigest()
    hostile = got[f"{HOSTILE_DIR}/{HOSTILE}"]
    assert hostile.content == BINARY
    assert hostile.sha256 == hashlib.sha256(BINARY).hexdigest()
    big = got["big.txt"]
    assert big.content == b"a" * 1000
    assert big.content_truncated
    assert big.sha256 == hashlib.sha256(b"a" * 5000).hexdigest()  # the digest covers it all
    assert (got["link"].type, got["link"].sha256) == ("symlink", None)
    assert (got["fifo"].type, got["fifo"].sha256, got["fifo"].error) == ("fifo", None, "")
    assert got["-rf"].sha256 == hashlib.sha256(b"dash\n").hexdigest()
    assert not got["missing/$(touch PWNED2)"].exists
    assert not got["missing/$(touch PWNED2)"].error
    assert got["secret"].content is None
    assert got["secret"].sha256
    assert (got[""].type, got[""].mode) == ("directory", "0755")


def test_services_unsupported_without_systemd(tmp_path: Path) -> None:
    shell = ["sh", "-s"]
    if Path("/run/systemd/system").is_dir():  # hide it: a private mount namespace, as root
        require_root()
        require_tools("unshare")
        shell = ["unshare", "--mount", "sh", "-c", "mount -t tmpfs none /run/systemd && sh -s"]
    observed = run(
        shell, DeclaredState(services={"ssh.service": ServiceSpec("ssh.service")}), tmp_path
    )
    assert observed.services.outcome is Outcome.UNSUPPORTED
    assert "no systemd" in observed.services.reason


def test_packages_and_facts_of_this_machine(tmp_path: Path) -> None:
    observed = run(["sh", "-s"], DeclaredState(), tmp_path)
    assert observed.packages.ok
    if shutil.which("dpkg-query"):
        assert "dpkg" in {p.manager for found in observed.packages.value.values() for p in found}
    facts = observed.facts.value
    assert facts.kernel == os.uname().release
    assert facts.now is not None
    assert facts.uptime_seconds is not None
    assert facts.zombies is not None
    assert facts.pid1


def test_permission_denied_is_an_error_not_missing() -> None:
    require_root()
    require_tools("setpriv")
    with tempfile.TemporaryDirectory(dir="/tmp") as where:  # pytest's tmp_path is root-only
        Path(where).chmod(0o755)
        check_as_nobody(Path(where))


def check_as_nobody(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    (locked / "key").write_text("k\n")
    unreadable = tmp_path / "unreadable.conf"
    unreadable.write_text("u\n")
    unreadable.chmod(0o600)
    state = DeclaredState(
        files={
            str(locked / "key"): FileSpec(str(locked / "key"), sha256="0" * 64),
            str(unreadable): FileSpec(str(unreadable), content="u\n"),
        }
    )
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-s"]
    observed = run(nobody, state, tmp_path)
    key, conf = observed.files.value[str(locked / "key")], observed.files.value[str(unreadable)]
    assert key.error == "cannot stat: Permission denied"
    assert conf.error == "cannot read: Permission denied"
    assert conf.mode == "0600"


def busybox_root(root: Path) -> None:
    """A root filesystem with busybox and its libraries only: no coreutils, no Python."""
    busybox = shutil.which("busybox")
    assert busybox is not None
    (root / "bin").mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    ldd = subprocess.run(["ldd", busybox], capture_output=True, text=True, check=False).stdout
    for lib in (w for w in ldd.split() if w.startswith("/")):
        (root / lib.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lib, root / lib.lstrip("/"))
    subprocess.run(["chroot", root, "/bin/busybox", "--install", "-s", "/bin"], check=True)
    (root / "dev").mkdir()
    subprocess.run(["mknod", "-m", "666", root / "dev" / "null", "c", "1", "3"], check=True)
    (root / "etc").mkdir()
    (root / "etc" / "app.conf").write_text("hello\n")


def test_busybox_only_target(tmp_path: Path) -> None:
    require_root()
    require_tools("busybox")
    busybox_root(tmp_path / "root")
    state = DeclaredState(
        files={p: FileSpec(p, content="hello\n") for p in ("/etc/app.conf", "/etc/it's $(x)")},
        services={"app.service": ServiceSpec("app.service")},
    )
    observed = run(["chroot", str(tmp_path / "root"), "/bin/sh", "-s"], state, tmp_path)
    app = observed.files.value["/etc/app.conf"]
    assert (app.content, app.owner) == (b"hello\n", "0")  # no /etc/passwd: the uid
    assert app.sha256 == hashlib.sha256(b"hello\n").hexdigest()
    assert not observed.files.value["/etc/it's $(x)"].exists
    assert observed.packages.outcome is Outcome.UNSUPPORTED
    assert observed.services.outcome is Outcome.UNSUPPORTED
    assert observed.facts.ok  # no /proc here: those facts are unknown, the rest is known
    assert observed.facts.value.zombies is None
    assert observed.facts.value.now is not None


@functools.cache
def dpkg_verify_conffiles(packages: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """dpkg's own verdict on the conffiles of `packages`: (content differs, missing)."""
    proc = subprocess.run(
        ["dpkg", "--verify", *packages], capture_output=True, text=True, check=False
    )
    modified, missing = set(), set()
    for line in proc.stdout.splitlines():
        flags, _, rest = line.partition(" ")
        kind, _, path = rest.strip().partition(" ")
        if kind != "c":
            continue
        if flags == "missing":
            missing.add(path)
        elif flags[2:3] == "5":
            modified.add(path)
    return modified, missing


@pytest.mark.parametrize("shell", SHELLS)
def test_conffiles_agree_with_dpkg_verify(shell: list[str], tmp_path: Path) -> None:
    """Conffile digest, mode and owner as peers compare them: this machine's real dpkg database,
    one md5sum and one stat."""
    require(shutil.which("dpkg-query") is not None, "needs dpkg")
    require(shutil.which(shell[0]) is not None, f"needs {shell[0]}")
    observed = run(shell, DeclaredState(modified_config="report"), tmp_path)
    assert observed.conffiles.ok, observed.conffiles.reason
    files = observed.conffiles.value
    assert len(files) > 20  # a Debian system has dozens of conffiles
    modified, missing = dpkg_verify_conffiles(tuple(sorted({c.package for c in files.values()})))
    assert {p for p, c in files.items() if c.modified} == modified
    assert {p for p, c in files.items() if c.error == "missing"} == missing
    some = files["/etc/adduser.conf"]
    assert (some.package, some.mode, some.owner) == ("adduser", "0644", "root")
    assert observed.units.outcome is Outcome.UNSUPPORTED  # units only for peers


def test_peer_sections_are_in_the_script_only_when_asked_for() -> None:
    plain = build_script(DeclaredState(), NONCE)
    calls = plain[plain.index("\ndc_facts\n") :]
    assert "dc_conffiles" not in calls
    assert "dc_all_units" not in calls
    config = build_script(DeclaredState(modified_config="report"), NONCE)
    assert "\ndc_conffiles\n" in config
    assert "dc_all_units" not in config[config.index("\ndc_facts\n") :]
    peers = build_script(DeclaredState(peers=True), NONCE)
    assert "\tdc_all_units\n" in peers
    assert "\ndc_conffiles\n" in peers


def test_every_conffile_section_name_is_what_the_shell_prints(tmp_path: Path) -> None:
    """peerdata names the sections once for Python; collect.sh must print exactly those."""
    require(shutil.which("dpkg-query") is not None, "needs dpkg")
    script = build_script(DeclaredState(peers=True), NONCE)
    proc = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, check=False)
    found = split_sections(proc.stdout, NONCE)
    expected = set(SECTIONS) - {UNIT_FILES, UNITS_LOADED}  # no systemd on a build machine
    if shutil.which("rpm") is None:
        expected = {name for name in expected if not name.startswith("conffiles.rpm.")}
    assert expected <= set(found)


def hostile_parent() -> subprocess.Popen[bytes]:
    """A process renamed (prctl PR_SET_NAME) to forge records: its first line "PID (a) Z 1"
    looks like a zombie, its second starts "3 (y)". Its one real unreaped child inherits the
    name."""
    code = (
        "import ctypes, os, sys, time\n"
        "ctypes.CDLL(None).prctl(15, b'a) Z 1\\n3 (y', 0, 0, 0)\n"
        "if os.fork() == 0:\n    os._exit(0)\n"
        "print('ready', flush=True)\ntime.sleep(60)\n"
    )
    proc, said = python_parent(code)
    assert said == b"ready\n"
    return proc


def python_parent(code: str) -> tuple[subprocess.Popen[bytes], bytes]:
    """`code` running in Python, and the first line it printed (once it is ready)."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    return proc, proc.stdout.readline()


def proc_records(output: bytes) -> tuple[str, list[Proc]]:
    sections = split_sections(output, NONCE)
    name = next(n for n in PROCS if n in sections)
    return name, PROCS[name](sections[name].body)


@pytest.mark.parametrize("sed", [True, False], ids=["sed", "no-sed"])
def test_process_table_with_a_hostile_name(sed: bool, tmp_path: Path) -> None:
    """Real /proc in a busybox root, with and without sed: the forged PID is left out of the
    table by PID, the real zombie counts once, the forger's name cannot add one."""
    require_root()
    require_tools("busybox", "unshare")
    root = tmp_path / "root"
    busybox_root(root)
    if not sed:
        (root / "bin" / "sed").unlink()
    (root / "proc").mkdir()
    hostile = hostile_parent()
    try:
        inside = f"mount --bind /proc {root}/proc && exec chroot {root} /bin/sh -s"
        script = build_script(DeclaredState(), NONCE).encode()
        proc = subprocess.run(
            ["unshare", "-m", "sh", "-c", inside], input=script, capture_output=True, timeout=60,
            check=False,
        )  # fmt: skip
        name, records = proc_records(proc.stdout)
    finally:
        hostile.kill()
        hostile.wait()
    assert name == ("facts.procs" if sed else "facts.procstat")
    # (a child of an earlier test's forger may still wait for init to reap it)
    forged = [p for p in records if p.comm == "y" and p.ppid in (os.getpid(), hostile.pid)]
    assert sorted((p.pid, p.state) for p in forged) == [(3, "S"), (3, "Z")]
    assert {p.ppid for p in forged if p.state == "Z"} == {hostile.pid}
    assert not [p for p in records if p.comm == "a"]  # the line cut short is no record
    assert 3 not in by_pid(records)  # claimed by the kernel thread and by both forgers
    assert zombies(records) == sum(1 for p in records if p.state == "Z") >= 1


def test_the_script_sent_is_collect_sh_without_its_comments() -> None:
    """Comment lines are dropped before sending; bash prints what the shell defined (functions
    normalised, comments gone, variables as set), which must be the same either way."""
    require_tools("bash")
    source = resources.files("driftcheck.collectors").joinpath("collect.sh").read_text()

    def defined(text: str) -> str:
        probe = text + "\ndeclare -f\ndeclare -p LC_ALL PATH dc_nl dc_stats dc_sums dc_sb dc_hb\n"
        proc = subprocess.run(["bash", "--posix", "-s"], input=probe.encode(), capture_output=True,
                              check=True, timeout=30)  # fmt: skip
        return proc.stdout.decode()

    assert defined(prelude()) == defined(source)
    assert "dc_procs ()" in defined(source)
    assert len(prelude()) < 0.7 * len(source)


def zombie_parent() -> tuple[subprocess.Popen[bytes], int, int]:
    """A parent with two children that have exited: it reaps the first 0.6 s after saying so,
    the second never (until killed). Both are zombies when it says so."""
    code = (
        "import os, time\n"
        "kids = []\n"
        "for _ in range(2):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n        os._exit(0)\n"
        "    kids.append(pid)\n"
        "for pid in kids:\n"
        "    while open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z':\n"
        "        time.sleep(0.01)\n"
        "print(*kids, flush=True)\n"
        "time.sleep(0.6)\nos.waitpid(kids[0], 0)\ntime.sleep(60)\n"
    )
    proc, said = python_parent(code)
    reaped, lasting = (int(pid) for pid in said.split())
    return proc, reaped, lasting


def test_only_a_zombie_still_there_a_second_later_counts() -> None:
    """A child that has just exited is a zombie until its parent reaps it, a few milliseconds
    on a busy host: the table read at that moment would count it. The zombies are read again a
    second later; one reaped in between is no zombie, one still there is."""
    require(shutil.which("sed") is not None, "needs sed")
    script = f"dc_m={quote('::driftcheck:' + NONCE)}\n{prelude()}\ndc_facts\n"
    parent, reaped, lasting = zombie_parent()
    try:
        started = time.monotonic()
        proc = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True,
                              timeout=60, check=False)  # fmt: skip
        took = time.monotonic() - started
    finally:
        parent.kill()
        parent.wait()
    sections = split_sections(proc.stdout, NONCE)
    table = parse_proc_lines(sections["facts.procs"].body)
    again = parse_proc_lines(sections[ZOMBIES_AGAIN].body)
    states = {p.pid: p.state for p in table}
    assert (states[reaped], states[lasting]) == ("Z", "Z")  # the first read saw both
    assert {p.pid for p in again} & {reaped, lasting} == {lasting}
    assert took >= 1
    kept = {p.pid: p.state for p in lasting_zombies(table, again)}
    assert (kept[reaped], kept[lasting]) == ("X", "Z")
    # (this machine's other processes may leave zombies of a moment too: at least one fewer)
    assert (zombies(lasting_zombies(table, again)) or 0) <= (zombies(table) or 0) - 1
