"""The report document, schema driftcheck.report/1 (docs/report-schema.md), typed.

It is JSON-shaped on purpose: the JSON report is the contract every other format is rendered
from, and `driftcheck report` and `merge` read saved ones back. So the document is TypedDicts,
not classes: the same dict is written as JSON and checked by mypy --strict wherever it is read.
Keys that appear only in some runs (history, waivers, peers, merges) are NotRequired.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from driftcheck.errors import ExitStatus, InputError, UsageError
from driftcheck.model.results import Evidence, Fact, Finding, HostResult, PeerNote
from driftcheck.model.shape import check_shape, parse_json, short
from driftcheck.model.vocab import NOT_AUDITED, STATUSES, Status
from driftcheck.version import __version__

SCHEMA = "driftcheck.report/1"


class WaivedEntry(TypedDict):
    reason: str
    expires: str
    by: str | None
    origin: str


class EvidenceEntry(TypedDict):
    source: str
    time: str | None
    summary: str
    user: str | None
    command: str | None


class PeerSplitValue(TypedDict):
    value: str
    hosts: list[str]


class PeerSplit(TypedDict):
    """A group with no majority for an item: drift in the group, reported once."""

    group: str
    category: str
    item: str
    values: list[PeerSplitValue]  # most hosts first


class FindingEntry(TypedDict):
    target: str  # "host" or "container:NAME"
    category: str  # model.vocab.Category
    item: str
    kind: str  # model.vocab.Kind, or another check's own kind (version, mode, ...)
    expected: str | None
    actual: str | None
    diff: NotRequired[str | None]  # not kept in history.sqlite: absent in findings read back
    detail: str | None
    # with a report directory (history) and waivers:
    new: NotRequired[bool]
    first_seen: NotRequired[str | None]
    last_seen: NotRequired[str | None]
    runs: NotRequired[int | None]  # None: read back from a history row older than the count
    waived: NotRequired[WaivedEntry | None]
    evidence: NotRequired[list[EvidenceEntry]]  # only when the host's records explain it
    carried: NotRequired[bool]  # in `changes` only: a finding of a host not audited this run
    host: NotRequired[str]  # in `changes` only: whose finding it is


class PeersEntry(TypedDict):
    group: str | None
    voters: int
    reason: str
    same_as: NotRequired[list[str]]  # the other inventory names of this machine: it voted once
    same_as_more: NotRequired[int]  # names of it past the listed ones (limits.MAX_SAME_AS)


class HostEntry(TypedDict):
    name: str
    address: str | None  # None in a run rebuilt from history (its folder pruned)
    groups: list[str]
    status: str  # model.vocab.Status
    error: str | None
    cause: NotRequired[str | None]  # absent in older reports
    duration: float | None
    state_files: list[str]
    facts: dict[str, Fact]
    findings: list[FindingEntry]
    peers: NotRequired[PeersEntry]


# --shard K/N: N at most this, so a report's count is bounded before `merge` sizes anything by it
MAX_SHARDS = 10_000


class ShardEntry(TypedDict):
    number: int
    count: int
    selection: list[str]
    groups: NotRequired[list[list[str]]]


class MergedPart(TypedDict):
    source: str
    id: str
    limit: str | None
    shard: str | None
    hosts: int


class MergedEntry(TypedDict):
    reports: list[MergedPart]
    missing_shards: list[str]
    not_audited: int


class RunEntry(TypedDict):
    id: str
    started: str | None
    finished: str | None
    duration: float
    inventory: str
    states: str | None
    limit: str | None
    version: str
    rebuilt: NotRequired[str]  # a run rebuilt from history: what it lacks
    inventory_digest: NotRequired[str | None]
    states_digest: NotRequired[str | None]
    shard: NotRequired[ShardEntry | None]
    merged: NotRequired[MergedEntry]


# One count per status (model.vocab.STATUSES), the hosts, and the findings (waived apart).
Summary = dict[str, int]

# package -> host -> installed version (None: not installed), per peer group
PackageSpread = dict[str, dict[str, dict[str, str | None]]]


class PackageGroup(TypedDict):
    members: list[str]
    uniform: dict[str, str]


# One run of the trend: id, started, hosts, one count per status (model.vocab.STATUSES),
# findings, kept. Keyed by the vocabulary's statuses, so a dict rather than a TypedDict.
HistoryRun = dict[str, str | int | bool | None]


class HistoryBlock(TypedDict):
    runs: list[HistoryRun]
    statuses: dict[str, str]  # host -> one status letter per run (model.vocab.LETTERS)


class Changes(TypedDict):
    previous_run: str | None
    new: list[FindingEntry]
    resolved: list[FindingEntry]
    carried: list[FindingEntry]
    newly_unreachable: list[str]
    newly_error: list[str]
    newly_unchecked: list[str]
    line: str


class RunDiff(Changes):
    """`driftcheck diff A B`: the changes from run A to run B, and B's id."""

    run: str


