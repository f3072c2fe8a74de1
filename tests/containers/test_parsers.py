"""Discovery parsers on captured real output (inspect/*.json, procstat/*.json) and dirty input."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from driftcheck.collectors.containers import (
    containers_section,
    hygiene,
    inner_nonce,
    parse_inspect,
)
from driftcheck.collectors.procs import (
    by_pid,
    descendants,
    parse_proc_lines,
    parse_procstat,
    process_tree,
)
from driftcheck.collectors.sections import ParseError, RawSection
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_PROCESS_DEPTH
from driftcheck.model import ContainerState, Outcome

HERE = Path(__file__).parent


def cases(folder: str) -> list[Path]:
    return sorted((HERE / folder).glob("*.json"))


@pytest.mark.parametrize("path", cases("inspect"), ids=lambda p: p.stem)
def test_inspect_fixture(path: Path) -> None:
    case = json.loads(path.read_text())
    got = [asdict(c) for c in parse_inspect(case["stdout"].encode(), case["engine"])]
    for record in got:
        record["digests"] = list(record["digests"])
    assert got == case["expected"]


@pytest.mark.parametrize("path", cases("procstat"), ids=lambda p: p.stem)
def test_procstat_fixture(path: Path) -> None:
    case = json.loads(path.read_text())
    container = ContainerState("c", "podman", "img", "id", "running", host_pid=case["host_pid"])
    seen = hygiene(container, process_tree(by_pid(parse_procstat(case["stdout"].encode()))))
    assert {"pid1_now": seen.pid1_now, "zombies": seen.zombies} == case["expected"]


def test_docker_names_lose_their_slash_and_docker_init_counts() -> None:
    raw = json.dumps(
        [
            {
                "Name": "/web",
                "Image": "sha256:" + "a" * 64,
                "Config": {"Image": "nginx@sha256:" + "b" * 64},
                "State": {"Status": "running", "Pid": 42, "StartedAt": "2026-01-01T00:00:00Z"},
                "HostConfig": {"Init": True},
                "Path": "nginx",
                "Args": ["-g", "daemon off;"],
            }
        ]
    ).encode()
    (web,) = parse_inspect(raw, "docker")
    assert (web.name, web.image, web.image_id, web.init) == ("web", "nginx@sha256:" + "b" * 64,
                                                             "a" * 64, True)  # fmt: skip
    assert web.digests == ("sha256:" + "b" * 64,)
    assert web.pid1 == "nginx -g daemon off;"


@pytest.mark.parametrize(
    "raw", [b"Error: something\n", b'{"Name": "x"}', b'[{"State": {}}]', b"\xff\xfe"]
)
def test_garbage_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_inspect(raw, "podman")


def test_hostile_comm_cannot_fake_a_zombie() -> None:
    raw = (
        b"10 (sleep) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n"
        b"11 (x) Z 10 1\n"  # too short to be a record
        b"12 (\n13 (y) Z 10 1) S 10 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n"
    )
    seen = hygiene(
        ContainerState("c", "podman", "i", "d", "running", host_pid=10),
        process_tree(by_pid(parse_procstat(raw))),
    )
    assert seen.zombies == 0  # the comm "\n13 (y) Z 10 1" cannot make a zombie
    assert seen.pid1_now == "sleep"


# --- a process table that is no tree: the host's word, never trusted to end a walk -----------


def _tree(lines: str) -> dict[int, list[int]]:
    return dict(process_tree(by_pid(parse_proc_lines(lines.encode()))).children)


def _hygiene_of(lines: str, pid: int) -> ContainerState:
    tree = process_tree(by_pid(parse_proc_lines(lines.encode())))
    return hygiene(ContainerState("c", "podman", "i", "d", "running", host_pid=pid), tree)


@pytest.mark.timeout(10)
def test_a_process_that_is_its_own_parent_is_walked_once() -> None:
    seen = _hygiene_of("100 (x) Z 100\n101 (y) Z 100\n", 100)
    assert (seen.pid1_now, seen.zombies) == ("x", 1)  # 101 below it; 100 is not its own child


@pytest.mark.timeout(10)
def test_a_longer_cycle_through_the_container_ends_with_each_process_counted_once() -> None:
    table = "100 (a) S 102\n101 (b) Z 100\n102 (c) Z 101\n103 (d) Z 102\n"
    seen = _hygiene_of(table, 100)
    assert seen.zombies == 3  # 101, 102, 103: each once, the cycle back to 100 not followed
    tree = process_tree(by_pid(parse_proc_lines(table.encode())))
    assert sorted(descendants(tree, 101)) == [100, 102, 103]


def _chain(length: int) -> str:
    """PID 1 and a chain of `length` zombies below it, each the child of the one before."""
    return "1 (init) S 0\n" + "".join(f"{p} (p) Z {p - 1}\n" for p in range(2, length + 2))


def test_a_chain_deeper_than_the_bound_is_a_limit() -> None:
    assert _hygiene_of(_chain(MAX_PROCESS_DEPTH), 1).zombies == MAX_PROCESS_DEPTH
    with pytest.raises(LimitError, match="deeper than 4,096 levels"):
        _hygiene_of(_chain(MAX_PROCESS_DEPTH + 1), 1)


def test_the_children_map_is_built_once_per_host_for_every_container() -> None:
    procs = {"podman": section("0", b'[{"Name": "a", "State": {"Status": "running", "Pid": 5}},'
                                     b' {"Name": "b", "State": {"Status": "running", "Pid": 5}}]'),
             "docker": section("unsupported", b"no docker")}  # fmt: skip
    table = by_pid(parse_proc_lines(b"5 (x) S 5\n6 (z) Z 5\n"))
    found = containers_section(procs, table, "").value
    assert found is not None
    assert [(c.pid1_now, c.zombies) for c in found.values()] == [("x", 1), ("x", 1)]
    assert _tree("5 (x) S 5\n6 (z) Z 5\n") == {5: [5, 6]}


def section(status: str, body: bytes = b"[]", stderr: bytes = b"") -> RawSection:
    return RawSection(status, body, stderr)


def test_engines_merge_and_outcomes() -> None:
    none = {
        "podman": section("unsupported", b"no podman"),
        "docker": section("unsupported", b"no docker"),
    }
    assert containers_section(none, {}, "").outcome is Outcome.UNSUPPORTED
    broken = {"podman": section("0"), "docker": section("1", b"", b"Cannot connect\n")}
    failed = containers_section(broken, {}, "")
    assert failed.outcome is Outcome.FAILED
    assert "Cannot connect" in failed.reason
    missing = containers_section({"podman": section("0"), "docker": None}, {}, "cut short")
    assert (missing.outcome, missing.reason) == (Outcome.FAILED, "cut short")
    one = {"podman": section("0", b'[{"Name": "a", "State": {"Status": "running"}}]'),
           "docker": section("unsupported", b"no docker")}  # fmt: skip
    assert list(containers_section(one, {}, "").value) == ["a"]


def test_inner_nonce_hides_the_host_nonce() -> None:
    nonce = "0123456789abcdef"
    inner = inner_nonce(nonce, 0)
    assert nonce not in inner
    assert inner != inner_nonce(nonce, 1)
    assert len(inner) == 32
