"""Report dicts for the HTML tests: a lab-like fleet and hostile variants.

The renderer's input is the JSON report, so building the dict here is legitimate input; the
shapes follow docs/report-schema.md, including the optional fields of the nightly feature.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from driftcheck.model.document import summarize
from driftcheck.nightly.lock import locked_report_dir
from driftcheck.nightly.publish import PublishOptions, publish

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(1)</script>",
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
    "{{ 7*7 }} ${alert(1)} \u202e\x1b[31m",
)

NGINX_DIFF = """--- declared /etc/nginx/nginx.conf
+++ observed /etc/nginx/nginx.conf
@@ -1,4 +1,4 @@
 user www-data;
-worker_processes auto;
+worker_processes 1;
 pid /run/nginx.pid;
-include /etc/nginx/modules-enabled/*.conf;
+include /etc/nginx/debug.conf;
"""


def facts(os: str = "Debian GNU/Linux 12 (bookworm)", age: float | None = 90.0) -> dict[str, Any]:
    return {
        "os": os,
        "os_id": "debian",
        "os_version": "12",
        "kernel": "6.1.0-28-amd64",
        "uptime_seconds": 5000.0,
        "provisioned": None if age is None else "2026-08-30T03:00:00+00:00",
        "provisioned_source": "machine-id birth",
        "age_days": age,
        "zombies": 0,
        "pid1": "/sbin/init",
    }


def finding(
    category: str, item: str, kind: str, expected: Any, actual: Any, **extra: Any
) -> dict[str, Any]:
    base = {
        "target": "host",
        "category": category,
        "item": item,
        "kind": kind,
        "expected": expected,
        "actual": actual,
        "diff": None,
        "detail": None,
    }
    return base | extra


AGENT = finding("package", "acme-agent", "version", "1.3.0", "1.2.0")
DEBUG = finding("package", "acme-debug", "unexpected", "absent", "0.9")


def host(
    name: str, groups: list[str], status: str, findings: list[dict[str, Any]], **kw: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "address": kw.get("address", "127.0.0.10"),
        "groups": groups,
        "status": status,
        "error": kw.get("error"),
        "duration": 0.31,
        "state_files": ["states/all.yml", f"states/{groups[0]}.yml"],
        "facts": kw.get("facts", facts()),
        "findings": findings,
    }


def lab_report() -> dict[str, Any]:
    """16 hosts: a bad rollout on 6 web hosts, 2 unique snowflakes, 2 compliant, 3 not audited."""
    hosts = [host(f"web{i:02d}", ["web"], "snowflake", [copy.deepcopy(AGENT)]) for i in range(1, 7)]
    hosts += [host(f"app{i}", ["app"], "snowflake", [dict(AGENT), dict(DEBUG)]) for i in (1, 2, 3)]
    nginx = finding(
        "file", "/etc/nginx/nginx.conf", "content", "sha256:3f9a…", "sha256:77c1…", diff=NGINX_DIFF
    )
    hosts.append(
        host(
            "web07",
            ["web"],
            "snowflake",
            [nginx, finding("service", "nginx", "stopped", "running", "stopped")],
        )
    )
    hosts.append(
        host(
            "db01",
            ["db"],
            "snowflake",
            [
                finding(
                    "host",
                    "age",
                    "age",
                    "<= 60 days",
                    "412 days",
                    detail="provisioned 412 days ago",
                ),
                finding(
                    "package",
                    "postgresql-15",
                    "version",
                    "15.8-0+deb12u1",
                    "15.6-0+deb12u1",
                    new=True,
                ),
                finding(
                    "package",
                    "telnet",
                    "unexpected",
                    "absent",
                    "0.17",
                    waived={
                        "reason": "vendor tool, ticket OPS-12",
                        "expires": "2026-12-31",
                        "by": "alice",
                    },
                ),
                finding(
                    "container",
                    "redis",
                    "image",
                    "redis:7.2",
                    "redis:7.0",
                    target="container:cache",
                ),
            ],
            facts=facts(age=412.0),
        )
    )
    hosts += [host(f"db0{i}", ["db"], "compliant", []) for i in (2, 3)]
    hosts.append(
        host(
            "edge01",
            ["edge"],
            "unreachable",
            [],
            error="ssh: connect to 127.0.0.99:22: connection refused",
            facts={},
        )
    )
    hosts.append(
        host("edge02", ["edge"], "unreachable", [], error="ssh: timed out after 10s", facts={})
    )
    hosts.append(
        host(
            "cache01",
            ["cache"],
            "error",
            [],
            error="collector packages failed: dpkg-query exited 2",
            facts={},
        )
    )
    spread = {
        "web": {
            "acme-agent": {**{f"web{i:02d}": "1.2.0" for i in range(1, 7)}, "web07": "1.3.0"},
            "nginx": {**{f"web{i:02d}": "1.22.1-9" for i in range(1, 7)}, "web07": None},
        },
        "db": {
            "postgresql-15": {
                "db01": "15.6-0+deb12u1",
                "db02": "15.8-0+deb12u1",
                "db03": "15.8-0+deb12u1",
            }
        },
    }
    return {
        "schema": "driftcheck.report/1",
        "run": {
            "id": "20261128T030000Z-3f9a",
            "started": "2026-11-28T03:00:00+00:00",
            "finished": "2026-11-28T03:00:04+00:00",
            "duration": 4.2,
            "inventory": "inventories/lab",
            "states": "inventories/lab/states",
            "limit": None,
            "version": "0.1.0",
        },
        "summary": {"hosts": len(hosts)},
        "hosts": hosts,
        "package_spread": spread,
        "changes": {
            "previous_run": "20261127T030000Z-1b2c",
            "new": [
                {
                    "host": "db01",
                    **finding(
                        "package", "postgresql-15", "version", "15.8-0+deb12u1", "15.6-0+deb12u1"
                    ),
                }
            ],
            "resolved": [
                {"host": "web07", **finding("package", "acme-agent", "version", "1.3.0", "1.2.0")}
            ],
            "newly_unreachable": ["edge02"],
        },
    }


def hostile_report(payload: str) -> dict[str, Any]:
    """The lab report with `payload` in every place a host (or its admin) controls."""
    report = lab_report()
    evil = f"evil{payload}"
    diff = f"--- a/{payload}\n+++ b/{payload}\n@@ -1 +1 @@\n-{payload}\n+{payload}\n"
    report["hosts"].append(
        host(
            evil,
            [f"grp{payload}"],
            "snowflake",
            [
                finding(
                    "file",
                    f"/etc/{payload}",
                    "content",
                    payload,
                    payload,
                    diff=diff,
                    detail=payload,
                ),
                finding(
                    payload,
                    payload,
                    payload,
                    payload,
                    payload,
                    new=True,
                    waived={"reason": payload, "by": payload},
                ),
            ],
            facts={"os": payload, payload: payload, "age_days": 3.0},
            address=payload,
        )
    )
    fields = ("source", "time", "summary", "user", "command")
    report["hosts"][-1]["findings"][0]["evidence"] = [dict.fromkeys(fields, payload)]
    report["hosts"].append(host(f"err{payload}", ["edge"], "error", [], error=payload, facts={}))
    report["package_spread"][f"grp{payload}"] = {payload: {evil: payload, "web01": None}}
    report["run"]["inventory"] = payload
    report["run"]["id"] = payload
    report["changes"]["new"].append(
        {"host": evil, **finding("file", payload, "content", payload, payload)}
    )
    report["changes"]["newly_unreachable"].append(payload)
    return report


def nightly_lab(report_dir: Path, nights: int, keep: int | None = None) -> list[dict[str, Any]]:
    """`nights` runs of the lab fleet published into `report_dir` (real history.sqlite and run
    folders): the web rollout lands on the last night."""
    published = []
    for night in range(nights):
        report = lab_report()
        del report["changes"]
        day = dt.datetime(2026, 10, 1, 3, tzinfo=dt.UTC) + dt.timedelta(days=night)
        report["run"].update(
            id=day.strftime("%Y%m%dT%H%M%SZ") + f"-{night:04x}",
            started=day.isoformat(timespec="seconds"),
            finished=(day + dt.timedelta(seconds=4)).isoformat(timespec="seconds"),
        )
        if night < nights - 1:  # before the rollout the web hosts were compliant
            for host_entry in report["hosts"]:
                if host_entry["name"].startswith("web0") and host_entry["name"] != "web07":
                    host_entry.update(status="compliant", findings=[])
        report["summary"] = summarize(report["hosts"])
        with locked_report_dir(report_dir) as root:
            options = PublishOptions(report_dir=report_dir, keep=keep)
            published.append(publish(report, options, root))
    return published
