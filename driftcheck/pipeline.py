"""The scan as a library call: the selected hosts and their declared states in, the report
document out. Every host is audited on its own (scan.audit_host, `forks` at once), then the
fleet stage compares each host with its peers and computes the package spread, and the report
records what `merge` needs to check and combine it. The CLI, the bench and any caller use this;
publishing the report (history, waivers, files) is driftcheck.nightly.publish.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftcheck.compare.evidence import with_evidence
from driftcheck.fleet.peers import PeerInput, compare_peers
from driftcheck.fleet.shard import inventory_digest, states_digest
from driftcheck.fleet.since import Stored, changed_since
from driftcheck.fleet.spread import package_groups, package_spread
from driftcheck.model.document import Report, RunInfo, ShardEntry, build_report, new_run_id
from driftcheck.scan import Audit, ScanOptions, audit_host, not_audited, run_parallel

if TYPE_CHECKING:
    from driftcheck.errors import DriftcheckError
    from driftcheck.fleet.since import Snapshot
    from driftcheck.inventory import Inventory
    from driftcheck.model import DeclaredState, Host


@dataclass(frozen=True)
class RunOptions:
    """What a run is, besides its hosts and states."""

    inventory: Inventory  # its groups' depths pick peer groups; its digest goes to the report
    states_dir: Path
    source: str  # the inventory as the user named it, recorded in the report
    scan: ScanOptions = field(default_factory=ScanOptions)
    limit: str | None = None
    peer_groups: tuple[str, ...] = ()  # --peer-group: compare within these groups instead
    shard: ShardEntry | None = None  # --shard: which one, and the selection it was cut from
    on_done: Callable[[Audit], None] | None = None  # called as each host ends (progress)
    # hosts whose declared state needs a variable that cannot be rendered: in error, unaudited
    unusable: Mapping[str, DriftcheckError] = field(default_factory=dict)
    # each host's surface as its last run left it (history): what changed on it since is found
    previous: Mapping[str, Stored] | None = None

    @property
    def partial(self) -> bool:
        """A --shard or --limit run: the report keeps package_groups, for `merge`."""
        return bool(self.shard or self.limit)


@dataclass(frozen=True)
class Scanned:
    """A run's report, and each compared host's surface for the history to keep."""

    report: Report
    snapshots: Mapping[str, Snapshot]


@contextmanager
def fewer_collections(young: int = 20_000) -> Iterator[None]:
    """The cyclic garbage collector runs after every 700 new objects by default, and each full
    collection walks every object kept so far: parsing thousands of hosts made ~4,000 young and
    ~35 full collections per 2,000 hosts, about 8% of the client's CPU, growing with the fleet.
    The audits make few reference cycles (their records are frozen dataclasses and tuples), so
    the scan runs with a higher threshold; the default comes back after it."""
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_scan(
    hosts: Sequence[Host], states: Mapping[str, DeclaredState], options: RunOptions
) -> Report:
    """Audit `hosts` against `states` (by host name) and build the report document."""
    return scan_fleet(hosts, states, options).report


def scan_fleet(
    hosts: Sequence[Host], states: Mapping[str, DeclaredState], options: RunOptions
) -> Scanned:
    """run_scan, with the surfaces a report directory's history keeps."""
    digest = states_digest(options.states_dir)  # of the files just rendered, not edited mid-scan
    started = time.time()

    def audit(host: Host) -> Audit:
        if host.name in options.unusable:
            return not_audited(host, options.unusable[host.name])
        return audit_host(host, states[host.name], options.scan)

    with fewer_collections():
        audits = run_parallel(
            list(hosts),
            audit,
            options.scan.forks,
            options.on_done or (lambda _audit: None),
        )
    run = RunInfo(
        id=new_run_id(started),
        started=started,
        finished=time.time(),
        inventory=options.source,
        states=str(options.states_dir),
        limit=options.limit,
        inventory_digest=inventory_digest(options.inventory.hosts.values()),
        states_digest=digest,
        shard=options.shard,
    )
    groups = package_groups(audits) if options.partial else None
    # The fleet stage: after every host's own comparison, each host against its peers.
    depths = {name: group.depth for name, group in options.inventory.groups.items()}
    peers = [PeerInput(a.result, a.peer) for a in audits]
    compared = compare_peers(peers, depths, list(options.peer_groups))
    splits = compared.splits if any(a.peer is not None for a in audits) else None
    since = changed_since(compared.results, [a.peer for a in audits], options.previous)
    # Evidence last: every finding exists now, peers' included (results are in audit order).
    results = [with_evidence(r, a.evidence) for r, a in zip(since.results, audits, strict=True)]
    report = build_report(run, results, package_spread(audits), groups, splits)
    return Scanned(report, since.snapshots)
