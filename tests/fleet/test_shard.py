"""--shard partitions: stable as the inventory grows, complete, and parsed strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.errors import UsageError
from driftcheck.fleet.shard import (
    Shard,
    inventory_digest,
    parse_shard,
    select_shard,
    shard_of,
    states_digest,
)
from driftcheck.model import Host


def hosts(count: int) -> list[Host]:
    return [Host(f"host{i:05d}") for i in range(count)]


def test_every_host_is_in_exactly_one_shard_and_shards_are_even() -> None:
    fleet = hosts(5000)
    parts = [select_shard(fleet, Shard(k, 4)) for k in range(1, 5)]
    assert sorted(h.name for part in parts for h in part) == sorted(h.name for h in fleet)
    assert all(1100 < len(part) < 1400 for part in parts), [len(p) for p in parts]


def test_a_host_keeps_its_shard_when_the_inventory_grows() -> None:
    before = {h.name: shard_of(h.name, 8) for h in hosts(1000)}
    after = {h.name: shard_of(h.name, 8) for h in hosts(3000)}
    assert all(after[name] == shard for name, shard in before.items())


def test_the_partition_is_fixed_by_the_name_alone() -> None:
    # sha256, not Python's salted hash(): another process or machine computes the same.
    assert [shard_of(f"web{i:02d}", 4) for i in range(1, 9)] == [
        shard_of(f"web{i:02d}", 4) for i in range(1, 9)
    ]
    assert (
        shard_of("web01", 4)
        == int.from_bytes(__import__("hashlib").sha256(b"web01").digest()[:8], "big") % 4 + 1
    )


@pytest.mark.parametrize(
    ("text", "zero_based", "expected"),
    [
        ("1/4", False, Shard(1, 4)),
        ("4/4", False, Shard(4, 4)),
        ("0/4", True, Shard(1, 4)),
        ("3/4", True, Shard(4, 4)),
        (" 2/3 ", False, Shard(2, 3)),
        ("10000/10000", False, Shard(10_000, 10_000)),
    ],
)
def test_shard_forms(text: str, zero_based: bool, expected: Shard) -> None:
    assert parse_shard(text, zero_based=zero_based) == expected


@pytest.mark.parametrize(
    ("text", "zero_based"),
    [
        ("0/4", False),
        ("5/4", False),
        ("4/4", True),
        ("1/0", False),
        ("2", False),
        ("a/b", False),
        ("-1/4", True),
        ("1/10001", False),  # past MAX_SHARDS: `merge` would refuse the reports
        ("1/" + "9" * 5000, False),  # past what int() converts: a usage error, not a crash
    ],
)
def test_bad_shards_are_usage_errors(text: str, zero_based: bool) -> None:
    with pytest.raises(UsageError, match="shard"):
        parse_shard(text, zero_based=zero_based)


def test_inventory_digest_follows_names_groups_and_vars() -> None:
    base = [Host("a", ("web",), {"x": 1}), Host("b")]
    assert inventory_digest(base) == inventory_digest(list(base))
    assert inventory_digest(base) != inventory_digest([Host("a", ("web",), {"x": 2}), Host("b")])
    assert inventory_digest(base) != inventory_digest([Host("a", ("db",), {"x": 1}), Host("b")])
    assert inventory_digest(base) != inventory_digest(base[:1])


def test_states_digest_follows_content_not_location(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        (root / "templates").mkdir(parents=True)
        (root / "all.yml").write_text("packages: {dpkg: present}\n")
        (root / "templates" / "motd.j2").write_text("hello\n")
    (two / ".all.yml.swp").write_text("editor noise")
    assert states_digest(one) == states_digest(two)
    (two / "templates" / "motd.j2").write_text("hello!\n")
    assert states_digest(one) != states_digest(two)


def test_inventory_digest_follows_the_values_of_a_loaded_inventory(tmp_path: Path) -> None:
    """Loaded hosts hold their variables in a lazy mapping: the digest must read its values."""
    from driftcheck.inventory import load_inventory  # noqa: PLC0415

    digests = []
    for port in ("22", "22", "2222"):
        path = tmp_path / f"hosts-{len(digests)}.ini"
        path.write_text(f"[web]\nweb01 ansible_port={port} ntp=pool.{{{{inventory_hostname}}}}\n")
        digests.append(inventory_digest(load_inventory(str(path)).hosts.values()))
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]
