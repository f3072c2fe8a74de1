"""Audit hosts in parallel: one connection, one exec, one round trip per host.

Hosts fail independently: whatever happens to one host becomes that host's result.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from driftcheck.backends import TransportOptions, open_backend
from driftcheck.causes import cause_of_exception
from driftcheck.collectors.script import build_script, parse_output
from driftcheck.compare import compare, is_unknown
from driftcheck.errors import TransportError, UnreachableError
from driftcheck.models import DeclaredState, Finding, Host, HostResult, Observed, Status
from driftcheck.report import iso
from driftcheck.shell import bounded_sh


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


def audit_host(host: Host, state: DeclaredState, options: ScanOptions) -> Audit:
    started = time.monotonic()
    try:
        observed = collect(host, state, options, started + options.transport.timeout)
    except UnreachableError as exc:
        return _failed(host, state, Status.UNREACHABLE, exc, started)
    except TransportError as exc:
        return _failed(host, state, Status.ERROR, exc, started)
    except Exception as exc:
        return _failed(host, state, Status.ERROR, exc, started, error=f"internal error: {exc!r}")
    findings = tuple(compare(state, observed, now=time.time()))
    status, error = classify(observed, findings)
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
    return Audit(result, _package_versions(observed))


def collect(host: Host, state: DeclaredState, options: ScanOptions, deadline: float) -> Observed:
    backend = open_backend(host, options.transport, deadline)
    try:
        nonce = secrets.token_hex(8)
        limit = deadline - time.monotonic()
        script = build_script(state, nonce, content_cap=options.content_cap, time_limit=limit)
        # the script arrives on stdin: no argv length limit
        result = backend.run(bounded_sh(limit), script.encode(), deadline)
    finally:
        backend.close()
    return parse_output(result, state, nonce)


def classify(observed: Observed, findings: Sequence[Finding]) -> tuple[Status, str | None]:
    """Only a fully audited host can be compliant; a check that could not be made is an error."""
    if not observed.facts.ok:
        return Status.ERROR, f"collection failed: {observed.facts.reason}"
    unknown = [f for f in findings if is_unknown(f)]
    if unknown:
        return Status.ERROR, f"{len(unknown)} declared check(s) could not be made: see findings"
    return (Status.SNOWFLAKE if findings else Status.COMPLIANT), None


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


def _failed(
    host: Host,
    state: DeclaredState,
    status: Status,
    exc: BaseException,
    started: float,
    *,
    error: str | None = None,
) -> Audit:
    """A host that was not audited; its cause is taken from the exception's class."""
    result = HostResult(
        host,
        status,
        error=str(exc) if error is None else error,
        cause=cause_of_exception(exc),
        duration=time.monotonic() - started,
        state_files=state.sources,
    )
    return Audit(result)


def _package_versions(observed: Observed) -> Mapping[str, str] | None:
    if not observed.packages.ok:
        return None
    return {
        name: ", ".join(sorted({p.version for p in pkgs}))
        for name, pkgs in observed.packages.value.items()
    }


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


def package_spread(audits: Iterable[Audit]) -> dict[str, dict[str, dict[str, str | None]]]:
    """Per group: the packages whose installed versions differ between its audited hosts."""
    by_group: dict[str, list[tuple[str, Mapping[str, str]]]] = {}
    for audit in audits:
        if audit.packages is None:
            continue
        for group in audit.result.host.groups or ("ungrouped",):
            by_group.setdefault(group, []).append((audit.result.host.name, audit.packages))
    spread: dict[str, dict[str, dict[str, str | None]]] = {}
    for group, members in sorted(by_group.items()):
        if len(members) < 2:
            continue
        names = sorted(set().union(*(pkgs for _, pkgs in members)))
        differing = {
            name: {host: pkgs.get(name) for host, pkgs in members}
            for name in names
            if len({pkgs.get(name) for _, pkgs in members}) > 1
        }
        if differing:
            spread[group] = differing
    return spread