# One recorded run as `driftcheck history` lists it: its counts, and with --host its status.
HistoryRow = dict[str, str | int | float | None]


class ExpiredWaiver(TypedDict):
    reason: str
    expires: str
    by: str | None
    origin: str
    hosts: list[str]


class WaiversBlock(TypedDict):
    active: int
    applied: int
    expired: list[ExpiredWaiver]


class Report(TypedDict):
    schema: str
    run: RunEntry
    summary: Summary
    hosts: list[HostEntry]
    package_spread: PackageSpread
    package_groups: NotRequired[dict[str, PackageGroup]]  # --shard and --limit runs: for merge
    history: NotRequired[HistoryBlock]
    changes: NotRequired[Changes]
    waivers: NotRequired[WaiversBlock]
    peer_splits: NotRequired[list[PeerSplit]]  # --peers: items a group has no majority for


Renderer = Callable[[Report], str]


# --- building it from a scan ---------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    id: str
    started: float  # epoch seconds
    finished: float
    inventory: str
    states: str
    limit: str | None
    inventory_digest: str | None = None  # see driftcheck.fleet.shard: what `merge` compares
    states_digest: str | None = None
    shard: ShardEntry | None = None  # --shard: number, count, selection


def new_run_id(started: float) -> str:
    """`20261130T033000Z-1234`: the start second, then its milliseconds and one random hex
    digit. Run folders are pruned and listed in name order, so two runs started in the same
    second must still sort by time (a random suffix alone let `--keep` keep the older one)."""
    moment = datetime.fromtimestamp(started, UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{moment.microsecond // 1000:03d}{secrets.token_hex(1)[0]}"


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def build_report(
    run: RunInfo,
    results: Sequence[HostResult],
    package_spread: PackageSpread,
    package_groups: Mapping[str, PackageGroup] | None = None,
    peer_splits: Sequence[PeerSplit] | None = None,
) -> Report:
    hosts = [host_entry(r) for r in results]
    report: Report = {
        "schema": SCHEMA,
        "run": {
            "id": run.id,
            "started": iso(run.started),
            "finished": iso(run.finished),
            "duration": round(run.finished - run.started, 3),
            "inventory": run.inventory,
            "states": run.states,
            "limit": run.limit,
            "version": __version__,
            "inventory_digest": run.inventory_digest,
            "states_digest": run.states_digest,
            "shard": run.shard,
        },
        "summary": summarize(hosts),
        "hosts": hosts,
        "package_spread": package_spread,
    }
    if package_groups is not None:  # a partial run (--shard, --limit): for `merge`
        report["package_groups"] = dict(package_groups)
    if peer_splits is not None:  # a run with peers
        report["peer_splits"] = list(peer_splits)
    return report


def host_entry(result: HostResult) -> HostEntry:
    entry: HostEntry = {
        "name": result.host.name,
        "address": result.host.address,
        "groups": list(result.host.groups),
        "status": result.status.value,
        "error": result.error,
        "cause": result.cause,
        "duration": round(result.duration, 3),
        "state_files": list(result.state_files),
        "facts": dict(result.facts),
        "findings": [finding_entry(f) for f in result.findings],
    }
    if result.peers is not None:  # only with --peers (or `peers: true`)
        entry["peers"] = peers_entry(result.peers)
    return entry


def peers_entry(note: PeerNote) -> PeersEntry:
    entry: PeersEntry = {"group": note.group, "voters": note.voters, "reason": note.reason}
    if note.same_as:
        entry["same_as"] = list(note.same_as)
    if note.same_as_more:
        entry["same_as_more"] = note.same_as_more
    return entry


def finding_entry(finding: Finding) -> FindingEntry:
    entry: FindingEntry = {
        "target": finding.target,
        "category": finding.category,
        "item": finding.item,
        "kind": finding.kind,
        "expected": finding.expected,
        "actual": finding.actual,
        "diff": finding.diff,
        "detail": finding.detail,
    }
    if finding.evidence:
        entry["evidence"] = [evidence_entry(e) for e in finding.evidence]
    return entry


def evidence_entry(evidence: Evidence) -> EvidenceEntry:
    return {
        "source": evidence.source,
        "time": evidence.time,
        "summary": evidence.summary,
        "user": evidence.user,
        "command": evidence.command,
    }


def summarize(hosts: Iterable[HostEntry]) -> Summary:
    summary = {"hosts": 0, **dict.fromkeys(STATUSES, 0), "findings": 0, "waived": 0}
    for host in hosts:
        summary["hosts"] += 1
        summary[host["status"]] += 1
        for finding in host["findings"]:
            summary["waived" if finding.get("waived") else "findings"] += 1
    return summary


def exit_status(report: Report) -> ExitStatus:
    """0 all compliant; 1 all audited, some snowflake; 2 any host unreachable, in error or
    unchecked (nothing applied to it)."""
    summary = report["summary"]
    if any(summary.get(status) for status in NOT_AUDITED):
        return ExitStatus.INCOMPLETE
    if summary["snowflake"] or report.get("peer_splits"):
        return ExitStatus.SNOWFLAKES
    return ExitStatus.COMPLIANT


# --- as JSON ---------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def read_report(path: Path) -> Report:
    """A saved JSON report; a file that cannot be read is a usage error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from exc
    return load_report(text, str(path))


def load_report(text: str, source: str) -> Report:
    """Read a saved JSON report back, checked against the schema (the TypedDicts above, with
    model.shape) and against itself: anything else is an input error naming the field."""
    data = parse_json(text, source)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(source, None, f"not a driftcheck report (schema must be {SCHEMA!r})")
    check_shape(data, Report, source)
    report = cast(Report, data)
    for where, problem in contradictions(report):
        raise InputError(source, None, f"{where}: {problem}")
    return report


def contradictions(report: Report) -> Iterator[tuple[str, str]]:
    """What no report of a scan or merge says, a field at a time: an unknown status, a host
    named twice, a compliant host with an error or a finding not waived, an impossible shard."""
    names: dict[str, int] = {}
    for index, host in enumerate(report["hosts"]):
        where = f"hosts[{index}]"
        if host["status"] not in STATUSES:
            yield f"{where}.status", f"{short(host['status'])} is not one of {', '.join(STATUSES)}"
        if names.setdefault(host["name"], index) != index:
            yield f"{where}.name", f"{short(host['name'])} is hosts[{names[host['name']]}] already"
        if host["status"] == Status.COMPLIANT:
            yield from _compliant(host, where)
    shard = report["run"].get("shard")
    if shard:
        yield from _shard_problems(shard)


def _compliant(host: HostEntry, where: str) -> Iterator[tuple[str, str]]:
    if host["error"]:
        yield f"{where}.error", f"a compliant host has no error, got {short(host['error'])}"
    if host.get("cause"):
        yield f"{where}.cause", f"a compliant host has no cause, got {short(host.get('cause'))}"
    for index, finding in enumerate(host["findings"]):
        if not finding.get("waived"):
            yield f"{where}.findings[{index}]", "a compliant host has no finding that is not waived"


def _shard_problems(shard: ShardEntry) -> Iterator[tuple[str, str]]:
    number, count = shard["number"], shard["count"]
    if not 1 <= count <= MAX_SHARDS:
        yield "run.shard.count", f"{count} is not 1..{MAX_SHARDS}"
    elif not 1 <= number <= count:
        yield "run.shard.number", f"{number} is not 1..{count} (the count)"
    if len(shard.get("groups", shard["selection"])) != len(shard["selection"]):
        yield "run.shard.groups", "not one entry per host of the selection"
