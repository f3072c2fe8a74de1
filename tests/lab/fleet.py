"""Bring the lab up, tear it down, say what is running. State lives in run/state.json."""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.lab import base, debs, drift, golden, host, inventory, procs, ready, teardown
from tests.lab.lab import Lab
from tests.lab.paths import lab_root, run_dir
from tests.lab.scenario import HostDef, Scenario, by_name

BOOT_TIMEOUT = float(os.environ.get("DRIFTCHECK_LAB_BOOT_TIMEOUT", "180"))
REPO = Path(__file__).resolve().parents[2]
TOOLS = (
    "debootstrap",
    "systemd-nspawn",
    "nsenter",
    "ssh",
    "ssh-keyscan",
    "ssh-keygen",
    "mkfs.ext4",
)


def up(scenario_name: str = "default", timeout: float = BOOT_TIMEOUT) -> Lab:
    """Build what is missing, boot the fleet, inject drift. Tears down again on any failure."""
    scenario = by_name(scenario_name)
    if (run_dir() / "state.json").exists():
        down()  # a lab left by a crashed run
    preflight(scenario)
    state: dict[str, object] = {"scenario": scenario_name, "hosts": [], "helpers": []}
    try:
        return start(scenario, state, timeout)
    except BaseException:
        down()
        raise


def start(scenario: Scenario, state: dict[str, object], timeout: float) -> Lab:
    started = time.monotonic()
    figures: dict[str, float] = {}
    base_dir, figures["base_build_s"] = base.ensure_base()
    figures["base_built_in_s"] = base.built_seconds(base_dir)
    debs_dir = debs_dir_for(run_dir())
    debs.build_all(debs_dir)
    golden_dir, figures["golden_build_s"] = golden.ensure_golden(base_dir, debs_dir)
    key = make_keypair(run_dir())
    figures["mem_used_before_mb"] = mem_used_mb()
    save(state)
    booted = [h for h in scenario.hosts if h.booted]
    records: list[dict[str, object]] = state["hosts"]  # type: ignore[assignment]
    boot_started = time.monotonic()
    for spec in booted:
        records.append(host.prepare(setup_for(spec, key), run_dir(), [golden_dir, base_dir]))
        save(state)
        host.boot(records[-1])
        save(state)
    start_helpers(scenario, state)
    ready.wait_ready(records, {h.name: h.address for h in booted}, timeout)
    figures["boot_s"] = time.monotonic() - boot_started
    lab = configure(scenario, key, ready.keyscan({h.name: h.address for h in booted}))
    drift.inject(lab, debs_dir)
    figures["up_total_s"] = time.monotonic() - started
    figures["mem_used_after_mb"] = mem_used_mb()
    figures["fleet_pss_mb"] = sum(fleet_pss_kb(records).values()) / 1024
    state["figures"] = figures
    save(state)
    return lab


def preflight(scenario: Scenario) -> None:
    if os.geteuid() != 0:
        raise RuntimeError("lab: must run as root (overlay mounts, systemd-nspawn)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"lab: missing {missing}: run `bash tests/setup-system.sh`")
    for spec in scenario.hosts:
        if port_open(spec.address):
            raise RuntimeError(f"lab: something already listens on {spec.address}:22")
    for key, value in (("max_user_instances", 8192), ("max_user_watches", 1048576)):
        path = Path(f"/proc/sys/fs/inotify/{key}")
        if int(path.read_text()) < value:  # every host's systemd takes inotify instances
            path.write_text(str(value))


def port_open(address: str, port: int = 22) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return True
    except OSError:
        return False


def debs_dir_for(rdir: Path) -> Path:
    return rdir / "debs"


def make_keypair(rdir: Path) -> Path:
    key = rdir / "id_ed25519"
    argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "driftcheck-lab", "-f", str(key)]
    subprocess.run(argv, check=True)
    return key


