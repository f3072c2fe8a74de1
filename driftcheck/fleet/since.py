"""What changed on a host since its own last audited run: its peer values (packages, units,
package config files, config-tree entries, authorized keys, OS and kernel) now, against the
same values as the history kept them. Peers cannot see a change every host made the same way;
this can.

A host's values are cut into BUCKETS buckets by item, and each bucket is known by the BLAKE2b
digest of its sorted pairs. The history keeps a bucket's pairs once for every host and run that
has the same bucket (hosts built from one image share most of them; a host that did not change
adds nothing), and a comparison opens only the buckets whose digest moved.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from driftcheck.compare import limited, too_many_findings
from driftcheck.fleet.values import (
    ABSENT,
    SHOWN_AS,
    Item,
    PeerValues,
    per_host_by_nature,
    split_item,
)
from driftcheck.limits import MAX_FINDINGS
from driftcheck.model import Finding, HostResult
from driftcheck.model.shared import Overlay
from driftcheck.model.vocab import Kind, Status, audited_status

BUCKETS = 64
_TRANSIENT = frozenset({"activating", "deactivating", "reloading", "refreshing"})

Pairs = Mapping[Item, str]


@dataclass(frozen=True)
class Surface:
    """A host's values as a run saw them: the categories that were collected (a category that
    failed is not compared, either way) and each bucket's digest."""

    categories: frozenset[str]
    digests: tuple[bytes, ...]


@dataclass(frozen=True)
class Stored:
    """A host's surface as the history kept it: `pairs(i)` opens bucket i."""

    surface: Surface
    run: str  # the run it was recorded in
    pairs: Callable[[int], Pairs]


@dataclass(frozen=True)
class Snapshot:
    """What a run hands the history for one host: its surface, the values it was cut from and,
    when known, that cut (one Pairs per bucket)."""

    surface: Surface
    values: Pairs
    cut: Sequence[Pairs] = ()


@dataclass(frozen=True)
class SinceOutcome:
    results: list[HostResult]
    snapshots: dict[str, Snapshot]


def changed_since(
    results: Sequence[HostResult],
    peers: Sequence[PeerValues | None],
    previous: Mapping[str, Stored] | None,
) -> SinceOutcome:
    """With a history (`previous`, possibly empty): every host whose peer values were collected
    gets its surface taken, and a finding for each value that moved since its stored one."""
    if previous is None:
        return SinceOutcome(list(results), {})
    out, snapshots = [], {}
    for result, values in zip(results, peers, strict=True):
        if values is None or not _whole(result):
            out.append(result)  # its stored surface stays its baseline
            continue
        now, cut = surface(values)
        # an Overlay's cut is almost all its base's, kept once; a whole host's would be a second
        # copy of its values kept until the history is written (store cuts it again, if asked)
        kept = cut if isinstance(values.values, Overlay) else ()
        snapshots[result.host.name] = Snapshot(now, values.values, kept)
        before = previous.get(result.host.name)
        found = since_findings(before, now, cut, values) if before is not None else []
        out.append(_with(result, found))
    return SinceOutcome(out, snapshots)


def _whole(result: HostResult) -> bool:
    """Audited, and not cut at a limit: its values are all it has."""
    if result.status is Status.UNREACHABLE:
        return False
    return not any(f.kind in (Kind.LIMIT, Kind.TRUNCATED) for f in result.findings)


def _with(result: HostResult, found: Sequence[Finding]) -> HostResult:
    if not found:
        return result
    if len(result.findings) + len(found) > MAX_FINDINGS:  # one limit for every finding
        count = len(result.findings) + len(found)
        return limited(
            result, too_many_findings(count, f", {len(found):,} of them since its last run")
        )
    findings = tuple(sorted((*result.findings, *found)))
    status = result.status if result.status is Status.ERROR else audited_status(True)
    return replace(result, findings=findings, status=status)


_bucket_memo: dict[Item, int] = {}


def bucket(item: Item) -> int:
    """Which bucket an item goes to (stable across processes and machines)."""
    found = _bucket_memo.get(item)
    if found is None:
        found = zlib.crc32(item.encode("utf-8", "surrogateescape")) % BUCKETS
        if len(_bucket_memo) < 1_000_000:  # items repeat across hosts; the memo stays bounded
            _bucket_memo[item] = found
    return found


def buckets(values: Pairs) -> list[dict[Item, str]]:
    cut: list[dict[Item, str]] = [{} for _ in range(BUCKETS)]
    for key, value in values.items():
        cut[bucket(key)][key] = value
    return cut


