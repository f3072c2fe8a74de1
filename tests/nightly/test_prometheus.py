"""The Prometheus textfile parses with prometheus_client's own parser and carries the values."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families

from driftcheck.render.prometheus import render_prometheus

from .reports import finding, host, report


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    families = list(text_string_to_metric_families(text))
    assert all(f.type == "gauge" and f.documentation for f in families)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_parses_and_counts() -> None:
    fleet = report(
        1,
        [
            host("web01"),
            host("web02", [finding("a"), finding("b"), finding("/etc/x", "file", "mode")]),
            host("db01", status="unreachable"),
        ],
        duration=12.5,
    )
    fleet["hosts"][1]["findings"][0]["waived"] = {"reason": "r", "expires": "2030-01-01"}
    fleet["changes"] = {"previous_run": "x", "new": [{"host": "web02"}], "resolved": []}
    got = samples(render_prometheus(fleet))
    finished = datetime.fromisoformat(fleet["run"]["finished"]).timestamp()
    assert got[("driftcheck_last_run_timestamp_seconds", ())] == finished
    assert got[("driftcheck_run_duration_seconds", ())] == 12.5
    assert got[("driftcheck_hosts", (("status", "snowflake"),))] == 1
    assert got[("driftcheck_hosts", (("status", "unreachable"),))] == 1
    assert got[("driftcheck_host_status", (("host", "db01"), ("status", "unreachable")))] == 1
    assert got[("driftcheck_host_status", (("host", "db01"), ("status", "compliant")))] == 0
    assert got[("driftcheck_findings", (("category", "package"), ("host", "web02")))] == 1
    assert got[("driftcheck_findings", (("category", "file"), ("host", "web02")))] == 1
    assert got[("driftcheck_findings", (("category", "service"), ("host", "web01")))] == 0
    assert got[("driftcheck_waived_findings", (("category", "package"), ("host", "web02")))] == 1
    assert got[("driftcheck_new_findings", ())] == 1
    assert got[("driftcheck_host_age_seconds", (("host", "web01"),))] == 12.5 * 86400
    # Nothing was checked on an unreachable host: no finding counts, not zeros.
    assert not [k for k in got if k[0] == "driftcheck_findings" and ("host", "db01") in k[1]]


def test_label_values_are_escaped() -> None:
    name = 'we"b\\01\nx'
    text = render_prometheus(report(1, [host(name, [finding("a", category='c"at')])]))
    assert 'host="we\\"b\\\\01\\nx"' in text
    got = samples(text)
    assert got[("driftcheck_findings", (("category", 'c"at'), ("host", name)))] == 1
