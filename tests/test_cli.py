"""The CLI as a user meets it: a real subprocess, real exit codes, real messages."""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftcheck.model.document import new_run_id
from tests.cli import driftcheck, write
from tests.sshd import Sshd

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventories" / "example"


def test_help_documents_every_exit_code() -> None:
    out = driftcheck("scan", "--help").stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "74 ", "75 ", "130 ", "143 "):
        assert f"\n  {code}" in out


def test_bad_usage_exits_3_with_one_line() -> None:
    proc = driftcheck("scan")
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1
    assert "--inventory" in proc.stderr


def test_unwritable_debug_log_is_a_usage_error(tmp_path: Path) -> None:
    inv = write(tmp_path / "hosts.ini", "localhost ansible_connection=local\n")
    log = tmp_path / "no-such-dir" / "debug.log"
    proc = driftcheck("scan", "-i", str(inv), "--debug-log", str(log))
    assert proc.returncode == 3
    assert proc.stderr == f"driftcheck: error: --debug-log {log}: No such file or directory\n"


def test_broken_inventory_exits_3_naming_file_and_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "hosts.ini", "[web]\nweb01\n[web:nonsense]\nx\n")
    proc = driftcheck("scan", "-i", str(inv))
    assert proc.returncode == 3
    assert f"{inv}:3:" in proc.stderr


def test_broken_state_exits_3_naming_file_and_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "hosts.ini", "localhost ansible_connection=local\n")
    state = write(tmp_path / "states" / "all.yml", "packages:\n  bash: present\n  python3: 3.10\n")
    proc = driftcheck("validate", "-i", str(inv))
    assert proc.returncode == 3, proc.stderr
    assert f"{state}:3:" in proc.stderr


def test_undefined_template_variable_names_the_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "hosts.ini", "localhost ansible_connection=local\n")
    state = write(tmp_path / "states" / "all.yml", "packages:\n  {{ nope }}: present\n")
    proc = driftcheck("validate", "-i", str(inv))
    assert proc.returncode == 3
    assert f"{state}:2:" in proc.stderr
    assert "nope" in proc.stderr


def test_demo_audits_this_machine_for_real(tmp_path: Path) -> None:
    proc = driftcheck("scan", "-i", str(EXAMPLE), "--format", "json", "--report-dir", str(tmp_path))
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema"] == "driftcheck.report/1"
    (host,) = report["hosts"]
    assert host["status"] in ("compliant", "snowflake")
    assert host["facts"]["os_id"] == "debian"
    assert {p.name for p in tmp_path.iterdir()} >= {"report.txt", "report.json"}
    assert json.loads((tmp_path / "report.json").read_text()) == report
    # the example declares /etc/debian_version from a template; a real file is compared
    items = {(f["category"], f["item"]) for f in host["findings"]}
    real_version = Path("/etc/debian_version").read_text().strip()
    assert (("file", "/etc/debian_version") in items) == (real_version != "12.13")


def test_keep_prunes_run_folders_and_history(tmp_path: Path) -> None:
    args = ("scan", "-i", str(EXAMPLE), "-q", "--report-dir", str(tmp_path))
    for _ in range(3):
        proc = driftcheck(*args, "--keep", "1", "--keep-history", "2")
        assert proc.returncode in (0, 1), proc.stderr
    assert len(list((tmp_path / "runs").iterdir())) == 1
    history = driftcheck("history", "--report-dir", str(tmp_path), "--format", "json")
    assert history.returncode == 0, history.stderr
    assert len(json.loads(history.stdout)) == 2


