"""Audit hosts in parallel: one connection, one exec, one round trip per host.

Hosts fail independently: whatever happens to one host becomes that host's result.
"""

from __future__ import annotations

import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from driftcheck.backends import Backend, TransportOptions, open_backend
from driftcheck.causes import cause_of_exception
from driftcheck.collectors.script import build_script, parse_output
from driftcheck.compare import compare, is_unknown, limit_error, limit_finding, too_many_findings
from driftcheck.compare.evidence import HostEvidence, gather, keep_for
from driftcheck.compare.files import bound_diffs
from driftcheck.errors import (
    DeadlineError,
    DriftcheckError,
    InventoryError,
    LimitError,
    TransportError,
    UnreachableError,
)
from driftcheck.fleet import PeerValues, peer_values
from driftcheck.fleet.values import text_size
from driftcheck.limits import MAX_FINDINGS, MAX_FLEET_TEXT, size_text
from driftcheck.model import DeclaredState, Finding, Host, HostResult, Observed, Package
from driftcheck.model.document import iso
from driftcheck.model.vocab import Kind, Status, audited_status
from driftcheck.shell import bounded_sh
from driftcheck.templating import as_written


@dataclass(frozen=True)
class ScanOptions:
    transport: TransportOptions = field(default_factory=TransportOptions)
    forks: int = 32
    content_cap: int = 1 << 20  # bytes of a declared file's content kept for the diff


@dataclass(frozen=True)
class Audit:
    """One host's result and, when it was audited, what was observed (for package spread)."""

    result: HostResult
    packages: Mapping[str, str] | None = None
    peer: PeerValues | None = None  # for the fleet stage, when the state asks for peers
    evidence: HostEvidence | None = None  # the host's records, attached after the fleet stage


def audit_host(host: Host, state: DeclaredState, options: ScanOptions) -> Audit:
    started = time.monotonic()
    deadline = started + options.transport.timeout
    try:
        observed = collect(host, state, options, deadline)
        within_cap(observed, options.transport.output_cap)
        in_time(deadline, "parsing the collector's output")
        findings = tuple(bound_diffs(compare(state, observed, now=time.time())))
        in_time(deadline, "comparing")
        status, error = classify(observed, within_limits(findings))
        if status is Status.COMPLIANT and not state.checks_something():
            status, error = Status.UNCHECKED, UNCHECKED_REASON
        packages = _package_versions(observed)
        peer = peer_values(host.name, state, observed) if state.peers else None
        within_fleet_limit(packages, peer)
    except LimitError as exc:
        return _limited(host, state, exc, started)
    except UnreachableError as exc:
        return _failed(host, state, Status.UNREACHABLE, exc, started)
    except TransportError as exc:
        return _failed(host, state, Status.ERROR, exc, started)
    except InventoryError as exc:  # a connection variable that cannot be rendered
        return not_audited(host, exc, state)
    except Exception as exc:
        return _failed(host, state, Status.ERROR, exc, started, error=f"internal error: {exc!r}")
    result = HostResult(
        host,
        status,
        findings,
        error=error,
        cause="collection failed" if status is Status.ERROR else None,
        facts=facts_entry(observed),
        duration=time.monotonic() - started,
        state_files=state.sources,
    )
    evidence = gather(observed) if findings or state.peers else None  # nothing to explain
    if evidence is not None and not state.peers:  # its findings are final: keep what explains them
        evidence = keep_for(evidence, findings)
    return Audit(result, packages, peer, evidence)


def in_time(deadline: float, stage: str, clock: Callable[[], float] = time.monotonic) -> None:
    """The per-host deadline covers parsing and comparison too. Both are bounded by the limits
    (driftcheck.limits), so a stage that starts in time ends soon after; one that would start
    late does not start, and a stage that ended late makes the host `error`, not audited."""
    if clock() > deadline:
        raise DeadlineError(f"the per-host deadline passed while {stage}")


def within_cap(observed: Observed, cap: int) -> None:
    """Output cut at the cap was not collected whole: like any limit, one finding, not a list
    of every declared check as unknown."""
    if observed.truncated:
        why = f"the host's output passed the per-host cap ({size_text(cap)}); the rest is unknown"
        raise LimitError(why, kind=Kind.TRUNCATED)


def within_limits(findings: Sequence[Finding]) -> Sequence[Finding]:
    if len(findings) > MAX_FINDINGS:
        raise LimitError(too_many_findings(len(findings)))
    return findings


def within_fleet_limit(packages: Mapping[str, str] | None, peer: PeerValues | None) -> None:
    """What a host keeps until the fleet stage (its package versions for the spread, its peer
    values) is kept for every host at once: past MAX_FLEET_TEXT, none of it is kept."""
    size = text_size(packages or {}) + (peer.size if peer is not None else 0)
    if size > MAX_FLEET_TEXT:
        limit = size_text(MAX_FLEET_TEXT)
        raise LimitError(
            f"more than {limit} of package versions and peer values ({size_text(size)}); none kept"
        )


def collect(host: Host, state: DeclaredState, options: ScanOptions, deadline: float) -> Observed:
    backend = open_backend(host, options.transport, deadline)
    try:
        return run_collector(backend, state, deadline, options.content_cap)
    finally:
        backend.close()


