"""Several `-i`, as Ansible combines them: read in order into one inventory; for variables the
later source wins, group_vars/ and host_vars/ are read beside each source."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.inventory import load_inventory
from tests.inventory.conftest import MAGIC, ansible_tool, normalize, run_json

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        (root / "group_vars").mkdir(parents=True)
        (root / "host_vars").mkdir()
    (first / "hosts.ini").write_text(
        "[web]\nw1 x=first only_first=1\nw2\n[web:vars]\nwv=first\n[all:vars]\nav=first\n"
    )
    (first / "group_vars" / "all.yml").write_text("g: first\nonly_first_gv: 1\n")
    (first / "group_vars" / "web.yml").write_text("gw: first\n")
    (first / "host_vars" / "w1.yml").write_text("h: first\nhf: 1\n")
    (second / "hosts.yml").write_text(
        "all:\n  vars:\n    av: second\n  children:\n    web:\n      vars:\n        wv: second\n"
        "      hosts:\n        w1:\n          x: second\n        w3:\n    db:\n      hosts:\n"
        "        d1:\n"
    )
    (second / "group_vars" / "all.yml").write_text("g: second\n")
    (second / "group_vars" / "web.yml").write_text("gw: second\n")
    (second / "host_vars" / "w1.yml").write_text("h: second\n")
    third = tmp_path / "third.ini"
    third.write_text("[db]\nd1 x=third\n[web]\nw4\n")
    return {"first": first, "second": second, "third": third}


ORDERS = [("first", "second", "third"), ("third", "second", "first"), ("first", "second", "first")]


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_several_sources_read_as_ansible_reads_them(
    sources: dict[str, Path], ansible_env: dict[str, Any], order: tuple[str, ...]
) -> None:
    paths = [sources[name] for name in order]
    tool = str(ansible_tool("ansible-inventory"))
    argv = [tool, *(arg for path in paths for arg in ("-i", str(path))), "--list"]
    listed = run_json(argv, ansible_env)
    inventory = load_inventory(paths)
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(inventory.hosts) == sorted(hostvars)
    for name, host in inventory.hosts.items():
        raw = getattr(host.vars, "raw", host.vars)
        mine = {key: value for key, value in raw.items() if key not in MAGIC}
        assert normalize(mine) == normalize(hostvars[name]), name
    for name, body in listed.items():
        if name not in ("_meta", "all"):
            assert list(inventory.groups[name].hosts) == body.get("hosts", []), name
    assert inventory.root == (paths[0] if paths[0].is_dir() else paths[0].parent)


def test_every_command_taking_i_takes_it_repeated(sources: dict[str, Path]) -> None:
    first, third = str(sources["first"]), str(sources["third"])
    base = [sys.executable, "-m", "driftcheck"]
    listed = subprocess.run([*base, "inventory", "-i", first, "-i", third, "--format", "json"],
                            capture_output=True, text=True, check=False, timeout=120,
                            cwd=ROOT)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert {row["name"] for row in json.loads(listed.stdout)} == {"w1", "w2", "w4", "d1"}
    states = sources["first"] / "states"
    states.mkdir()
    (states / "all.yml").write_text("{}\n")
    checked = subprocess.run([*base, "validate", "-i", first, "-i", third], capture_output=True,
                             text=True, check=False, timeout=120, cwd=ROOT)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok: 4 hosts")
    for command in ("scan", "capture"):
        argv = [*base, command, "-i", first, "-i", third, "--timeout", "1"]
        target = ["-l", "nosuch"] if command == "scan" else ["nosuch"]
        proc = subprocess.run([*argv, *target], capture_output=True, text=True, check=False,
                              timeout=120, cwd=ROOT)  # fmt: skip
        assert proc.returncode == 3
        assert "nosuch" in proc.stderr
        assert "unrecognized" not in proc.stderr


def test_a_scan_records_every_inventory(sources: dict[str, Path], tmp_path: Path) -> None:
    local = tmp_path / "local.ini"
    local.write_text("[here]\nlocalhost ansible_connection=local\n")
    states = tmp_path / "states"
    states.mkdir()
    (states / "all.yml").write_text("{}\n")
    argv = [sys.executable, "-m", "driftcheck", "scan", "-i", str(sources["third"]), "-i",
            str(local), "-l", "here", "--states", str(states), "--format", "json"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    assert proc.returncode in (0, 1, 2), proc.stderr  # this machine's own drift is no matter
    report = json.loads(proc.stdout)
    assert report["run"]["inventory"] == f"{sources['third']}, {local}"
    assert [host["name"] for host in report["hosts"]] == ["localhost"]