@pytest.fixture
def silent_listener() -> Iterator[tuple[str, int]]:
    """A TCP listener that accepts and never speaks: a hung sshd."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[:2]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_and_hanging_hosts_exit_2_within_deadline(
    tmp_path: Path, silent_listener: tuple[str, int]
) -> None:
    addr, port = silent_listener
    inv = write(
        tmp_path / "hosts.ini",
        f"hang ansible_host={addr} ansible_port={port}\n"
        f"gone ansible_host=127.0.0.1 ansible_port={_unused_port()}\n",
    )
    write(tmp_path / "states" / "all.yml", "packages:\n  bash: present\n")
    started = time.monotonic()
    proc = driftcheck(
        "scan",
        "-i",
        str(inv),
        "--timeout",
        "3",
        "--format",
        "json",
        "--known-hosts",
        str(write(tmp_path / "kh", "")),
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    statuses = {h["name"]: h["status"] for h in json.loads(proc.stdout)["hosts"]}
    assert statuses == {"hang": "unreachable", "gone": "unreachable"}
    assert elapsed < 3 + 5  # the deadline plus interpreter start-up, never paramiko's defaults


# A test runner started in the background by a non-interactive shell (`make test &`, some CI
# runners) has SIGINT ignored, and a child inherits that: Python then leaves SIGINT ignored. So
# the scan is started through this, with SIGINT and SIGTERM at their defaults, as from a terminal.
_DEFAULT_SIGNALS = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _start_scan(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _DEFAULT_SIGNALS, "-m", "driftcheck", "scan", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stopped_by(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[float, str]:
    """Send `sig`; how long the scan took to exit after it, and its stderr."""
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:  # never leave a scan running behind a failed test
            proc.kill()
            proc.communicate()
    return time.monotonic() - sent, err


def test_interrupt_exits_130_within_2s(tmp_path: Path, silent_listener: tuple[str, int]) -> None:
    addr, port = silent_listener
    inv = write(tmp_path / "hosts.ini", f"hang ansible_host={addr} ansible_port={port}\n")
    proc = _start_scan("-i", str(inv), "--timeout", "60")
    # the scan is really connecting (the listener has a client): now interrupt it
    _wait_until(proc, lambda: _has_client(addr, port), f"connected to {addr}:{port}")
    elapsed, err = _stopped_by(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert err == "driftcheck: interrupted\n"
    assert elapsed < 2


@pytest.mark.sshd
def test_sigterm_mid_scan_exits_143_within_2s_and_leaves_the_report_dir_as_it_was(
    tmp_path: Path,
) -> None:
    started = tmp_path / "collecting"
    # A slow host: its session marks that it started, then prints a byte every 0.2 s until the
    # deadline, or until its connection is gone (printf then dies of SIGPIPE).
    slow = f"ForceCommand touch {started}; while :; do printf x; sleep 0.2; done\n"
    with Sshd.start(tmp_path / "sshd", extra_config=slow) as server:
        inv = write(
            tmp_path / "hosts.ini",
            "here ansible_connection=local\n"
            f"slow ansible_host={server.address} ansible_port={server.port} "
            f"ansible_user={server.user} ansible_ssh_private_key_file={server.client_key}\n",
        )
        write(tmp_path / "states" / "all.yml", "packages:\n  dpkg: present\n")
        reports = tmp_path / "reports"
        known = write(tmp_path / "known_hosts", server.known_hosts_line())
        common = ("-i", str(inv), "--known-hosts", str(known), "--report-dir", str(reports))
        previous = driftcheck("scan", *common, "--limit", "here", "--format", "json")
        assert previous.returncode in (0, 1), previous.stderr
        before = _entries(reports)

        proc = _start_scan(*common, "--timeout", "60", "--quiet")
        _wait_until(proc, started.exists, "started the host's command")
        assert _has_client(server.address, server.port)
        elapsed, err = _stopped_by(proc, signal.SIGTERM)
        assert proc.returncode == 143, err
        assert err == "driftcheck: terminated (SIGTERM)\n"
        assert elapsed < 2
        _wait_until_closed(server)  # the SSH session ended with the scan

    assert _entries(reports) == before  # nothing half-written, nothing lost, nothing left over
    run_id = json.loads(previous.stdout)["run"]["id"]
    assert json.loads((reports / "report.json").read_text())["run"]["id"] == run_id
    history = driftcheck("history", "--report-dir", str(reports), "--format", "json")
    assert [row["id"] for row in json.loads(history.stdout)] == [run_id], history.stderr
    following = driftcheck("scan", *common, "--limit", "here", "--quiet")  # the lock is free
    assert following.returncode in (0, 1), following.stderr


def _running(command: str) -> bool:
    """A process whose command line is exactly `command` is running (and not a zombie)."""
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = stat.read_bytes().split(b"\0")[:-1]
            state = (stat.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b" ".join(argv) == command.encode() and state != "Z":
            return True
    return False


def _gone(command: str) -> bool:
    deadline = time.monotonic() + 5
    while _running(command):
        if time.monotonic() > deadline:
            subprocess.run(["pkill", "-KILL", "-fx", command], check=False)  # leave nothing
            return False
        time.sleep(0.05)
    return True


def test_sigterm_ends_an_inventory_script_and_its_children(tmp_path: Path) -> None:
    """The script runs in a session of its own (so its deadline kills its children): stopping
    the run must end that session too, not leave it running with nobody reading it."""
    sleeper = f"sleep {3000 + secrets.randbelow(1000)}.5"
    script = write(tmp_path / "inventory.sh", f"#!/bin/sh\n{sleeper} &\nwait\n")
    script.chmod(0o755)
    proc = _start_scan("-i", str(script), "--timeout", "60")
    _wait_until(proc, lambda: _running(sleeper), "ran the inventory script")
    _elapsed, err = _stopped_by(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    assert _gone(sleeper), "the inventory script's child outlived the run"


def test_sigterm_mid_scan_ends_a_proxycommand(tmp_path: Path) -> None:
    """A host thread still connecting through a ProxyCommand when the run stops: the proxy's
    group is ended with the run."""
    sleeper = f"sleep {3000 + secrets.randbelow(1000)}.25"
    config = write(tmp_path / "ssh_config", f"Host 127.0.0.77\n  ProxyCommand {sleeper}\n")
    inv = write(tmp_path / "hosts.ini", "slow ansible_host=127.0.0.77\n")
    known = write(tmp_path / "known_hosts", "")
    proc = _start_scan("-i", str(inv), "-F", str(config), "--known-hosts", str(known),
                       "--timeout", "60")  # fmt: skip
    _wait_until(proc, lambda: _running(sleeper), "started the ProxyCommand")
    _elapsed, err = _stopped_by(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    assert _gone(sleeper), "the ProxyCommand outlived the run"


def _entries(root: Path) -> dict[str, bytes | str]:
    """Every entry under `root`: a file's bytes, a symlink's target, "dir" for a folder. The
    lock file is left out: it holds the pid of the last scan that took it."""
    entries: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            entries[name] = str(path.readlink())
        elif path.is_dir():
            entries[name] = "dir"
        elif name != ".lock":
            entries[name] = path.read_bytes()
    return entries


def _wait_until(proc: subprocess.Popen[str], ready: Callable[[], bool], what: str) -> None:
    """Poll `ready` while the scan runs (a loaded machine may take many seconds to start it);
    a scan that ended or never got there fails here, not later."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    proc.kill()
    _out, err = proc.communicate()
    pytest.fail(f"the scan never {what} (exit {proc.returncode}): {err}")


