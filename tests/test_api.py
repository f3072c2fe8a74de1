"""The library as a caller uses it (driftcheck/__init__.py): load an inventory, run the scan,
get the report document; the same document as `driftcheck scan --format json` gives, apart from
run ids and times. A real scan of this machine (ansible_connection=local)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import driftcheck

ROOT = Path(__file__).resolve().parents[1]


def _inventory(tmp_path: Path) -> Path:
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "all.yml").write_text(
        "packages:\n  dpkg: present\n  driftcheck-api-never-installed: present\n"
    )
    hosts = tmp_path / "hosts.ini"
    hosts.write_text("[here]\nlocalhost ansible_connection=local\n")
    return hosts


def _comparable(report: Any) -> Any:
    """The document without what differs from run to run (ids, times, durations)."""
    run = {
        k: v for k, v in report["run"].items() if k not in ("id", "started", "finished", "duration")
    }
    hosts = [
        {k: v for k, v in h.items() if k not in ("duration", "facts")} for h in report["hosts"]
    ]
    return {**report, "run": run, "hosts": hosts}


def test_run_scan_gives_the_document_the_cli_prints(tmp_path: Path) -> None:
    hosts_file = _inventory(tmp_path)
    inventory = driftcheck.load_inventory(str(hosts_file))
    hosts = driftcheck.select_hosts(inventory, None)
    states_dir = tmp_path / "states"
    states = {h.name: driftcheck.load_declared_state(states_dir, h) for h in hosts}
    options = driftcheck.RunOptions(inventory, states_dir, source=str(hosts_file))
    report = driftcheck.run_scan(hosts, states, options)
    assert driftcheck.exit_status(report) == 1
    (host,) = report["hosts"]
    assert [(f["item"], f["kind"]) for f in host["findings"]] == [
        ("driftcheck-api-never-installed", "missing")
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "driftcheck", "scan", "-i", str(hosts_file), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert _comparable(json.loads(proc.stdout)) == _comparable(report)


def test_the_api_loads_lazily_and_names_what_it_has() -> None:
    assert set(driftcheck.__all__) >= {"run_scan", "merge_reports", "publish", "load_inventory"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import driftcheck, sys; print('driftcheck.pipeline' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "False"


def test_all_names_every_api_entry() -> None:
    assert set(driftcheck.__all__) == {"__version__", *driftcheck._API}
    for name in driftcheck._API:
        assert getattr(driftcheck, name) is not None


def test_the_version_is_the_packaged_one() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert driftcheck.__version__ == project["version"]
