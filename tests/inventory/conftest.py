"""Runs the real ansible-core on the case inventories, once per case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.tools import unavailable

HERE = Path(__file__).parent
CASES_DIR = HERE / "cases"
# case name -> what is given to -i (a file, or a directory of inventory files)
CASES = {
    "ini_children_first": "hosts.ini",
    "yaml_nested": "inventory.yml",
    "dir_mixed": "inv",
    "priorities": "hosts.ini",
    "ini_typing": "hosts",
    "json_inventory": "inventory.json",
    "diamond": "hosts.ini",
    "name_clash": "hosts.ini",
    "script_meta": "inventory.py",
    "script_host": "inventory.sh",
    "ini_in_yml": "hosts.yml",
    "constructed": ".",
    "templated": "hosts.ini",
    "rendered": ".",
}
# Internal names ansible-inventory strips from its output (cli/inventory.py INTERNAL_VARS).
MAGIC = {"inventory_hostname", "inventory_hostname_short", "group_names", "inventory_file",
         "inventory_dir"}  # fmt: skip


def case_source(name: str) -> Path:
    return CASES_DIR / name / CASES[name]


def ansible_tool(name: str) -> Path:
    """The tool beside this interpreter; missing is a failure in CI, a skip elsewhere."""
    tool = Path(sys.executable).parent / name
    if not tool.exists():
        unavailable(f"{tool} not found: install ansible-core (a test dependency)")
    return tool


@pytest.fixture(scope="session")
def ansible_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A clean place to run Ansible: no ansible.cfg, no group_vars in the working directory."""
    home = tmp_path_factory.mktemp("ansible")
    (home / "ansible.cfg").write_text("")
    env = dict(os.environ, ANSIBLE_CONFIG=str(home / "ansible.cfg"), ANSIBLE_HOME=str(home),
               ANSIBLE_LOCAL_TEMP=str(home / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1")  # fmt: skip
    return {"env": env, "cwd": home}


def run_json(argv: list[str], ansible_env: dict[str, Any]) -> Any:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120,
                          env=ansible_env["env"], cwd=ansible_env["cwd"])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def normalize(value: Any) -> Any:
    """Both sides as JSON sees them; Ansible prints `!unsafe` strings as {"__ansible_unsafe": s}."""
    plain = json.loads(json.dumps(value, default=_iso))
    return _unwrap(plain)


def _iso(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def ansible_debug(
    source: Path, pattern: str, expr: str, ansible_env: dict[str, Any]
) -> dict[str, Any]:
    """What Ansible renders for `expr` on each host `pattern` selects (`debug`, no connection)."""
    tool = str(ansible_tool("ansible"))
    env = dict(ansible_env["env"], ANSIBLE_DEPRECATION_WARNINGS="0")
    proc = subprocess.run([tool, pattern, "-i", str(source), "-m", "debug", "-a", f"msg={expr}",
                           "-o"], capture_output=True, text=True, check=False, timeout=120,
                          env=env, cwd=ansible_env["cwd"])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = {}
    for line in proc.stdout.splitlines():
        name, _, rest = line.partition(" | SUCCESS => ")
        if rest:
            found[name] = json.loads(rest)["msg"]
    return found
