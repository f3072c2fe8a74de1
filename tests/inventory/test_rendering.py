"""Templated inventory variables: driftcheck's `inventory --vars` beside the real Ansible.

The case `rendered` holds some 45 templated variables of every kind: Jinja2's own filters,
Ansible's, the magic variables, folded scalars, newlines and comments, and what an inventory
alone cannot render. Ansible renders each with its `debug` action (`debug: var=NAME` looped
over every name in one ansible-playbook run: what `ansible -m debug -a var=NAME` does one name
at a time); driftcheck with `inventory --vars --format json`, once with ansible-core's own
filters and once as without ansible-core installed (driftcheck's own filters).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.inventory import load_inventory
from driftcheck.templated import is_templated
from tests.inventory.conftest import ansible_tool, case_source

ROOT = Path(__file__).resolve().parents[2]
SOURCE = case_source("rendered")

# The documented differences (README, Inventory), each by name. Neither side renders these:
# an inventory alone has no facts and no role defaults.
NOT_RENDERED = {"needs_fact", "needs_role_default"}
# Ansible renders these; driftcheck refuses them, saying why.
REFUSED = {
    "runs_command": "lookup('pipe') is refused",  # Ansible runs `hostname` here
    "reads_environment": "filter or test 'expandvars' is refused",  # and reads $HOME
    "playbook_home": "'playbook_dir' is undefined",  # driftcheck runs no playbook
}
# Ansible's union and difference return a Python set's order: compared sorted.
SET_ORDER = {"ports_union", "ports_difference"}
# Without ansible-core there is no Ansible version to give.
WITHOUT_ANSIBLE_CORE = {"core_major": "'ansible_version' is undefined"}

PLAYBOOK = """
- hosts: all
  gather_facts: false
  connection: local
  tasks:
    - debug: var={{ item }}
      loop: "{{ matrix_names }}"
      ignore_errors: true
"""
# driftcheck as if ansible-core were not installed
WITHOUT = (
    "import runpy, sys; sys.modules['ansible'] = None; sys.argv[0] = 'driftcheck'; "
    "runpy.run_module('driftcheck', run_name='__main__', alter_sys=True)"
)
FAILED = object()  # Ansible could not render it


def templated() -> dict[str, dict[str, Any]]:
    """Host -> its templated variables, as its files say."""
    hosts = load_inventory(SOURCE).hosts
    return {
        name: {key: value for key, value in host.vars.raw.items() if is_templated(value)}  # type: ignore[attr-defined]
        for name, host in hosts.items()
    }


@pytest.fixture(scope="module")
def theirs(tmp_path_factory: pytest.TempPathFactory, ansible_env: dict[str, Any]) -> Any:
    playbook = tmp_path_factory.mktemp("play") / "debug.yml"
    playbook.write_text(PLAYBOOK)
    names = sorted({key for variables in templated().values() for key in variables})
    env = dict(ansible_env["env"], ANSIBLE_STDOUT_CALLBACK="oneline",
               ANSIBLE_DEPRECATION_WARNINGS="0")  # fmt: skip
    tool = str(ansible_tool("ansible-playbook"))
    proc = subprocess.run([tool, "-i", str(SOURCE), str(playbook), "-e",
                           json.dumps({"matrix_names": names})], capture_output=True, text=True,
                          check=False, timeout=300, env=env, cwd=ansible_env["cwd"])  # fmt: skip
    found: dict[str, dict[str, Any]] = {}
    for line in proc.stdout.splitlines():
        host, _, result = line.partition(" | ")
        if " => " in result:
            items = json.loads(result.partition(" => ")[2])["results"]
            found[host] = {item["item"]: _value(item) for item in items}
    assert set(found) == set(templated()), proc.stdout + proc.stderr
    return found


def _value(item: dict[str, Any]) -> Any:
    value = item.get(item["item"], FAILED)
    if item.get("failed") or (isinstance(value, str) and value.startswith("<< error")):
        return FAILED
    return value


def ours(with_ansible_core: bool) -> dict[str, Any]:
    args = ["inventory", "-i", str(SOURCE), "--vars", "--format", "json"]
    argv = (
        [sys.executable, "-m", "driftcheck"]
        if with_ansible_core
        else [sys.executable, "-c", WITHOUT]
    )
    proc = subprocess.run([*argv, *args], capture_output=True, text=True, check=False,
                          cwd=ROOT, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return {row["name"]: row for row in json.loads(proc.stdout)}


@pytest.mark.parametrize("with_ansible_core", [True, False], ids=["ansible-core", "own-filters"])
def test_every_templated_variable_renders_as_ansible_renders_it(
    with_ansible_core: bool, theirs: dict[str, dict[str, Any]]
) -> None:
    if with_ansible_core:
        ansible_tool("ansible")
    rows = ours(with_ansible_core)
    unlike: dict[str, object] = {}
    for host, variables in templated().items():
        mine, reasons = rows[host]["vars"], rows[host]["unrendered"]
        refused = REFUSED if with_ansible_core else {**REFUSED, **WITHOUT_ANSIBLE_CORE}
        for key, raw in variables.items():
            expected, got = _expected(key, theirs[host][key], refused), reasons.get(key)
            if key in NOT_RENDERED or key in refused:
                if mine[key] != raw or expected not in (got or ""):
                    unlike[f"{host} {key}"] = (mine[key], got)
            elif key in SET_ORDER and sorted(mine[key]) != sorted(expected):
                unlike[f"{host} {key}"] = (mine[key], expected)
            elif key not in SET_ORDER and (got or mine[key] != expected):
                unlike[f"{host} {key}"] = (got or mine[key], expected)
    assert unlike == {}
    assert sum(len(v) for v in templated().values()) >= 3 * 30


def _expected(key: str, their_value: Any, refused: dict[str, str]) -> Any:
    """What driftcheck must show: Ansible's value, else the reason it gives."""
    if key in NOT_RENDERED:
        assert their_value is FAILED, key
        return f"variable {key!r}: "
    if key in refused:
        assert their_value is not FAILED, key  # Ansible renders it
        return f"variable {key!r}: {refused[key]}"
    assert their_value is not FAILED, key
    return their_value
