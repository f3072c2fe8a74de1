"""Every case inventory, read by us and by the real ansible-core, must agree in every detail."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.inventory import Inventory, load_inventory
from tests.inventory.conftest import CASES, MAGIC, ansible_tool, case_source, normalize, run_json

PROBE = Path(__file__).with_name("ansible_probe.py")


@functools.cache
def ours(case: str) -> Inventory:
    return load_inventory(case_source(case))


@pytest.fixture(scope="module")
def listed(ansible_env: dict[str, Any]) -> dict[str, Any]:
    tool = str(ansible_tool("ansible-inventory"))
    return {c: run_json([tool, "-i", str(case_source(c)), "--list"], ansible_env) for c in CASES}


@pytest.fixture(scope="module")
def probed(ansible_env: dict[str, Any]) -> dict[str, Any]:
    ansible_tool("ansible-inventory")
    return {
        c: run_json([sys.executable, str(PROBE), str(case_source(c))], ansible_env) for c in CASES
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_hosts(case: str, listed: dict[str, Any]) -> None:
    # hostvars leaves out hosts without variables: collect the members of every group too
    theirs = set(listed[case]["_meta"]["hostvars"])
    for name, body in listed[case].items():
        theirs.update(body.get("hosts", []) if name != "_meta" else [])
    assert sorted(ours(case).hosts) == sorted(theirs)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_groups_members_and_children(case: str, listed: dict[str, Any]) -> None:
    theirs = {name: body for name, body in listed[case].items() if name != "_meta"}
    mine = ours(case).groups
    assert set(theirs) <= set(mine)
    for name, group in mine.items():
        body = theirs.get(name, {})
        if name != "all":  # --list prints hosts put in `all` under `ungrouped` only
            assert list(group.hosts) == body.get("hosts", []), name
        assert list(group.children) == body.get("children", []), name


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_variables_for_every_host(case: str, listed: dict[str, Any]) -> None:
    hostvars = listed[case]["_meta"]["hostvars"]
    for name, host in ours(case).hosts.items():
        raw = getattr(host.vars, "raw", host.vars)  # --list prints variables unrendered
        mine = {key: value for key, value in raw.items() if key not in MAGIC}
        assert normalize(mine) == normalize(hostvars.get(name, {})), name


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_host_order_group_order_and_magic_vars(case: str, probed: dict[str, Any]) -> None:
    theirs = probed[case]
    inventory = ours(case)
    _assert_same_order(list(inventory.hosts), theirs["order"], theirs["levels"])
    for name, host in inventory.hosts.items():
        assert list(host.groups) == theirs["hosts"][name]["groups"], name
        magic = {key: host.vars[key] for key in theirs["hosts"][name]["magic"]}
        assert magic == theirs["hosts"][name]["magic"], name
    assert {n: g.depth for n, g in inventory.groups.items()} == theirs["depths"]


def test_inventory_file_and_dir_are_where_the_host_was_first_declared() -> None:
    host = ours("dir_mixed").hosts["lb2"]
    nested = case_source("dir_mixed") / "sub" / "30-nested.ini"
    assert host.vars["inventory_file"] == str(nested.absolute())
    assert host.vars["inventory_dir"] == str(nested.parent.absolute())


def _assert_same_order(mine: list[str], theirs: list[str], levels: dict[str, int]) -> None:
    """Ansible walks each level of groups below the first as a set of objects, so the order of
    hosts met two or more levels down varies from run to run; up to there it must be exact,
    and below it our order must still be breadth first (levels never go back up)."""
    assert sorted(mine) == sorted(theirs)
    assert [h for h in mine if levels[h] <= 1] == [h for h in theirs if levels[h] <= 1]
    assert [levels[h] for h in mine] == sorted(levels[h] for h in mine)