def setup_for(spec: HostDef, key: Path) -> host.HostSetup:
    return host.HostSetup(
        name=spec.name,
        listen=spec.address,
        authorized_key=key.with_suffix(".pub").read_text(),
        login_user=spec.login,
        login_uid=0 if spec.login == "root" else golden.AUDITOR_UID,
        sshd_extra=spec.sshd_extra,
        etc_hosts=spec.etc_hosts,
        files=spec.files,
        upper_on_loop=spec.upper_on_loop,
        containers=spec.containers,
    )


def start_helpers(scenario: Scenario, state: dict[str, object]) -> None:
    helpers: list[dict[str, object]] = state["helpers"]  # type: ignore[assignment]
    for spec in scenario.hosts:
        if spec.kind != "tarpit":
            continue
        argv = [sys.executable, "-m", "tests.lab.tarpit", spec.address, "22"]
        with (run_dir() / f"tarpit-{spec.address}.log").open("wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=REPO,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        helpers.append({"what": f"tarpit {spec.address}", "pid": proc.pid})
        helpers[-1]["start"] = procs.start_time(proc.pid)
        save(state)
        if not teardown.wait_until(functools.partial(port_open, spec.address), 10.0):
            raise RuntimeError(f"lab: tarpit on {spec.address} did not start")


def configure(scenario: Scenario, key: Path, keys: dict[str, str]) -> Lab:
    """known_hosts (before any drift), inventory, states and ssh_configs."""
    rdir = run_dir()
    lab = Lab(rdir, scenario)
    (rdir / "admin").mkdir(exist_ok=True)
    known = inventory.known_hosts_lines(scenario, keys)
    lab.known_hosts.write_text(known)
    (rdir / "admin/known_hosts").write_text(known)
    inventory.write_inventory(scenario, rdir / "inventory", key)
    lab.ssh_config.write_text(inventory.ssh_config(scenario, key, None))
    admin = inventory.ssh_config(scenario, key, rdir / "admin/known_hosts")
    lab.admin_ssh_config.write_text(admin)
    return lab


def down() -> None:
    """Stop everything a lab started, even one left by a crashed run; verify nothing is left."""
    rdir = run_dir()
    state = load_state()
    records = [*state.get("hosts", []), *teardown.orphans(rdir, state.get("hosts", []))]
    helpers = state.get("helpers", [])
    teardown.stop_hosts(records)
    teardown.stop_helpers(helpers)
    for rec in records:
        teardown.unmount(rec)
    teardown.unmount_all(rdir)
    problems = teardown.leftovers(records, helpers, rdir)
    if problems:
        raise RuntimeError("lab: teardown left things behind:\n  " + "\n  ".join(problems))
    if rdir.exists():
        shutil.rmtree(rdir)


def status() -> list[dict[str, object]]:
    state = load_state()
    pss = fleet_pss_kb(state.get("hosts", []))
    rows = []
    for rec in state.get("hosts", []):
        alive = procs.alive(rec.get("leader_pid"), rec.get("leader_start"))
        rows.append({
            "name": rec["name"],
            "state": host.system_state(rec) if alive else "down",
            "leader_pid": rec.get("leader_pid"),
            "pss_mb": round(pss.get(str(rec["name"]), 0) / 1024, 1),
        })  # fmt: skip
    return rows


def fleet_pss_kb(records: list[dict[str, object]]) -> dict[str, int]:
    """Proportional set size of every process of each host (its PID namespace + nspawn)."""
    out = {}
    for rec in records:
        pidns = rec.get("pidns")
        pids = procs.in_pidns(pidns) if isinstance(pidns, int) else []
        if isinstance(rec.get("nspawn_pid"), int):
            pids.append(int(str(rec["nspawn_pid"])))
        out[str(rec["name"])] = sum(procs.pss_kb(pid) for pid in pids)
    return out


def mem_used_mb() -> float:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kb = int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])
    return kb / 1024


def load_state() -> dict[str, list[dict[str, object]]]:
    path = run_dir() / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save(state: dict[str, object]) -> None:
    path = run_dir() / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(path)


def figures() -> dict[str, float]:
    return dict(load_state().get("figures", {}))  # type: ignore[arg-type]


__all__ = ["down", "figures", "lab_root", "status", "up"]
