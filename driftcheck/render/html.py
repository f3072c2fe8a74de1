"""The HTML report: one self-contained page rendered from the report document.

Everything in the report may come from a hostile host, so the page is built defensively:
Jinja2 autoescapes every value, data for the script is embedded only through `|tojson` in a
`<script type="application/json">` block, the script builds the DOM with `textContent` only, and a
Content-Security-Policy allows exactly the inline script and style of this page (by hash).

What must be visible at once (summary, hosts not audited, drift clusters, changes) is rendered
here; the fleet table, host sections and package matrices are rendered by the script from the
embedded data, a page at a time, so that 5,000 hosts stay interactive.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import overload

import jinja2
from markupsafe import Markup

from driftcheck.causes import group_by_cause
from driftcheck.model.document import (
    Changes,
    FindingEntry,
    HostEntry,
    PackageSpread,
    PeersEntry,
    Report,
)
from driftcheck.model.vocab import (
    CATEGORIES,
    FINDING_FIELDS,
    HOST_COLUMNS,
    NOT_AUDITED,
    SIGNATURE_FIELDS,
    WORDS,
    WORST_FIRST,
)
from driftcheck.render.newdrift import became_snowflake, drift_label
from driftcheck.render.rank import peer_splits, same_machines, strongest_first
from driftcheck.render.timeline import CODE_STATUS, runs_of, strip_of
from driftcheck.render.trend import LABELS, trend_chart

TEMPLATES = Path(__file__).parent / "templates"
# Worst first: the fleet table's default order and its status filter.
STATUSES = WORST_FIRST
MARKS = {status.value: said.symbol for status, said in WORDS.items()}
CLUSTERS_SHOWN = 50
HOSTS_SHOWN = 40
LIST_CAP = 100
_ID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")

# C0/C1 controls except tab and newline (diffs need them), bidi overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_DIGITS = re.compile(r"(\d+)")
_PLAIN = frozenset({str, int, float, bool})
# A host's drift: its unwaived findings' SIGNATURE_FIELDS values (read by name: `object`).
Row = tuple[object, ...]
Signature = tuple[Row, ...]


def render_html(report: Report) -> str:
    """The report as one HTML page (no external resource, strict CSP)."""
    hosts = report["hosts"]
    groups = drift_groups(hosts)
    clusters, unique = drift_clusters(groups)
    runs = runs_of(report)
    # .get(): the page renders any report it is given that has hosts, even one built without
    # its run or package spread (test_minimal_and_empty_reports); load_report checks saved ones.
    spread: PackageSpread = report.get("package_spread") or {}
    context = {
        "run": report.get("run") or {},
        "trend": trend_chart(runs),
        "labels": LABELS,
        "cards": summary_cards(hosts),
        "not_audited": not_audited(hosts),
        "not_audited_statuses": NOT_AUDITED,
        "statuses": STATUSES,
        "categories": CATEGORIES,
        "start_hint": bool(hosts) and all(h["status"] == "unchecked" for h in hosts),
        "causes": group_by_cause(hosts),
        "list_cap": LIST_CAP,
        "clusters": clusters[:CLUSTERS_SHOWN],
        "clusters_hidden": max(0, len(clusters) - CLUSTERS_SHOWN),
        "unique": unique,
        "widespread": widespread(groups),
        "changes": changes_view(report.get("changes")),
        "new_clusters": new_clusters(report),
        "peer_splits": peer_splits(report),
        "same_machines": same_machines(hosts),
        "spread_groups": spread_overview(spread),
        "data": page_data(hosts, clusters, spread, report),
        "hosts_shown": HOSTS_SHOWN,
        "csp": content_security_policy(),
        # Our own package assets, never data (asset() refuses a closing tag inside them).
        "script": Markup(asset("report.js")),  # noqa: S704
        "style": Markup(asset("report.css")),  # noqa: S704
    }
    return environment().get_template("report.html.j2").render(context)


@overload
def visible(value: str) -> str: ...
@overload
def visible(value: object) -> object: ...
def visible(value: object) -> object:
    """`value` with control and bidi-override characters shown as `\\xNN`: escaping stops
    markup, this stops a host name that reads right-to-left or hides characters. Applied to
    every expression of the templates (finalize) and to every value of the embedded data."""
    if isinstance(value, Markup):  # our own assets and tojson output
        return value
    if isinstance(value, str):
        return _CONTROL.sub(_escape_char, value) if _CONTROL.search(value) else value
    if isinstance(value, Mapping):
        return {visible(k): visible(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [visible(v) for v in value]
    return value


def _escape_char(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


# --- the page's frame ----------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Compact JSON keeps 5,000 hosts small; tojson still escapes < > & ' for the script block.
    env.policies["json.dumps_kwargs"] = {"separators": (",", ":"), "sort_keys": False}
    env.filters["host_id"] = host_id
    env.filters["status_mark"] = status_mark
    env.filters["finding_text"] = finding_text
    env.filters["drift_label"] = drift_label
    return env


@cache
def asset(name: str) -> str:
    text = (TEMPLATES / name).read_text("utf-8")
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in text.lower():
        raise ValueError(f"asset {name} must not contain {closing}")
    return text


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy() -> str:
    """Nothing but this page's own inline script and style may run or load."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {csp_hash(asset('report.js'))}",
            f"style-src {csp_hash(asset('report.css'))}",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def host_id(name: object) -> str:
    """An element id for a host: `host-` + the name, any unsafe character as `_hex_`.

    Injective (`_` itself is escaped), so two hosts never share an anchor, and plain names
    (web02, db-1.lab) keep the readable `#host-web02` form.
    """
    text = str(name)
    return "host-" + "".join(c if c in _ID_SAFE else f"_{ord(c):x}_" for c in text)


