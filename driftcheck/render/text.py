"""The text report: a summary line, a table of hosts, then each host's findings.

Everything from a host goes through `clean()`: a hostile host must not be able to send terminal
escape sequences to the person reading the report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from tabulate import tabulate

from driftcheck.causes import causes_line, group_by_cause
from driftcheck.model.document import EvidenceEntry, FindingEntry, HostEntry, Report
from driftcheck.model.vocab import CATEGORIES, NOT_AUDITED, UNKNOWN_KINDS, WORDS
from driftcheck.render.newdrift import callout, fresh_groups
from driftcheck.render.rank import peer_splits, same_machines, split_text, strongest_first
from driftcheck.render.timeline import strip_legend, strip_of

# Every C0/C1 control (newline and tab too: a value is one line, one table cell), bidi overrides
# and isolates. A diff's lines keep their tabs (_IN_DIFF), as in the HTML report.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_IN_DIFF = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SAME_SHOWN = 21  # names of one machine listed in the text report, the rest counted
MARK = {status.value: said.mark for status, said in WORDS.items()}
START = (
    "nothing is declared for any host: start with `driftcheck scan --peers` or `driftcheck capture`"
)


def clean(value: object, control: re.Pattern[str] = _CONTROL) -> str:
    """Printable text on one line: control characters (ESC, CR, a newline, a tab, bidi
    overrides) shown escaped as `\\xNN`."""
    text = "" if value is None else str(value)
    return control.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def summary_line(report: Report) -> str:
    s = report["summary"]
    parts = [f"{s['hosts']} hosts: {s['compliant']} compliant, {s['snowflake']} snowflake"]
    if any(s.get(status) for status in NOT_AUDITED):
        shown = [st for st in NOT_AUDITED if st in ("unreachable", "error") or s.get(st)]
        counts = ", ".join(f"{s.get(st, 0)} {st}" for st in shown)
        causes = causes_line(group_by_cause(report["hosts"]))
        parts.append(f"{counts} (NOT AUDITED: {causes})")
    alone = [h for h in report["hosts"] if _peers_reason(h)]
    if alone:
        parts.append(f"{len(alone)} not compared with peers")
    splits = peer_splits(report)
    if splits:
        parts.append(f"{len(splits)} peer split{'s' if len(splits) != 1 else ''} (no majority)")
    parts.append(f"{s['findings']} findings")
    if s["hosts"] and s.get("unchecked") == s["hosts"]:
        parts.append(START)
    if s.get("waived"):
        parts.append(f"{s['waived']} waived")
    changes = report.get("changes")
    lead = f"{changes['line']}. " if changes and changes["line"] else ""
    return lead + "; ".join(parts) + f" ({report['run']['duration']:.1f}s)"


def render_text(report: Report) -> str:
    out = [summary_line(report)]
    fresh = callout(fresh_groups(report["hosts"])) if report.get("changes") else ""
    if fresh:  # a rollout gone wrong last night, said first
        out.append(clean(fresh[0].upper() + fresh[1:]))
    out += [*not_audited_lines(report["hosts"]), "", host_table(report["hosts"])]
    out += [*split_lines(report), *same_machine_lines(report["hosts"])]
    for host in report["hosts"]:
        if host["status"] != "compliant":
            out += ["", *host_details(host, strip_of(report, host["name"]))]
    return "\n".join(out) + "\n"


def not_audited_lines(hosts: list[HostEntry]) -> Iterator[str]:
    """Hosts not audited by cause, count first, every host named once."""
    groups = group_by_cause(hosts)
    if groups:
        yield ""
        yield f"NOT AUDITED, by cause ({sum(len(g.hosts) for g in groups)} hosts):"
    for group in groups:
        names = ", ".join(clean(h["name"]) for h in group.hosts)
        yield f"  {len(group.hosts)} {clean(group.label)}: {names}"


def split_lines(report: Report) -> Iterator[str]:
    """Items a peer group has no majority for: drift in the group, once per group and item."""
    splits = peer_splits(report)
    if splits:
        yield ""
        yield f"PEER SPLITS: no majority in the peer group ({len(splits)}):"
    for split in splits:
        what = f"{split['category']} {split['item']}"
        yield f"  {clean(split['group'])}: {clean(what)}: {short(split_text(split))}"


def same_machine_lines(hosts: list[HostEntry]) -> Iterator[str]:
    machines = same_machines(hosts)
    if machines:
        yield ""
        yield "One machine under several names (it voted once in its peer group):"
    for names in machines:
        more = f" (and {len(names) - SAME_SHOWN:,} more)" if len(names) > SAME_SHOWN else ""
        yield "  " + " = ".join(clean(name) for name in names[:SAME_SHOWN]) + more


def host_table(hosts: list[HostEntry]) -> str:
    rows = []
    for host in hosts:
        counts = Counter(f["category"] for f in host["findings"] if not f.get("waived"))
        other = sum(n for c, n in counts.items() if c not in CATEGORIES)
        rows.append(
            [clean(host["name"]), MARK[host["status"]], clean(host["address"])]
            + [counts.get(c, 0) or "" for c in CATEGORIES]
            + [other or ""]
        )
    headers = ["host", "status", "address", *CATEGORIES, "other"]
    return tabulate(rows, headers=headers, tablefmt="simple")


def host_details(host: HostEntry, strip: str | None = None) -> Iterator[str]:
    yield f"== {clean(host['name'])} ({clean(host['address'])}): {MARK[host['status']]}"
    if strip:
        yield f"   over the last {len(strip)} runs, oldest first: {strip} ({strip_legend(strip)})"
    if host["error"]:
        yield f"   {clean(host['error'])}"
    reason = _peers_reason(host)
    if reason:
        yield f"   peers: {clean(reason)}"
    note = host.get("peers")
    if note and note.get("same_as"):
        names = ", ".join(clean(name) for name in note.get("same_as", []))
        names += f" (and {note['same_as_more']:,} more)" if note.get("same_as_more") else ""
        yield f"   peers: the same machine as {names} (voted once)"
    findings = strongest_first(host["findings"])
    rows = [
        [
            _target(f),
            f["category"],
            clean(f["item"]),
            f["kind"]
            + (" (new)" if f.get("new") else "")
            + (" (waived)" if f.get("waived") else ""),
            short(f["expected"]),
            short(f["actual"]),
        ]
        for f in findings
    ]
    if rows:
        yield from findings_table(rows).splitlines()
    for f in findings:
        if f["detail"] and f["kind"] in (*UNKNOWN_KINDS, "expired"):
            yield f"   {clean(f['item'])}: {clean(f['detail'])}"
        if f["diff"]:
            yield f"   --- diff of {clean(f['item'])}"
            yield from (f"   {clean(line, _IN_DIFF)}" for line in f["diff"].splitlines())
    yield from evidence_lines(findings)


def evidence_lines(findings: list[FindingEntry]) -> Iterator[str]:
    """Each finding's evidence under its item, once for the findings of one item that the same
    records explain (a file both extra among its peers and new since the last run)."""
    kinds: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for f in findings:
        lines = tuple(evidence_line(e) for e in f.get("evidence", []))
        if lines:
            kinds.setdefault((f["target"], f["item"], lines), []).append(clean(f["kind"]))
    for (_target, item, lines), said in kinds.items():
        yield f"   {clean(item)} ({', '.join(said)}), by the host's own records:"
        yield from (f"     {line}" for line in lines)


WIDTH = 120  # a terminal's columns the findings table keeps within, wrapping long values
_HEADERS = ["target", "category", "item", "kind", "expected", "actual"]
_NARROWEST = 12  # a column is not wrapped narrower than this


def findings_table(rows: list[list[str]]) -> str:
    """One row a finding; when the table would pass WIDTH, the widest columns wrap their
    values, one column at a time, until it fits (the JSON report keeps every value whole)."""
    # tabulate gives a header two columns more than its text (MIN_PADDING)
    widths = [max(len(h) + 2, *(len(row[i]) for row in rows)) for i, h in enumerate(_HEADERS)]
    if _width(widths) <= WIDTH:
        return tabulate(rows, headers=_HEADERS, tablefmt="simple")
    while _width(widths) > WIDTH and max(widths) > _NARROWEST:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    return tabulate(rows, headers=_HEADERS, tablefmt="simple", maxcolwidths=list(widths))


def _width(widths: list[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)  # tabulate's "simple": two spaces between


def evidence_line(evidence: EvidenceEntry) -> str:
    """`apt history 2026-12-07T05:01:02Z: install acme-debug 1.0 (apt-get install acme-debug,
    requested by alice)`: one line, every value cleaned (a host wrote them all)."""
    when = f" {evidence['time']}" if evidence.get("time") else ""
    said = [f"{evidence['command']}"] if evidence.get("command") else []
    said += [f"requested by {evidence['user']}"] if evidence.get("user") else []
    extra = f" ({', '.join(said)})" if said and evidence["source"] != "wtmp" else ""
    return clean(f"{evidence['source']}{when}: {evidence['summary']}{extra}")


_DIGEST = re.compile(r"\b((?:md5|sha1|sha224|sha256|sha384|sha512):[0-9a-f]{12})[0-9a-f]{20,}\b")


def short(value: object) -> str:
    """Digests (md5:, sha256:, ...) cut to 12 hex digits for the table (the JSON report keeps
    them whole)."""
    return _DIGEST.sub(r"\1…", clean(value))


def _target(finding: FindingEntry) -> str:
    return "" if finding["target"] == "host" else clean(finding["target"])


def _peers_reason(host: HostEntry) -> str:
    """Why the host was compared with no peers; "" when it was, or without --peers."""
    note = host.get("peers")
    return note["reason"] if note else ""
