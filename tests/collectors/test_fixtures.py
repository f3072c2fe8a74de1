"""Parsers on captured real output: one JSON file per case under tests/collectors/<collector>/.

Each file holds the command, where the output was captured, the raw output (text, or base64
when it is not UTF-8), and either the expected records or the expected parse error.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftcheck.collectors import facts, packages, peerdata, procs, services
from driftcheck.collectors.script import parse_output
from driftcheck.collectors.sections import ParseError
from driftcheck.model import CommandResult, DeclaredState, FileSpec, Observed, ServiceSpec

HERE = Path(__file__).parent

PARSERS: dict[str, Callable[..., Any]] = {
    "dpkg": packages.parse_dpkg,
    "rpm": packages.parse_rpm,
    "apk": packages.parse_apk,
    "systemctl": services.parse_systemctl_show,
    "os-release": facts.parse_os_release,
    "provisioned": lambda raw: list(facts.parse_provisioned(raw)),
    "procstat": lambda raw: procs.zombies(procs.parse_procstat(raw)),
    "procs": lambda raw: procs.zombies(procs.parse_proc_lines(raw)),
    "cmdline": facts.parse_cmdline,
    "conffiles-dpkg": peerdata.parse_dpkg_conffiles,
    "conffiles-rpm": peerdata.parse_rpm_conffiles,
    "md5sum": peerdata.parse_md5sum,
    "conffile-stat": peerdata.parse_conffile_stat,
    "unit-files": peerdata.parse_unit_files,
    "units-loaded": peerdata.parse_units_loaded,
}


def record(value: Any) -> Any:
    """Records as JSON-shaped data: dataclasses as dicts, bytes as {"base64": ...}."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: record(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, list | tuple):
        return [record(v) for v in value]
    if isinstance(value, dict):
        return {k: record(v) for k, v in value.items()}
    return value


def raw_of(case: dict[str, Any]) -> bytes:
    if "raw_base64" in case:
        return base64.b64decode(case["raw_base64"])
    return str(case["raw"]).encode()


def cases(*collectors: str) -> list[Any]:
    return [
        pytest.param(path, id=f"{path.parent.name}/{path.stem}")
        for c in collectors
        for path in sorted((HERE / c).glob("*.json"))
    ]


@pytest.mark.parametrize("path", cases(*PARSERS))
def test_parser_on_captured_output(path: Path) -> None:
    case = json.loads(path.read_text())
    parse = PARSERS[path.parent.name]
    if "error" in case:
        with pytest.raises(ParseError) as caught:
            parse(raw_of(case), **case.get("args", {}))
        assert str(caught.value) == case["error"]
    else:
        assert record(parse(raw_of(case), **case.get("args", {}))) == case["expected"]


def test_every_collector_has_dirty_cases() -> None:
    for collector in (
        "dpkg",
        "rpm",
        "apk",
        "systemctl",
        "conffiles-dpkg",
        "unit-files",
        "units-loaded",
    ):
        names = [p.stem for p in (HERE / collector).glob("*.json")]
        assert any("garbage" in n for n in names), collector


# --- whole runs: the script's output as one piece --------------------------------------------


def summary(observed: Observed) -> dict[str, Any]:
    def section(s: Any, shape: Callable[[Any], Any]) -> dict[str, Any]:
        value = None if s.value is None else shape(s.value)
        return {"outcome": str(s.outcome), "reason": s.reason, "value": value}

    def sample(v: Any) -> dict[str, Any]:
        return {"count": len(v), "sample": {k: record(list(v[k])) for k in sorted(v)[:3]}}

    return {
        "packages": section(observed.packages, sample),
        "files": section(observed.files, lambda v: {k: record(x) for k, x in v.items()}),
        "services": section(observed.services, lambda v: {k: record(x) for k, x in v.items()}),
        "facts": section(observed.facts, record),
    }


@pytest.mark.parametrize("path", cases("script"))
def test_parse_output_on_captured_runs(path: Path) -> None:
    case = json.loads(path.read_text())
    declared = DeclaredState(
        files={p: FileSpec(p, **kw) for p, kw in case["declared"]["files"].items()},
        services={u: ServiceSpec(u) for u in case["declared"]["services"]},
    )
    result = CommandResult(case["rc"], raw_of(case), b"", case["truncated"])
    observed = parse_output(result, declared, case["nonce"])
    assert summary(observed) == case["expected"]
    assert observed.truncated is case["truncated"]


def test_units_merge_enablement_and_active_state_of_a_real_host() -> None:
    """list-unit-files and list-units of one lab host (acme-agent disabled and stopped)."""
    files = json.loads((HERE / "unit-files/lab_peer01_disabled_agent.json").read_text())
    loaded = json.loads((HERE / "units-loaded/lab_peer01_not_found_units.json").read_text())
    units = peerdata.merge_units(
        peerdata.parse_unit_files(raw_of(files)), peerdata.parse_units_loaded(raw_of(loaded))
    )
    assert units["acme-agent.service"].unit_file_state == "disabled"
    assert units["acme-agent.service"].active_state == "inactive"
    assert (units["ssh.service"].unit_file_state, units["ssh.service"].active_state) == (
        "enabled",
        "active",
    )
    assert units["getty@tty1.service"].unit_file_state == ""  # an instance: no file of its own
    assert units["getty@.service"].load_state == "not-loaded"  # a template is never loaded


def test_rpm_config_files_modified_missing_and_missingok() -> None:
    """The rpm fixture's package as installed, then agent.conf edited and keep.conf (missingok)
    deleted; sha256sum and stat as collect.sh runs them, captured in that root."""
    case = json.loads((HERE / "conffiles-rpm/noreplace_ghost_missingok_space.json").read_text())
    edited = "202fc7b6e8744dddf88878b9110baaf1f92c5c9c2f9d6b2df5e8871e78ca788e"
    shipped = "07e7f0801a94036f2ba82cd8e50fd37aec5eecf50fc950879d215e8be6f8867d"
    sums = f"{edited}  /etc/acme/agent.conf\n{shipped}  /etc/acme/with space.conf\n".encode()
    stats = b"81a4 root root /etc/acme/agent.conf\n81a4 root root /etc/acme/with space.conf\n"
    files = peerdata.conffiles(
        peerdata.parse_rpm_conffiles(raw_of(case)),
        peerdata.parse_sha256sum(sums),
        peerdata.parse_conffile_stat(stats),
        "sha256",
    )
    assert sorted(files) == [
        "/etc/acme/agent.conf",
        "/etc/acme/keep.conf",
        "/etc/acme/with space.conf",
    ]
    assert files["/etc/acme/agent.conf"].modified
    assert not files["/etc/acme/with space.conf"].modified
    keep = files["/etc/acme/keep.conf"]
    assert (keep.error, keep.missing_ok) == ("missing", True)
