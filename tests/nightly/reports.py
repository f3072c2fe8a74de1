"""Small builders for driftcheck.report/1 dicts, the input of everything under test here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from driftcheck.model.document import SCHEMA, summarize


def finding(
    item: str,
    category: str = "package",
    kind: str = "unexpected",
    target: str = "host",
    expected: str | None = "absent",
    actual: str | None = "1.0",
    detail: str | None = None,
) -> dict[str, Any]:
    return {
        "target": target,
        "category": category,
        "item": item,
        "kind": kind,
        "expected": expected,
        "actual": actual,
        "diff": None,
        "detail": detail,
    }


def host(
    name: str,
    findings: list[dict[str, Any]] | tuple[()] = (),
    status: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    if status is None:
        status = "snowflake" if findings else "compliant"
    if status == "unreachable" and error is None:
        error = f"{name}: connection refused"
    return {
        "name": name,
        "address": f"127.0.0.{len(name)}",
        "groups": ["web"],
        "status": status,
        "error": error,
        "duration": 0.25,
        "state_files": ["states/all.yml"],
        "facts": {} if status == "unreachable" else {"age_days": 12.5, "os": "Debian 12"},
        "findings": list(findings),
    }


def report(night: int, hosts: list[dict[str, Any]], duration: float = 4.25) -> dict[str, Any]:
    """The report of the `night`th nightly run (1, 2, 3 ...), at 03:00 UTC."""
    started = datetime.fromisoformat("2026-11-01T03:00:00+00:00") + timedelta(days=night)
    finished = started + timedelta(seconds=duration)
    return {
        "schema": SCHEMA,
        "run": {
            "id": started.strftime("%Y%m%dT%H%M%SZ") + f"-{night:04x}",
            "started": started.isoformat(),
            "finished": finished.isoformat(),
            "duration": duration,
            "inventory": "inventories/lab",
            "states": "inventories/lab/states",
            "limit": None,
            "version": "0.1.0",
        },
        "summary": summarize(hosts),
        "hosts": hosts,
        "package_spread": {},
    }


def findings_by_host(report_: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """host -> item -> finding, for terse assertions."""
    return {h["name"]: {f["item"]: f for f in h["findings"]} for h in report_["hosts"]}
