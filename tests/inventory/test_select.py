"""`--limit` patterns, table style, on the `ini_children_first` case; then the same table
through ansible-core's own InventoryManager.get_hosts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import UsageError
from driftcheck.inventory import load_inventory, select_hosts
from tests.inventory.conftest import ansible_debug, ansible_tool, case_source, run_json

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
    ("web[-3]", ["web01"]),
    ("web[1:9]", ["web02", "web03"]),
    ("web:db[5:]", WEB),
    # not in the inventory: Ansible's implicit localhost, not part of `all`
    ("localhost", ["localhost"]),
    ("127.0.0.1", ["127.0.0.1"]),
    ("::1", ["::1"]),
    ("web:localhost", [*WEB, "localhost"]),
    ("all:127.0.0.1", [*EVERY, "127.0.0.1"]),
    ("localhost[0]", ["localhost"]),
    ("localhost:127.0.0.1", ["localhost"]),  # made once, by the first pattern
    ("127.0.0.1:localhost", ["127.0.0.1"]),
    ("web:!localhost", WEB),
]
# a subscript out of range is an error for the whole pattern, in Ansible's get_hosts too
# (`ansible 'web[9]' --list-hosts` shows no host only because the ad-hoc command turns
# any error into "no hosts matched"; with --limit it is the error)
NOTHING = ["nosuch", "web:&db", "prod:!prod", "WEB01", "web[9]", "!prod:web01", "web:db[9]",
           "db[-4]", "db[5:]", "web[2:1]", "all:&localhost", "!localhost:localhost", "local*",
           "localhost[1]"]  # fmt: skip
# Ansible walks groups two levels below `all` as a set: its order for these varies per run.
ORDER_VARIES = {"all", "*", "!web", "all:127.0.0.1"}


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


LOCAL_VARS = ["inventory_hostname", "group_names", "ansible_connection", "from_all", "gv_all",
              "hv", "from_web"]  # fmt: skip


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_the_implicit_localhost_has_the_variables_ansible_gives_it(
    tmp_path: Path, ansible_env: dict[str, Any], name: str
) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "hosts.ini").write_text(
        "[web]\nw1\n[web:vars]\nfrom_web=1\n[all:vars]\nfrom_all=1\nansible_connection=ssh\n"
    )
    (tmp_path / "group_vars" / "all.yml").write_text("gv_all: 1\n")
    (tmp_path / "host_vars" / f"{name}.yml").write_text(f"hv: {name}\n")
    expr = "{{ [" + ", ".join(f"{v}|default(None)" for v in LOCAL_VARS) + "] }}"
    theirs = ansible_debug(tmp_path, name, expr, ansible_env)[name]
    [host] = select_hosts(load_inventory(tmp_path), name)
    assert [host.vars.get(v) for v in LOCAL_VARS] == theirs
    assert host.connection == "local"
    assert host.groups == ()
    assert theirs[2] == "local"


def test_a_declared_localhost_is_what_127_0_0_1_selects(ansible_env: dict[str, Any]) -> None:
    source = Path(__file__).parent / "cases" / "localhost.ini"
    theirs = run_json([sys.executable, str(Path(__file__).with_name("ansible_probe.py")),
                       str(source), "127.0.0.1", "::1", "localhost"], ansible_env)  # fmt: skip
    inventory = load_inventory(source)
    for pattern in ("127.0.0.1", "::1", "localhost"):
        mine = [host.name for host in select_hosts(inventory, pattern)]
        assert mine == theirs["patterns"][pattern] == ["localhost"], pattern
