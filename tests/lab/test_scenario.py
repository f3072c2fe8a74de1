"""The lab's scenario is consistent and its inventory and states are valid (no hosts needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab import inventory, scenario

DRIFTCHECK = str(Path(sys.executable).with_name("driftcheck"))
DEFAULT = scenario.default()


def test_every_drift_and_hostile_case_has_its_host() -> None:
    statuses = [h.status for h in DEFAULT.hosts]
    assert statuses.count("compliant") >= 2
    assert sum(1 for h in DEFAULT.hosts if h.booted) >= 12
    kinds = {f[1:] for h in DEFAULT.hosts for f in h.findings}
    for category, kind in [("package", "unexpected"), ("package", "version"), ("file", "content"),
                           ("file", "mode"), ("service", "stopped"), ("service", "disabled"),
                           ("host", "zombies"), ("host", "age")]:  # fmt: skip
        assert any(k[0] == category and k[2] == kind for k in kinds), (category, kind)
    assert {h.kind for h in DEFAULT.hosts} == {"nspawn", "absent", "tarpit"}
    assert any(h.rotate_key for h in DEFAULT.hosts)
    assert any(h.become and h.login != "root" for h in DEFAULT.hosts)
    assert any(h.proxy_jump for h in DEFAULT.hosts)


@pytest.mark.parametrize("host", DEFAULT.hosts, ids=lambda h: h.name)
def test_expected_outcome_is_coherent(host: scenario.HostDef) -> None:
    if host.status == "snowflake":
        assert host.findings
    # an error host may have findings too: unknown checks (a busybox container) beside drift
    assert not host.findings or host.status in ("snowflake", "error")
    assert host.address.startswith(f"{scenario.NET}.")


def test_names_and_addresses_unique() -> None:
    for hosts in (DEFAULT.hosts, scenario.bench(250).hosts):
        assert len({h.name for h in hosts}) == len(hosts)
        assert len({h.address for h in hosts}) == len(hosts)


def test_expected_exit_code_follows_statuses() -> None:
    assert DEFAULT.exit_code == 2  # unreachable and error hosts are in the fleet
    assert scenario.bench(3).exit_code == 0


@pytest.mark.parametrize("scenario_", [DEFAULT, scenario.bench(2)], ids=lambda s: s.name)
def test_inventory_and_states_validate(tmp_path: Path, scenario_: scenario.Scenario) -> None:
    hosts_ini = inventory.write_inventory(scenario_, tmp_path / "inv", tmp_path / "id_ed25519")
    proc = subprocess.run(
        [DRIFTCHECK, "validate", "-i", str(hosts_ini)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