def status_mark(status: object) -> str:
    return MARKS.get(str(status), "?")


# --- what is rendered server-side: summary, not audited, clusters, changes ----------------


def summary_cards(hosts: Sequence[HostEntry]) -> dict[str, int]:
    """Counted from the hosts themselves: a host that was not audited is never compliant."""
    counts = Counter(h["status"] for h in hosts)
    findings = [f for h in hosts for f in h["findings"]]
    waived = sum(1 for f in findings if f.get("waived"))
    cards = {"hosts": len(hosts), **{s: counts.get(s, 0) for s in STATUSES}}
    cards["audited"] = cards["compliant"] + cards["snowflake"]
    cards["findings"] = len(findings) - waived
    cards["waived"] = waived
    cards["new"] = sum(1 for f in findings if f.get("new"))
    return cards


def not_audited(hosts: Iterable[HostEntry]) -> list[HostEntry]:
    failed = [h for h in hosts if h["status"] in NOT_AUDITED]
    return sorted(failed, key=lambda h: (h["status"], h["name"]))


def signature(host: HostEntry) -> Signature:
    """A host's drift: the set of (target, category, item, kind, expected, actual), unwaived."""
    rows = {_key(f, SIGNATURE_FIELDS) for f in host["findings"] if not f.get("waived")}
    return tuple(sorted(rows, key=lambda row: tuple(map(str, row))))


@dataclass(frozen=True)
class Cluster:
    number: int
    hosts: tuple[str, ...]
    drift: Signature


def drift_groups(hosts: Iterable[HostEntry]) -> dict[Signature, list[str]]:
    """Snowflakes by drift signature: every distinct drift and the hosts that have it."""
    groups: dict[Signature, list[str]] = defaultdict(list)
    for host in hosts:
        if host["status"] == "snowflake":
            drift = signature(host)
            if drift:
                groups[drift].append(host["name"])
    return groups


def drift_clusters(groups: Mapping[Signature, list[str]]) -> tuple[list[Cluster], list[str]]:
    """Clusters of 2+ hosts with identical drift (largest first), and the hosts whose drift is
    unique."""
    shared = sorted(
        ((sorted(names, key=natural), drift) for drift, names in groups.items() if len(names) > 1),
        key=lambda pair: (-len(pair[0]), natural(pair[0][0])),
    )
    clusters = [
        Cluster(n, tuple(names), tuple(sorted(drift, key=lambda row: [natural(v) for v in row])))
        for n, (names, drift) in enumerate(shared, 1)
    ]
    unique = sorted((names[0] for names in groups.values() if len(names) == 1), key=natural)
    return clusters, unique


