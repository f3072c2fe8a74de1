"""`--limit` patterns, table style, on the `ini_children_first` case; then the same table
through ansible-core's own InventoryManager.get_hosts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import UsageError
from driftcheck.inventory import load_inventory, select_hosts
from tests.inventory.conftest import ansible_tool, case_source, run_json

SOURCE = case_source("ini_children_first")
WEB = ["web01", "web02", "web03"]
DB = ["db-a", "db-b", "db-c"]
JOBS = ["job0", "job5", "job10"]
LOOSE = ["lonely.example.com", "10.0.0.5"]
EVERY = LOOSE + WEB + DB + JOBS

TABLE: list[tuple[str | None, list[str]]] = [
    (None, EVERY),
    ("all", EVERY),
    ("*", EVERY),
    ("web", WEB),
    ("web02", ["web02"]),
    ("web0*", WEB),
    ("prod", WEB + DB),
    ("prod:!db", WEB),
    ("prod,batch", WEB + DB + JOBS),
    ("batch, web", JOBS + WEB),
    ("prod:&db", DB),
    ("~db-[ab]", ["db-a", "db-b"]),
    ("!web", LOOSE + DB + JOBS),
    ("&staging", JOBS),
    ("!db:prod", WEB),  # the plain pattern comes first whatever the order written
    ("web[0]", ["web01"]),
    ("prod[1:2]", ["web02", "web03"]),
    ("prod[2:0]", ["web03"]),
    ("prod[-1]", ["db-c"]),
    ("db[1:]", ["db-b", "db-c"]),
    ("10.0.0.5", ["10.0.0.5"]),
    ("ungrouped", LOOSE),
    ("db-*:job5", [*DB, "job5"]),
    ("*.example.com", ["lonely.example.com"]),
    ("web01:web01,web01", ["web01"]),
]
NOTHING = ["nosuch", "web:&db", "prod:!prod", "WEB01", "web[9]", "!prod:web01"]
# Ansible walks groups two levels below `all` as a set: its order for these varies per run.
ORDER_VARIES = {"all", "*", "!web"}


@pytest.mark.parametrize(("pattern", "expected"), TABLE)
def test_select(pattern: str | None, expected: list[str]) -> None:
    selected = select_hosts(load_inventory(SOURCE), pattern)
    assert [host.name for host in selected] == expected


@pytest.mark.parametrize("pattern", [*NOTHING, "~("])
def test_matching_nothing_is_a_usage_error(pattern: str) -> None:
    with pytest.raises(UsageError, match="pattern"):
        select_hosts(load_inventory(SOURCE), pattern)


def test_ansible_selects_the_same(ansible_env: dict[str, Any]) -> None:
    ansible_tool("ansible-inventory")
    probe = Path(__file__).with_name("ansible_probe.py")
    patterns = [p for p, _ in TABLE if p is not None] + NOTHING
    theirs = run_json([sys.executable, str(probe), str(SOURCE), *patterns], ansible_env)
    for pattern, expected in TABLE[1:]:
        got = theirs["patterns"][pattern]
        if pattern in ORDER_VARIES:
            assert sorted(got) == sorted(expected), pattern
        else:
            assert got == expected, pattern
    for pattern in NOTHING:
        assert theirs["patterns"][pattern] in ([], "error"), pattern


CLASH = case_source("name_clash")
# (pattern, hosts): a name both host and group, and globs/regexes in declaration order
CLASH_TABLE: list[tuple[str, list[str]]] = [
    ("all:!db", ["web1", "db", "zeta.example.com", "web-job"]),
    ("db", ["db"]),
    ("web:&db", []),
    ("*.example.com", ["zeta.example.com", "alpha.example.com"]),
    ("~.*\\.example\\.com", ["zeta.example.com", "alpha.example.com"]),
    ("*[a-z]1", ["web1", "db1"]),
    ("db*", ["db1", "alpha.example.com", "db"]),
    ("*a*", ["web1", "db", "zeta.example.com", "db1", "alpha.example.com", "web-job"]),
]


def test_name_clash_selects_as_ansible(ansible_env: dict[str, Any]) -> None:
    ansible_tool("ansible-inventory")
    probe = Path(__file__).with_name("ansible_probe.py")
    patterns = [p for p, _ in CLASH_TABLE]
    theirs = run_json([sys.executable, str(probe), str(CLASH), *patterns], ansible_env)
    inventory = load_inventory(CLASH)
    for pattern, expected in CLASH_TABLE:
        got = theirs["patterns"][pattern]
        assert got == expected, (pattern, got)
        mine = [host.name for host in select_hosts(inventory, pattern)] if expected else []
        assert mine == expected, pattern


def test_ansible_ssh_host_is_the_address() -> None:
    assert load_inventory(CLASH).hosts["web-job"].address == "10.1.2.3"