def run_collector(
    backend: Backend, state: DeclaredState, deadline: float, content_cap: int = 1 << 20
) -> Observed:
    """One collection over an open connection: the script for `state`, run on the target under
    the deadline, parsed. A fresh nonce each time, so nothing the host prints forges a marker."""
    nonce = secrets.token_hex(8)
    limit = deadline - time.monotonic()
    script = build_script(state, nonce, content_cap=content_cap, time_limit=limit)
    # the script arrives on stdin: no argv length limit
    result = backend.run(bounded_sh(limit), script.encode(), deadline)
    return parse_output(result, state, nonce)


UNCHECKED_REASON = "nothing was checked: no declared state applies, and peers were not asked for"


def classify(observed: Observed, findings: Sequence[Finding]) -> tuple[Status, str | None]:
    """Only a fully audited host can be compliant; a check that could not be made is an error."""
    if not observed.facts.ok:
        return Status.ERROR, f"collection failed: {observed.facts.reason}"
    unknown = [f for f in findings if is_unknown(f)]
    if unknown:
        return Status.ERROR, f"{len(unknown)} declared check(s) could not be made: see findings"
    return audited_status(bool(findings)), None


def facts_entry(observed: Observed) -> dict[str, Any]:
    if not observed.facts.ok:
        return {}
    f = observed.facts.value
    age = None
    if f.provisioned is not None and f.now is not None:
        age = round((f.now - f.provisioned) / 86400, 2)
    return {
        "os": f.os,
        "os_id": f.os_id,
        "os_version": f.os_version,
        "kernel": f.kernel,
        "uptime_seconds": f.uptime_seconds,
        "provisioned": iso(f.provisioned),
        "provisioned_source": f.provisioned_source,
        "age_days": age,
        "zombies": f.zombies,
        "pid1": f.pid1,
    }


def not_audited(host: Host, exc: DriftcheckError, state: DeclaredState | None = None) -> Audit:
    """A host whose variables cannot be rendered (a connection variable, or one its declared
    state needs): in error, never connected to, shown as its files say."""
    return _failed(as_written(host), state or DeclaredState(), Status.ERROR, exc, time.monotonic())


def _failed(
    host: Host,
    state: DeclaredState,
    status: Status,
    exc: BaseException,
    started: float,
    *,
    error: str | None = None,
    findings: tuple[Finding, ...] = (),
) -> Audit:
    """A host that was not audited; its cause is taken from the exception's class."""
    result = HostResult(
        host,
        status,
        findings,
        error=str(exc) if error is None else error,
        cause=cause_of_exception(exc),
        duration=time.monotonic() - started,
        state_files=state.sources,
    )
    return Audit(result)


def _limited(host: Host, state: DeclaredState, exc: LimitError, started: float) -> Audit:
    """One finding that says what was cut, never a partial list: the host was not audited."""
    finding = limit_finding(str(exc), exc.kind)
    error = limit_error(str(exc))
    return _failed(host, state, Status.ERROR, exc, started, error=error, findings=(finding,))


# id of a host's package map -> (the map, its versions): hosts whose collectors printed the same
# packages share one parsed map (collectors.packages.installed), and so one versions map too.
_VERSIONS: dict[int, tuple[object, Mapping[str, str]]] = {}
_VERSIONS_MAX = 64
_VERSIONS_SHARED = 10_000  # packages of a map kept there: a larger one is no image's, kept apart


def _package_versions(observed: Observed) -> Mapping[str, str] | None:
    if not observed.packages.ok:
        return None
    packages = observed.packages.value
    known = _VERSIONS.get(id(packages))
    if known is not None and known[0] is packages:
        return known[1]
    # Kept for every host until the fleet stage: a fleet repeats the same names and versions on
    # every host, so each is kept once (interned): ~100 KB less per host of 770 packages.
    versions = MappingProxyType(
        {sys.intern(name): sys.intern(_versions(pkgs)) for name, pkgs in packages.items()}
    )
    if len(packages) > _VERSIONS_SHARED:
        return versions
    if len(_VERSIONS) >= _VERSIONS_MAX:
        _VERSIONS.clear()
    _VERSIONS[id(packages)] = (packages, versions)  # the map is kept, so its id stays its own
    return versions


def _versions(pkgs: Sequence[Package]) -> str:
    return pkgs[0].version if len(pkgs) == 1 else ", ".join(sorted({p.version for p in pkgs}))


T = TypeVar("T")
R = TypeVar("R")


def run_parallel(
    items: Sequence[T], work: Callable[[T], R], forks: int, on_done: Callable[[R], None]
) -> list[R]:
    """Run work over items on `forks` daemon threads; results in input order.

    Daemon threads and a polling wait keep Ctrl-C responsive: an interrupt does not wait for
    hosts still inside their deadline.
    """
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[int, R | BaseException]] = queue.SimpleQueue()
    for index in range(len(items)):
        todo.put(index)

    def worker() -> None:
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((index, work(items[index])))
            except BaseException as exc:
                done.put((index, exc))

    for _ in range(max(1, min(forks, len(items)))):
        threading.Thread(target=worker, daemon=True).start()
    results: dict[int, R] = {}
    while len(results) < len(items):
        try:
            index, value = done.get(timeout=0.2)
        except queue.Empty:
            continue
        if isinstance(value, BaseException):
            raise value
        results[index] = value
        on_done(value)
    return [results[i] for i in range(len(items))]