def _wait_until_closed(server: Sshd) -> None:
    """sshd sees the connection closed and ends the session: nothing of it stays established."""
    deadline = time.monotonic() + 10
    while _has_client(server.address, server.port):
        assert time.monotonic() < deadline, "the SSH session outlived the scan"
        time.sleep(0.05)


def _has_client(addr: str, port: int) -> bool:
    """An established connection whose local end is the listener's addr:port."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return any(line.split()[2:3] == [f"{addr}:{port}"] for line in out.splitlines())


def test_report_rerenders_saved_json(tmp_path: Path) -> None:
    saved = tmp_path / "r.json"
    proc = driftcheck("scan", "-i", str(EXAMPLE), "--format", "json")
    saved.write_text(proc.stdout)
    text = driftcheck("report", str(saved), "--format", "text")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].startswith("1 hosts:")


def test_report_rejects_foreign_json(tmp_path: Path) -> None:
    bad = write(tmp_path / "r.json", '{"schema": "other/9"}')
    proc = driftcheck("report", str(bad), "--format", "text")
    assert proc.returncode == 3
    assert str(bad) in proc.stderr


def test_inventory_lists_state_files() -> None:
    proc = driftcheck("inventory", "-i", str(EXAMPLE), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (host,) = json.loads(proc.stdout)
    assert host["connection"] == "local"
    assert [Path(p).name for p in host["state_files"]] == ["all.yml", "workstations.yml"]


def test_limit_matching_nothing_is_a_usage_error() -> None:
    proc = driftcheck("scan", "-i", str(EXAMPLE), "--limit", "nosuchhost")
    assert proc.returncode == 3
    assert "nosuchhost" in proc.stderr


def test_hostile_declared_path_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    inv = write(tmp_path / "hosts.ini", "localhost ansible_connection=local\n")
    write(
        tmp_path / "states" / "all.yml",
        "files:\n"
        f"  \"/tmp/odd dir/it's $(touch {marker}).conf\": {{mode: '0644'}}\n"
        f'  "/tmp/`touch {marker}`": absent\n',
    )
    proc = driftcheck("scan", "-i", str(inv), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert not marker.exists()
    kinds = {f["item"]: f["kind"] for f in json.loads(proc.stdout)["hosts"][0]["findings"]}
    assert kinds == {f"/tmp/odd dir/it's $(touch {marker}).conf": "missing"}


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "nan"),
        ("--timeout", "inf"),
        ("--timeout", "-inf"),
        ("--timeout", "1e300"),
        ("--timeout", "86401"),
        ("--forks", "1" + "0" * 30),
        ("--forks", "1025"),
        ("--keep", "1" + "0" * 30),
    ],
)
def test_numbers_that_are_no_plan_are_usage_errors(tmp_path: Path, option: str, value: str) -> None:
    inv = write(tmp_path / "hosts.ini", "localhost ansible_connection=local\n")
    write(tmp_path / "states" / "all.yml", "")
    proc = driftcheck("scan", "-i", str(inv), f"{option}={value}", "-q")
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert option in proc.stderr


def test_hostile_inventory_host_name_never_runs_a_command(tmp_path: Path) -> None:
    # CVE-2023-51385's shape: a name from an inventory reaching a shell through %h.
    marker = tmp_path / "PWNED"
    inv = write(
        tmp_path / "hosts.yml",
        "all:\n  hosts:\n"
        f'    "x;touch {marker}": {{}}\n'
        f'    "web": {{ansible_host: "w$(touch {marker})"}}\n',
    )
    config = write(
        tmp_path / "ssh_config",
        f'Match exec "test %h = x"\n  Port 2222\n'
        f"Host *\n  ProxyCommand nc %h %p; touch {marker}x\n",
    )
    write(tmp_path / "states" / "all.yml", "packages: {}\n")
    proc = driftcheck(
        "scan",
        "-i",
        str(inv),
        "-F",
        str(config),
        "--states",
        str(tmp_path / "states"),
        "--format",
        "json",
        "--known-hosts",
        str(tmp_path / "kh"),
    )
    assert proc.returncode == 2, proc.stderr
    errors = [h["error"] for h in json.loads(proc.stdout)["hosts"]]
    assert all("characters OpenSSH refuses" in str(e) for e in errors), errors
    listing = driftcheck("inventory", "-i", str(inv), "-F", str(config), "--format", "json")
    assert listing.returncode == 0, listing.stderr
    assert all("OpenSSH refuses" in row["route"] for row in json.loads(listing.stdout))
    assert not list(tmp_path.glob("PWNED*"))


def test_quiet_line_groups_hosts_not_audited_by_cause(
    tmp_path: Path, silent_listener: tuple[str, int]
) -> None:
    addr, port = silent_listener
    inv = write(
        tmp_path / "hosts.ini",
        f"hang ansible_host={addr} ansible_port={port}\n"
        + "".join(
            f"gone{i} ansible_host=127.0.0.1 ansible_port={_unused_port()}\n" for i in (1, 2)
        ),
    )
    write(tmp_path / "states" / "all.yml", "packages:\n  bash: present\n")
    kh = str(write(tmp_path / "kh", ""))
    proc = driftcheck("scan", "-i", str(inv), "--timeout", "2", "-q", "--known-hosts", kh)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stdout.splitlines()
    assert "(NOT AUDITED: 2 refused, 1 no handshake)" in line, line
    proc = driftcheck(
        "scan", "-i", str(inv), "--timeout", "2", "--format", "json", "--known-hosts", kh
    )
    causes = {h["name"]: h["cause"] for h in json.loads(proc.stdout)["hosts"]}
    assert causes == {"hang": "no handshake", "gone1": "refused", "gone2": "refused"}


def test_report_renders_a_recorded_run_with_its_trend(tmp_path: Path) -> None:
    args = ("scan", "-i", str(EXAMPLE), "-q", "--report-dir", str(tmp_path), "--keep", "1")
    for _ in range(3):
        assert driftcheck(*args).returncode in (0, 1)
    ids = [r["id"] for r in json.loads(
        driftcheck("history", "--report-dir", str(tmp_path), "--format", "json").stdout
    )][::-1]  # fmt: skip
    latest = (tmp_path / "report.html").read_text()
    assert latest.count('<circle class="point"') == 3
    proc = driftcheck("report", "--report-dir", str(tmp_path), "--run", ids[1], "--format", "html")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('<circle class="point"') == 2  # its trend stops at itself
    # --keep 1 pruned its folder (unless two runs started in the same second: run ids then
    # sort by their random suffix and pruning may keep it), so it was rebuilt from history
    rebuilt = not (tmp_path / "runs" / ids[1]).exists()
    assert ("rebuilt from history.sqlite" in proc.stdout) == rebuilt
    first = driftcheck("report", "--report-dir", str(tmp_path), "--run", ids[0])
    assert first.returncode == 0
    assert 'id="trend"' not in first.stdout
    both = driftcheck("report", "x.json", "--run", ids[0])
    assert both.returncode == 3
    assert "either REPORT.json or --run" in both.stderr
    host = json.loads((tmp_path / "report.json").read_text())["hosts"][0]["name"]
    strip = driftcheck("history", "--report-dir", str(tmp_path), "--host", host)
    assert strip.returncode == 0, strip.stderr
    assert re.search(rf"{host} over the last 3 runs, oldest first: [cs]{{3}}\n", strip.stdout)


def test_run_ids_of_one_second_sort_by_time() -> None:
    ids = [new_run_id(1764473400 + i / 1000) for i in range(0, 1000, 7)]
    assert ids == sorted(ids)
    assert all(len(i.rsplit("-", 1)[1]) == 4 for i in ids)