def widespread(groups: Mapping[Signature, list[str]], top: int = 10) -> list[tuple[Row, int]]:
    """The single drift items found on the most hosts (a rollout shows up here first)."""
    counts: Counter[Row] = Counter()
    for drift, names in groups.items():
        for row in drift:
            counts[row] += len(names)
    return [(row, n) for row, n in counts.most_common(top) if n > 1]


def finding_text(row: Row | FindingEntry) -> str:
    """One drift item as a fragment: `package acme-agent: version (1.2.0 instead of 1.3.0)`;
    a drift row of a cluster, or a finding of `changes`."""
    values = [row.get(k) for k in SIGNATURE_FIELDS] if isinstance(row, Mapping) else row
    target, category, item, kind, expected, actual = values[:6]
    where = "" if target in ("host", None) else f"[{target}] "
    what = f"{where}{category} {item}: {kind}"
    if expected is not None or actual is not None:
        what += f" ({_show(actual)} instead of {_show(expected)})"
    return what


def _show(value: object) -> str:
    return "nothing" if value is None else str(value)


def changes_view(changes: Changes | None) -> dict[str, object] | None:
    """The optional `changes` block of a nightly run, with its lists capped for the page."""
    if changes is None:
        return None
    view: dict[str, object] = {
        "previous_run": changes.get("previous_run"),
        "line": changes.get("line"),
    }
    # .get(): the page's own fixture (tests/report_html) writes a partial block
    lists: dict[str, Sequence[FindingEntry | str]] = {
        "new": changes.get("new") or [],
        "resolved": changes.get("resolved") or [],
        "newly_unreachable": changes.get("newly_unreachable") or [],
        "newly_error": changes.get("newly_error") or [],
    }
    for key, items in lists.items():
        view[key] = list(items[:LIST_CAP])
        view[key + "_count"] = len(items)
    return view


def new_clusters(report: Report) -> list[Cluster]:
    """Clusters of hosts that became snowflakes this run with the same drift (needs history)."""
    if report.get("changes") is None:
        return []
    fresh = [h for h in report["hosts"] if became_snowflake(h)]
    return drift_clusters(drift_groups(fresh))[0][:CLUSTERS_SHOWN]


def spread_overview(spread: PackageSpread) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for group in sorted(spread):
        packages = spread[group]
        names = {h for versions in packages.values() for h in versions}
        rows.append({"group": group, "packages": len(packages), "hosts": len(names)})
    return rows


def natural(value: object) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts web2 before web10 and lib-9 before lib-10."""
    parts = _DIGITS.split(str(value))
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in parts if p)


def _key(finding: FindingEntry, fields: Sequence[str]) -> Row:
    """The finding's values for `fields` as a hashable tuple (fast when they are all plain)."""
    key = tuple(map(finding.get, fields))
    try:
        hash(key)
    except TypeError:
        return tuple(_scalar(value) for value in key)
    return key


def _scalar(value: object) -> object:
    """A value usable in a set: mappings and lists become sorted tuples."""
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _scalar(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_scalar(v) for v in value)
    return value


# --- the data the script renders from ------------------------------------------------------


class Interner:
    """A table of distinct JSON values; the page refers to them by index (0 is null)."""

    def __init__(self) -> None:
        self.values: list[object] = [None]
        self._index: dict[tuple[type, object], int] = {(type(None), None): 0}

    def __call__(self, value: object) -> int:
        key = (type(value), _scalar(value))
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.values)
            self.values.append(visible(value))
        return index


class FindingTable:
    """Distinct findings as rows of value indexes; hosts refer to them by row number, so a
    rollout's drift is stored once however many hosts share it."""

    def __init__(self, values: Interner) -> None:
        self.values = values
        self.rows: list[list[int]] = []
        self._index: dict[Row, int] = {}

    def __call__(self, finding: FindingEntry) -> int:
        key = _key(finding, FINDING_FIELDS)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.rows)
            refs = [self.values(finding.get(field)) for field in FINDING_FIELDS]
            while refs and refs[-1] == 0:
                refs.pop()
            self.rows.append(refs)
        return index


