"""A Prometheus textfile for node_exporter's textfile collector.

Write it with driftcheck.atomic.write_atomic (node_exporter must never read half a file) into the
collector's directory, e.g. /var/lib/prometheus/node-exporter/driftcheck.prom.

Every host gets one `driftcheck_host_status` series per status of models.Status (1 for its
status, 0 for the others), so an alert on `driftcheck_host_status{status="snowflake"} == 1`
never depends on a series appearing.
`driftcheck_findings{host,category}` counts findings not waived, with 0 for the usual categories;
it is left out for unreachable and unchecked hosts: nothing was checked there, and a 0 would
read as clean. With peers, `driftcheck_peer_splits{group}` counts the items each peer group has
no majority for, 0 included for every group a host was compared in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime

from driftcheck.model.document import HostEntry, Report
from driftcheck.model.vocab import CATEGORIES, STATUSES, words

Sample = tuple[Mapping[str, str], float]


def render_prometheus(report: Report) -> str:
    lines: list[str] = []
    for name, help_text, samples in metrics(report):
        lines += [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} gauge"]
        lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]
    return "\n".join(lines) + "\n"


def metrics(report: Report) -> Iterator[tuple[str, str, list[Sample]]]:
    run, summary, hosts = report["run"], report["summary"], report["hosts"]
    yield (
        "driftcheck_last_run_timestamp_seconds",
        "When the last driftcheck scan finished (Unix time).",
        _finished(run["finished"]),
    )
    yield (
        "driftcheck_run_duration_seconds",
        "How long the last driftcheck scan took.",
        [({}, float(run["duration"]))],
    )
    yield (
        "driftcheck_hosts",
        "Hosts by status in the last scan.",
        [({"status": s}, summary.get(s, 0)) for s in STATUSES],
    )
    yield (
        "driftcheck_host_status",
        "1 for the host's status in the last scan, 0 for the other statuses.",
        [({"host": h["name"], "status": s}, h["status"] == s) for h in hosts for s in STATUSES],
    )
    yield (
        "driftcheck_findings",
        "Findings not waived, per host and category (absent for unreachable hosts).",
        [sample for h in hosts for sample in _findings(h, waived=False)],
    )
    yield (
        "driftcheck_waived_findings",
        "Findings accepted by a waiver, per host and category.",
        [sample for h in hosts for sample in _findings(h, waived=True)],
    )
    yield from _host_metrics(hosts)
    yield from _split_metrics(report)
    yield from _change_metrics(report)


def _host_metrics(hosts: list[HostEntry]) -> Iterator[tuple[str, str, list[Sample]]]:
    yield (
        "driftcheck_host_audit_duration_seconds",
        "How long auditing the host took.",
        [({"host": h["name"]}, float(h["duration"] or 0)) for h in hosts],
    )
    ages = [(h["name"], h["facts"].get("age_days")) for h in hosts]
    yield (
        "driftcheck_host_age_seconds",
        "Time since the host was provisioned, where known.",
        [({"host": name}, float(age) * 86400) for name, age in ages if age is not None],
    )


def _split_metrics(report: Report) -> Iterator[tuple[str, str, list[Sample]]]:
    splits = report.get("peer_splits")
    if splits is None:  # not a run with peers
        return
    counts = Counter(split["group"] for split in splits)
    for host in report["hosts"]:
        note = host.get("peers")
        if note and note["group"]:
            counts.setdefault(note["group"], 0)
    yield (
        "driftcheck_peer_splits",
        "Items a peer group has no majority for (drift in the group), per group.",
        [({"group": group}, counts[group]) for group in sorted(counts)],
    )


def _change_metrics(report: Report) -> Iterator[tuple[str, str, list[Sample]]]:
    changes = report.get("changes")
    if changes and changes["previous_run"]:
        new = [f for f in changes["new"] if not f.get("waived")]
        yield ("driftcheck_new_findings", "Findings new since the previous run.", [({}, len(new))])
        yield (
            "driftcheck_resolved_findings",
            "Findings resolved since the previous run.",
            [({}, len(changes["resolved"]))],
        )
    waivers = report.get("waivers")
    if waivers is not None:
        yield (
            "driftcheck_expired_waivers",
            "Waivers past their expiry date (no longer applied).",
            [({}, len(waivers["expired"]))],
        )


def _findings(host: HostEntry, *, waived: bool) -> list[Sample]:
    said = words(host["status"])
    if said is not None and not said.checked:  # nothing checked: a 0 would read as clean
        return []
    counts = Counter(f["category"] for f in host["findings"] if bool(f.get("waived")) == waived)
    categories = sorted(set(CATEGORIES) | set(counts)) if not waived else sorted(counts)
    return [({"host": host["name"], "category": c}, counts.get(c, 0)) for c in categories]


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in labels.items()) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    """Integers as integers (bools as 0/1); floats round-trip exactly (1795834800.25, not 1.8e9)."""
    return str(int(value)) if isinstance(value, int) else repr(float(value))


def _finished(iso: str | None) -> list[Sample]:
    """No sample for a run without a finish time (a merge of runs that recorded none): an
    absent series, not a made-up time."""
    return [] if iso is None else [({}, datetime.fromisoformat(iso).timestamp())]
