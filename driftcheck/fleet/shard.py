"""`--shard K/N`: a stable partition of the selected hosts, and the digests that let `merge`
check that shard or region reports describe the same fleet.

A host's shard is sha256(name) mod N, plus one. It depends on the host's name and N only: adding
or removing other hosts never moves a host, and every runner computes the same partition from
the same inventory without talking to the others. Only a change of N reshuffles. (Python's own
`hash()` is salted per process, so it would not do.) Shards are roughly even for any fleet of
more than a few dozen hosts, never exactly: a small fleet may leave a shard empty, which is fine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftcheck.errors import UsageError
from driftcheck.model import Host, Vars, Vaulted
from driftcheck.model.document import MAX_SHARDS, ShardEntry

_SHARD = re.compile(r"(\d{1,9})/(\d{1,9})")  # K and N as ints, never a huge one


@dataclass(frozen=True)
class Shard:
    number: int  # 1-based, as printed: shard 1/4 .. 4/4
    count: int

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


def parse_shard(text: str, *, zero_based: bool = False) -> Shard:
    """`K/N` with 1 <= K <= N; with zero_based, `I/N` with 0 <= I < N (JOB_COMPLETION_INDEX)."""
    match = _SHARD.fullmatch(text.strip())
    if not match:
        raise UsageError(f"shard {text!r}: expected K/N, e.g. 2/4")
    first, count = int(match[1]), int(match[2])
    number = first + 1 if zero_based else first
    if count > MAX_SHARDS:  # `merge` refuses a report of more (its count sizes the merge)
        raise UsageError(f"shard {text!r}: at most {MAX_SHARDS:,} shards")
    if count < 1 or not 1 <= number <= count:
        low, high = (0, count - 1) if zero_based else (1, count)
        raise UsageError(f"shard {text!r}: the index must be {low}..{high}")
    return Shard(number, count)


def shard_of(name: str, count: int) -> int:
    """The 1-based shard of host `name` among `count`."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select_shard(hosts: Sequence[Host], shard: Shard) -> list[Host]:
    return [h for h in hosts if shard_of(h.name, shard.count) == shard.number]


def inventory_digest(hosts: Iterable[Host]) -> str:
    """Of the inventory as loaded (names, groups, variables as the files say them, unrendered),
    not of its files: two runners with the inventory checked out in different places still
    agree. A vaulted value counts by its ciphertext: nothing is decrypted for this."""
    # here, not at the top: `merge` uses this module and must not load Jinja2 for it
    from driftcheck.templating import raw_variables  # noqa: PLC0415

    canonical = [[h.name, list(h.groups), _placeless(raw_variables(h.vars))] for h in hosts]
    text = json.dumps(canonical, sort_keys=True, default=_canonical, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


# Ansible's magic variables that say where the inventory was read from, not what it says.
_WHERE = frozenset({"inventory_file", "inventory_dir"})


def _placeless(variables: Vars) -> Vars:
    return {k: v for k, v in variables.items() if k not in _WHERE}


def _canonical(value: object) -> object:
    """What json cannot say by itself. (str() of the mapping that holds a host's variables
    said only how many there were, so the digest ignored every value.)"""
    if isinstance(value, Vaulted):
        return {"vaulted": value.ciphertext}
    if isinstance(value, Mapping):
        return dict(value)
    return repr(value)


def states_digest(states_dir: Path) -> str:
    """Of every file under the states directory (templates included), by relative path and
    content; hidden files (editor swap files) do not count."""
    digest = hashlib.sha256()
    for path in _state_files(states_dir):
        relative = path.relative_to(states_dir).as_posix().encode("utf-8", "surrogateescape")
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(relative), relative, len(data)))
        digest.update(data)
    return "sha256:" + digest.hexdigest()


def _state_files(states_dir: Path) -> list[Path]:
    if not states_dir.is_dir():
        return []
    return sorted(
        p
        for p in states_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(states_dir).parts)
    )


def shard_entry(shard: Shard, selection: Sequence[Host]) -> ShardEntry:
    """report["run"]["shard"]: which shard, and the whole selection it was cut from (in order,
    with each host's groups), so a merge can list the hosts of a missing shard without the
    inventory."""
    return {
        "number": shard.number,
        "count": shard.count,
        "selection": [h.name for h in selection],
        "groups": [list(h.groups) for h in selection],
    }
