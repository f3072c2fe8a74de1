"""`driftcheck merge` refuses what it cannot trust: each refusal exit 3, one line naming the file.

The reports are real: `driftcheck scan --shard K/N` of a fleet of this machine
(ansible_connection=local, its real dpkg database), then edited as a hostile or broken runner
would leave them.
"""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftcheck.fleet.shard import shard_of
from tests.cli import ROOT, driftcheck

NODES = [f"node{i:02d}" for i in range(1, 9)]
Reports = dict[str, dict[str, Any]]  # "K/N" -> the JSON report of that shard


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """Shards 1/2 and 2/2 of the fleet, and 1/3; in each shard of 2 one host is a snowflake."""
    root = tmp_path_factory.mktemp("fleet")
    inv = root / "hosts.ini"
    inv.write_text("[nodes]\n" + "".join(f"{h} ansible_connection=local\n" for h in NODES))
    (root / "states").mkdir()
    (root / "states" / "all.yml").write_text("packages:\n  dpkg: present\n")
    for k in (1, 2):
        drifted = next(h for h in NODES if shard_of(h, 2) == k)
        (root / "states" / f"{drifted}.yml").write_text("packages:\n  no-such-pkg: present\n")
    scan = [sys.executable, "-m", "driftcheck", "scan", "-i", str(inv), "--format", "json"]
    procs = {
        cut: subprocess.Popen([*scan, "--shard", cut], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for cut in ("1/2", "2/2", "1/3")
    }
    outs = {cut: proc.communicate(timeout=120)[0] for cut, proc in procs.items()}
    return {cut: json.loads(out) for cut, out in outs.items()}


def merge(
    tmp_path: Path,
    reports: Reports,
    *options: str,
    texts: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`driftcheck merge` of the reports saved as shard-KofN.json (a text in `texts` as it is)."""
    paths = []
    for cut, report in reports.items():
        path = tmp_path / f"shard-{cut.replace('/', 'of')}.json"
        path.write_text((texts or {}).get(cut) or json.dumps(report))
        paths.append(str(path))
    return driftcheck("merge", *paths, "--format", "json", *options, preexec_fn=preexec_fn)


def two(scanned: Reports) -> Reports:
    return {cut: copy.deepcopy(scanned[cut]) for cut in ("1/2", "2/2")}


def index_of(report: dict[str, Any], status: str) -> int:
    return next(i for i, h in enumerate(report["hosts"]) if h["status"] == status)


def refused(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 3, proc.stderr
    assert message in proc.stderr
    assert "internal error" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr


def test_the_untouched_shards_merge(tmp_path: Path, scanned: Reports) -> None:
    proc = merge(tmp_path, two(scanned))
    assert proc.returncode == 1, proc.stderr  # one snowflake in each shard
    assert sorted(h["name"] for h in json.loads(proc.stdout)["hosts"]) == NODES


def _one_gib() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_a_shard_count_of_a_billion_is_refused_before_it_sizes_anything(
    tmp_path: Path, scanned: Reports
) -> None:
    """Under a 1 GiB address-space limit: a set of 10^9 shard numbers (23 GB) fails in it."""
    reports = two(scanned)
    assert merge(tmp_path, reports, preexec_fn=_one_gib).returncode == 1  # the limit is enough
    for report in reports.values():
        report["run"]["shard"]["count"] = 10**9
    proc = merge(tmp_path, reports, "--allow-partial", preexec_fn=_one_gib)
    refused(proc, "shard-1of2.json: run.shard.count: 1000000000 is not 1..10000")


def _bogus_status(report: dict[str, Any]) -> str:
    i = index_of(report, "compliant")
    report["hosts"][i]["status"] = "bogus"
    return f"hosts[{i}].status: 'bogus' is not one of compliant, snowflake, unchecked,"


def _compliant_with_findings(report: dict[str, Any]) -> str:
    i = index_of(report, "snowflake")
    report["hosts"][i]["status"] = "compliant"
    return f"hosts[{i}].findings[0]: a compliant host has no finding that is not waived"


def _compliant_with_error(report: dict[str, Any]) -> str:
    i = index_of(report, "compliant")
    report["hosts"][i]["error"] = "connection refused"
    return f"hosts[{i}].error: a compliant host has no error, got 'connection refused'"


def _findings_not_a_list(report: dict[str, Any]) -> str:
    report["hosts"][0]["findings"] = "none"
    return "hosts[0].findings: expected an array, got a string ('none')"


def _duration_a_string(report: dict[str, Any]) -> str:
    report["run"]["duration"] = "4.2"
    return "run.duration: expected a number, got a string ('4.2')"


def _no_run(report: dict[str, Any]) -> str:
    del report["run"]
    return "run: missing"


def _no_hosts(report: dict[str, Any]) -> str:
    del report["hosts"]
    return "hosts: missing"


def _no_status(report: dict[str, Any]) -> str:
    del report["hosts"][1]["status"]
    return "hosts[1].status: missing"


def _a_negative_count(report: dict[str, Any]) -> str:
    report["summary"]["hosts"] = -4
    return "summary.hosts: -4 is out of range"


def _shard_number_past_count(report: dict[str, Any]) -> str:
    report["run"]["shard"]["number"] = 3
    return "run.shard.number: 3 is not 1..2 (the count)"


@pytest.mark.parametrize(
    "spoil",
    [
        _bogus_status,
        _compliant_with_findings,
        _compliant_with_error,
        _findings_not_a_list,
        _duration_a_string,
        _no_run,
        _no_hosts,
        _no_status,
        _a_negative_count,
        _shard_number_past_count,
    ],
)
def test_a_report_that_breaks_the_schema_is_refused_naming_file_and_field(
    tmp_path: Path, scanned: Reports, spoil: Callable[[dict[str, Any]], str]
) -> None:
    reports = two(scanned)
    field = spoil(reports["2/2"])
    for options in ((), ("--allow-partial",)):
        refused(merge(tmp_path, reports, *options), f"shard-2of2.json: {field}")


def test_a_report_nested_100000_deep_is_refused_not_a_recursion_error(
    tmp_path: Path, scanned: Reports
) -> None:
    reports = two(scanned)
    deep = json.dumps(reports["2/2"])[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    proc = merge(tmp_path, reports, texts={"2/2": deep})
    refused(proc, "shard-2of2.json: nested deeper than 64 levels")


def test_a_shard_report_holding_a_host_of_another_shard_is_refused(
    tmp_path: Path, scanned: Reports
) -> None:
    reports = two(scanned)
    stray = reports["1/2"]["hosts"].pop()  # moved: in one report only, in the wrong one
    reports["2/2"]["hosts"].append(stray)
    message = f"host {stray['name']} belongs to shard 1/2, not 2/2"
    refused(merge(tmp_path, reports), f"shard-2of2.json: {message}")
    alone = {"2/2": reports["2/2"]}  # its shard 1/2 missing, the merge partial: still refused
    refused(merge(tmp_path, alone, "--allow-partial"), f"shard-2of2.json: {message}")


def test_a_shard_report_lacking_one_of_its_own_hosts_is_refused(
    tmp_path: Path, scanned: Reports
) -> None:
    reports = two(scanned)
    gone = reports["2/2"]["hosts"].pop(0)
    reports["2/2"]["summary"]["hosts"] -= 1
    message = f"shard-2of2.json: shard 2/2 lacks 1 of its own hosts ({gone['name']})"
    refused(merge(tmp_path, reports), message)


def test_a_host_outside_the_selection_is_refused(tmp_path: Path, scanned: Reports) -> None:
    reports = two(scanned)
    host = copy.deepcopy(reports["2/2"]["hosts"][0])
    host["name"] = "intruder"
    reports["2/2"]["hosts"].append(host)
    refused(
        merge(tmp_path, reports),
        "shard-2of2.json: host intruder is not in the selection shard 2/2 was cut from",
    )


def test_a_host_in_two_shard_reports_is_refused(tmp_path: Path, scanned: Reports) -> None:
    reports = two(scanned)
    twin = reports["1/2"]["hosts"][0]
    reports["2/2"]["hosts"].append(copy.deepcopy(twin))
    refused(merge(tmp_path, reports), f"host {twin['name']} is in both")


def test_shards_of_different_counts_are_refused(tmp_path: Path, scanned: Reports) -> None:
    reports = {"1/2": scanned["1/2"], "1/3": scanned["1/3"]}
    refused(
        merge(tmp_path, reports, "--allow-partial"),
        "shard-1of3.json: shard 1/3, but",
    )
