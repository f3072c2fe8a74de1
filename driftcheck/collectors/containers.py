"""Containers: discovery (`ENGINE container inspect` JSON from the containers.ENGINE sections),
zombies seen from the host, and the inner audit (section inner.INDEX: the output of the one exec
of the inner collector script, framed with its own nonce).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from driftcheck.collectors.procs import Proc, ProcessTree, descendants, process_tree
from driftcheck.collectors.sections import UNSUPPORTED, ParseError, RawSection, text
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_CONTAINERS, MAX_JSON_VALUES
from driftcheck.model import ContainerState, Outcome, Section, Uncollected, uncollected

ENGINES = ("podman", "docker")

# A JSON object of `container inspect` as the engine printed it: open-ended (each engine and
# version adds its own keys, of any JSON type), so every value is checked where it is read.
JsonObject = Mapping[str, Any]


def inner_nonce(nonce: str, index: int) -> str:
    """The nonce of a container's inner script. A hash: the container never learns the host's
    nonce, so nothing it prints can end the host's section early or forge another."""
    return hashlib.sha256(f"{nonce}:inner:{index}".encode()).hexdigest()[:32]


def parse_inspect(raw: bytes, engine: str) -> list[ContainerState]:
    """`ENGINE container inspect` output: a JSON array of container records."""
    values = raw.count(b",") + raw.count(b"{") + raw.count(b"[")  # before json builds them
    if values > MAX_JSON_VALUES:
        raise LimitError(f"{engine} container inspect: more than {MAX_JSON_VALUES:,} JSON values")
    try:
        records = json.loads(raw.decode("utf-8", errors="replace") or "[]")
    except ValueError as exc:
        raise ParseError(f"{engine} container inspect: not JSON: {exc}") from exc
    if not isinstance(records, list):
        raise ParseError(f"{engine} container inspect: not a JSON array")
    if len(records) > MAX_CONTAINERS:
        raise LimitError(f"{engine}: more than {MAX_CONTAINERS:,} containers")
    return [_container(record, engine) for record in records]


def _container(record: object, engine: str) -> ContainerState:
    if not isinstance(record, dict) or not isinstance(record.get("Name"), str):
        raise ParseError(f"{engine} container inspect: a record without a Name")
    state, config, host = _map(record, "State"), _map(record, "Config"), _map(record, "HostConfig")
    image_id = _str(record.get("Image"))
    return ContainerState(
        name=record["Name"].lstrip("/"),  # docker names start with "/"
        engine=engine,
        image=_str(record.get("ImageName")) or _str(config.get("Image")),
        image_id=image_id.removeprefix("sha256:"),
        state=_str(state.get("Status")) or "unknown",
        started=_started(state),
        pid1=_command(record),
        digests=_digests(record),
        host_pid=state.get("Pid") if isinstance(state.get("Pid"), int) else None,
        init=host.get("Init") is True,
    )


def _map(record: JsonObject, key: str) -> JsonObject:
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _started(state: JsonObject) -> str:
    started = _str(state.get("StartedAt"))
    return "" if started.startswith("0001-01-01") else started  # Go's zero time: never started


def _command(record: JsonObject) -> str:
    args = record.get("Args")
    words = [_str(record.get("Path")), *(_str(a) for a in (args if isinstance(args, list) else []))]
    return " ".join(w for w in words if w)


def _digests(record: JsonObject) -> tuple[str, ...]:
    found = {_str(record.get("ImageDigest"))}  # podman
    reference = _str(_map(record, "Config").get("Image"))
    if "@" in reference:  # run by digest: the reference names it
        found.add(reference.rpartition("@")[2])
    return tuple(sorted(d for d in found if d))


# --- zombies as the host sees them -----------------------------------------------------------


def hygiene(container: ContainerState, tree: ProcessTree) -> ContainerState:
    """Its PID 1's command name and the zombies below it, from the host's process table."""
    pid, procs = container.host_pid, tree.procs
    if not procs or not pid or pid not in procs:
        return container
    zombies = sum(1 for p in descendants(tree, pid) if procs[p].state == "Z")
    return replace(container, pid1_now=procs[pid].comm, zombies=zombies)


# --- the containers section ----------------------------------------------------------------


def containers_section(
    raws: Mapping[str, RawSection | None], procs: Mapping[int, Proc], missing: str
) -> Section[Mapping[str, ContainerState]]:
    """Merge the engines' discoveries: any engine that failed fails the section (a declared
    container may live there); no engine at all is UNSUPPORTED."""
    found: dict[str, ContainerState] = {}
    reasons = []
    tree = process_tree(procs)
    for engine in ENGINES:
        raw = raws.get(engine)
        if raw is None:
            return _section(Outcome.FAILED, missing)
        if raw.status == UNSUPPORTED:
            reasons.append(text(raw.body).strip())
            continue
        if raw.rc != 0:
            return _section(Outcome.FAILED, raw.failure(f"{engine} container inspect"))
        try:
            containers = parse_inspect(raw.body, engine)
        except ParseError as exc:
            return _section(Outcome.FAILED, str(exc))
        for container in containers:
            found.setdefault(container.name, hygiene(container, tree))
    if len(reasons) == len(ENGINES):
        return _section(Outcome.UNSUPPORTED, "; ".join(reasons))
    return Section(Outcome.COLLECTED, dict(sorted(found.items())))


def _section(outcome: Outcome, reason: str) -> Uncollected:
    return uncollected(outcome, reason)