def digest(pairs: Pairs) -> bytes:
    """The digest of a bucket's pairs: item and value NUL-separated, one pair per line, sorted.
    Neither holds NUL within (an item's category is cut from its name by the only NUL) nor a
    newline (names with one are never listed), so no two buckets can share an encoding."""
    hasher = hashlib.blake2b(digest_size=16)
    for key in sorted(pairs):
        hasher.update(f"{key}\0{pairs[key]}\n".encode("utf-8", "surrogateescape"))
    return hasher.digest()


def surface(values: PeerValues) -> tuple[Surface, Sequence[Pairs]]:
    """A host's surface and its buckets (what the history stores for a bucket it lacks). Hosts
    of one image share their values' base (model/shared.Overlay): its buckets are cut and
    digested once, and a host's own only where its own entries fall."""
    categories = frozenset(_categories(values))
    mapping = values.values
    if not isinstance(mapping, Overlay):
        cut = buckets(mapping)
        return Surface(categories, tuple(digest(b) for b in cut)), cut
    base_cut, base_digests = _base_buckets(mapping.base)
    own, gone = mapping.own, mapping.gone
    touched: dict[int, dict[Item, str]] = {}
    for key in gone:
        touched.setdefault(bucket(key), {})
    for key, value in own.items():
        touched.setdefault(bucket(key), {})[key] = value
    cut = list(base_cut)
    for index, its_own in touched.items():
        part = {k: v for k, v in base_cut[index].items() if k not in gone and k not in its_own}
        part.update(its_own)
        cut[index] = part
    digests = tuple(digest(cut[i]) if i in touched else d for i, d in enumerate(base_digests))
    return Surface(categories, digests), cut


def _cut_base(base: Pairs) -> tuple[Pairs, list[dict[Item, str]], tuple[bytes, ...]]:
    cut = buckets(base)
    return base, cut, tuple(digest(b) for b in cut)


_BASES: dict[int, tuple[Pairs, list[dict[Item, str]], tuple[bytes, ...]]] = {}


def _base_buckets(base: Pairs) -> tuple[list[dict[Item, str]], tuple[bytes, ...]]:
    """The base's buckets and digests, made once (by identity: the entry holds the base, so
    its id is not reused while it is kept)."""
    found = _BASES.get(id(base))
    if found is None or found[0] is not base:
        if len(_BASES) >= 16:
            _BASES.clear()
        found = _BASES[id(base)] = _cut_base(base)
    return found[1], found[2]


def _categories(values: PeerValues) -> Iterator[str]:
    for category in ("package", "service", "file", "host", "tree", "key"):
        if values.takes_part(category):
            yield category


def since_findings(
    before: Stored, now: Surface, cut: Sequence[Pairs], values: PeerValues
) -> list[Finding]:
    """A finding for each value that moved since `before`, in the categories both runs
    collected, but the items the declared state names or judges (declared state wins)."""
    common = before.surface.categories & now.categories
    found = []
    for index, (old_digest, new_digest) in enumerate(
        zip(before.surface.digests, now.digests, strict=True)
    ):
        if old_digest == new_digest:
            continue
        old, new = before.pairs(index), cut[index]
        for key in sorted(set(old) | set(new)):
            category, name = split_item(key)
            if category not in common or _left_to_declared(key, category, values):
                continue
            was, is_ = old.get(key, ABSENT), new.get(key, ABSENT)
            if was != is_ and not _noise(category, name, was, is_):
                found.append(since_finding(category, name, was, is_, before.run))
    return found


def _left_to_declared(key: Item, category: str, values: PeerValues) -> bool:
    shown = SHOWN_AS.get(category, category)
    return key in values.declared or category in values.judged or shown in values.judged


def _noise(category: str, name: str, was: str, is_: str) -> bool:
    """Per-host instances come and go (sshd@ per connection); a unit caught starting or
    stopping is in no state to compare."""
    if per_host_by_nature(category, name):
        return True
    if category == "service":
        return any(v.rpartition(", ")[2] in _TRANSIENT for v in (was, is_))
    return False


def since_finding(category: str, name: str, was: str, is_: str, run: str) -> Finding:
    return Finding(
        "host",
        SHOWN_AS.get(category, category),
        name,
        Kind.SINCE_LAST_RUN,
        was,
        is_,
        detail=f"changed on this host since its last audited run ({run})",
    )