def page_data(
    hosts: Sequence[HostEntry],
    clusters: Sequence[Cluster],
    spread: PackageSpread,
    report: Report | None = None,
) -> dict[str, object]:
    """The embedded data: values interned once, findings deduplicated across hosts; with
    history, the runs of the trend (id, started) and each host's status letters over them."""
    values = Interner()
    findings = FindingTable(values)
    cluster_of = {name: c.number for c in clusters for name in c.hosts}
    packed = [pack_host(h, values, findings, cluster_of) for h in hosts]
    runs = [] if report is None else runs_of(report)
    if report is not None and runs:  # the last of HOST_COLUMNS, after pack_host's fields
        for row, host in zip(packed, hosts, strict=True):
            row.append(strip_of(report, host["name"]))
    return {
        "runs": [[visible(str(r.get("id"))), visible(str(r.get("started")))] for r in runs],
        "fields": FINDING_FIELDS,
        "host_columns": HOST_COLUMNS,
        "categories": CATEGORIES,
        "statuses": STATUSES,
        "marks": MARKS,
        "codes": CODE_STATUS,
        "not_audited": NOT_AUDITED,
        "hosts": packed,
        "findings": findings.rows,
        "clusters": [[c.number, len(c.hosts)] for c in clusters],
        "spread": pack_spread(spread, values),
        "values": values.values,
    }


def pack_host(
    host: HostEntry,
    values: Interner,
    findings: FindingTable,
    cluster_of: Mapping[str, int],
) -> list[object]:
    """The host's row, in HOST_COLUMNS order (the strip, when there is history, comes last)."""
    name = host["name"]
    # .get() for what a host not audited may lack in a hand-written report (the page's own
    # tests list such hosts by name, status, cause, error and findings only)
    cells: dict[str, object] = {
        "name": visible(name),
        "id": host_id(name),
        "address": values(host.get("address")),
        "status": host["status"],
        "groups": [values(g) for g in host.get("groups") or []],
        "error": visible(host["error"]),
        "duration": host.get("duration"),
        "state_files": [values(s) for s in host.get("state_files") or []],
        "facts": {visible(k): values(v) for k, v in (host.get("facts") or {}).items()},
        "findings": [findings(f) for f in strongest_first(host["findings"])],
        "cluster": cluster_of.get(name, 0),
        "peers": visible(peers_text(host.get("peers"))),
    }
    return [cells[column] for column in HOST_COLUMNS if column in cells]


def peers_text(note: PeersEntry | None) -> str:
    """Whom the host was compared with (`--peers`), or why with nobody; "" without peers."""
    if note is None:
        return ""
    same = note.get("same_as")
    more = f" (and {note['same_as_more']:,} more)" if note.get("same_as_more") else ""
    also = f"; the same machine as {', '.join(same)}{more} (voted once)" if same else ""
    if note["group"] is None:
        return (note["reason"] or "compared with nothing") + also
    return f"{note['group']} ({note['voters']} audited hosts){also}"


def pack_spread(spread: PackageSpread, values: Interner) -> list[dict[str, object]]:
    """Per group (sorted by name, as on the page): packages, hosts, a hosts x packages matrix."""
    packed: list[dict[str, object]] = []
    for group in sorted(spread):
        packages = spread[group]
        names = sorted(packages)
        hosts = sorted({h for versions in packages.values() for h in versions})
        cells = [[values(packages[p].get(h)) for p in names] for h in hosts]
        ids = [host_id(h) for h in hosts]
        majority = [majority_of([row[col] for row in cells]) for col in range(len(names))]
        packed.append(
            {
                "packages": visible(names),
                "hosts": visible(hosts),
                "ids": ids,
                "cells": cells,
                "majority": [m[0] for m in majority],
                "held": [m[1] for m in majority],
            }
        )
    return packed


def majority_of(refs: Sequence[int]) -> tuple[int, int]:
    """(value, hosts holding it) when more than half of the hosts hold one value (0, not
    installed, counts as a value: the peers rule), else (-1, 0): no consensus."""
    if not refs:
        return -1, 0
    value, count = Counter(refs).most_common(1)[0]
    return (value, count) if 2 * count > len(refs) else (-1, 0)
