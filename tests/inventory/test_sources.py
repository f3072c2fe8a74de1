"""Inventories that are not plain files, and templated variables, beside the real ansible-core.

The case inventories (scripts, `constructed`, INI in a .yml file) are compared in every
detail by test_against_ansible.py; here: failures, saved `--list` JSON and rendering.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import InventoryError
from driftcheck.inventory import load_inventory
from driftcheck.inventory.hostvars import check_connection_vars, connection_error
from tests.inventory.conftest import (
    CASES,
    MAGIC,
    ansible_debug,
    ansible_tool,
    case_source,
    normalize,
    run_json,
)

ROOT = Path(__file__).resolve().parents[2]


def script(tmp_path: Path, body: str, name: str = "inv.sh") -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("echo boom >&2; exit 4\n", "inventory script failed (exit 4): boom"),
        ("echo '{not json'\n", "inventory output is not JSON"),
        ("echo '[1, 2]'\n", "expected a JSON object, got list"),
        ('echo \'{"g": {"hosts": "h1"}}\'\n', "'g.hosts' must be a list"),
    ],
)
def test_a_failing_script_is_an_inventory_error_naming_it(
    tmp_path: Path, body: str, words: str
) -> None:
    path = script(tmp_path, body)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert words in str(caught.value)


def test_a_hanging_script_is_killed_at_the_time_limit(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    path = script(tmp_path, f"sleep 60 &\necho $! > {pidfile}\nwait\n")
    started = time.monotonic()
    with pytest.raises(InventoryError, match="still running after 1s"):
        load_inventory(path, timeout=1.0)
    assert time.monotonic() - started < 10
    assert_killed(int(pidfile.read_text()), started)


def assert_killed(child: int, started: float) -> None:
    while _alive(child):  # the script's whole session dies with it: poll, no fixed sleep
        assert time.monotonic() - started < 10, "the script's child outlived the time limit"
        time.sleep(0.05)


def test_the_inventory_script_limit_follows_timeout(tmp_path: Path) -> None:
    path = script(tmp_path, "sleep 60\n")
    for command in ("inventory", "validate", "scan"):
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "driftcheck", command, "-i", str(path),
                               "--timeout", "1"], capture_output=True, text=True, check=False,
                              timeout=60, cwd=ROOT)  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        assert f"{path}: inventory script still running after 1s (killed)" in proc.stderr
        assert time.monotonic() - started < 20, command


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_a_flooding_script_is_cut_at_the_cap(tmp_path: Path) -> None:
    path = script(tmp_path, "yes '{}'\n")
    with pytest.raises(InventoryError, match=r"printed more than 64 MiB \(killed\)"):
        load_inventory(path)


def test_an_executable_text_file_without_shebang_is_read_as_ini(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("[web]\nweb1\n")
    path.chmod(0o755)
    assert list(load_inventory(path).hosts) == ["web1"]


def test_saved_ansible_inventory_list_is_an_inventory(
    tmp_path: Path, ansible_env: dict[str, Any]
) -> None:
    tool = str(ansible_tool("ansible-inventory"))
    for case in ("ini_children_first", "yaml_nested", "script_meta"):
        listed = run_json([tool, "-i", str(case_source(case)), "--list"], ansible_env)
        saved = tmp_path / f"{case}.json"
        saved.write_text(json.dumps(listed))
        inventory = load_inventory(saved)
        hostvars = listed["_meta"]["hostvars"]
        for name, host in inventory.hosts.items():
            mine = {k: v for k, v in host.vars.raw.items() if k not in MAGIC}  # type: ignore[attr-defined]
            assert normalize(mine) == normalize(hostvars.get(name, {})), (case, name)
        for name, body in listed.items():
            if name not in ("_meta", "all"):
                assert list(inventory.groups[name].hosts) == body.get("hosts", []), name


def test_a_plugin_config_without_ansible_core_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake, said so: ansible-core is a test dependency, so its absence is simulated by
    # hiding ansible-inventory from PATH and from beside the interpreter.
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    with pytest.raises(InventoryError, match=r"ansible-inventory.*not installed"):
        load_inventory(case_source("constructed"))


def _ansible_rendered(source: Path, ansible_env: dict[str, Any]) -> dict[str, list[str]]:
    """What Ansible renders for the connection variables, per host (`debug`, no connection)."""
    expr = (
        "{{ [ansible_host|default(''), ansible_ssh_host|default(''), ansible_user|default('')] }}"
    )
    return ansible_debug(source, "web1:web2", expr, ansible_env)


def test_templated_connection_variables_render_as_ansible_renders_them(
    ansible_env: dict[str, Any],
) -> None:
    source = case_source("templated")
    theirs = _ansible_rendered(source, ansible_env)
    hosts = load_inventory(source).hosts
    for name in ("web1", "web2"):
        host_var, ssh_host, user = theirs[name]
        assert hosts[name].address == (ssh_host or host_var), name
        assert hosts[name].vars.get("ansible_user", "") == user, name
    assert hosts["web1"].address == "www-1.example.org"
    assert hosts["web2"].address == "WWW.example.com"


NATIVE = {"p": "{{ 2200 + 22 }}", "q": "a{{ 1 }}", "l": "{{ [1, 2] }}", "s": "{{ '007' }}",
          "t": "{{ 'yes' }}", "w": " {{ 1 }}", "x": "{{ p }}", "m": "{{ {'k': l} }}"}  # fmt: skip


def test_a_single_expression_keeps_its_type_as_in_ansible(
    tmp_path: Path, ansible_env: dict[str, Any]
) -> None:
    source = tmp_path / "native.yml"
    source.write_text(json.dumps({"all": {"hosts": {"h1": NATIVE}}}))
    expr = "{{ [" + ", ".join(NATIVE) + "] }}"
    tool = str(ansible_tool("ansible"))
    env = dict(ansible_env["env"], ANSIBLE_DEPRECATION_WARNINGS="0")
    proc = subprocess.run([tool, "h1", "-i", str(source), "-m", "debug", "-a", f"msg={expr}", "-o"],
                          capture_output=True, text=True, check=False, timeout=120, env=env,
                          cwd=ansible_env["cwd"])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    theirs = json.loads(proc.stdout.partition(" | SUCCESS => ")[2])["msg"]
    host = load_inventory(source).hosts["h1"]
    assert [host.vars[key] for key in NATIVE] == theirs
    assert theirs[0] == 2222


def test_a_lookup_in_a_connection_variable_fails_its_host_only_naming_it() -> None:
    hosts = load_inventory(case_source("templated")).hosts
    check_connection_vars(hosts.values())  # nothing vaulted: nothing stops the run
    error = connection_error(hosts["web3"])
    assert error is not None
    assert "hosts.ini: variable 'ansible_host': lookup('env') is refused" in str(error)
    assert connection_error(hosts["web1"]) is None
    assert connection_error(hosts["web2"]) is None


def test_inventory_command_renders_the_route_and_shows_a_refused_lookup_per_host(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-m", "driftcheck", "inventory", "-i", str(case_source("templated"))]
    ok = subprocess.run([*argv, "-l", "web1", "--format", "json"], capture_output=True,
                        text=True, check=False, cwd=root, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["address"] == "www-1.example.org"
    bad = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=root,
                         timeout=120, env=dict(os.environ, HOME=str(tmp_path)))  # fmt: skip
    assert bad.returncode == 0, bad.stderr
    web3 = next(line for line in bad.stdout.splitlines() if line.startswith("web3 "))
    assert "error: " in web3
    assert "variable 'ansible_host': lookup('env') is refused" in web3
    assert str(tmp_path) not in bad.stderr + bad.stdout


def test_every_case_is_known() -> None:
    assert {"script_meta", "script_host", "constructed", "ini_in_yml", "templated"} <= set(CASES)


def test_inventory_vars_shows_rendered_variables() -> None:
    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-m", "driftcheck", "inventory", "-i", str(case_source("templated")),
            "-l", "web2", "--vars"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "\nweb2:\n" in proc.stdout
    assert '  ansible_user = "ops-web2"\n' in proc.stdout
    assert '  domain = "example.org"\n' in proc.stdout


def test_a_script_host_answer_that_is_no_object_is_an_error(tmp_path: Path) -> None:
    path = script(
        tmp_path, 'case "$1" in --list) echo \'{"g": ["h1"]}\' ;; *) echo \'[1]\' ;; esac\n'
    )
    with pytest.raises(InventoryError, match="variables of host 'h1' must be an object"):
        load_inventory(path)


def test_ansible_ssh_host_wins_over_ansible_host_as_in_ansible(
    tmp_path: Path, ansible_env: dict[str, Any]
) -> None:
    """Ansible really connects (to a closed loopback port) and says where."""
    source = tmp_path / "both.ini"
    source.write_text("h1 ansible_host=127.0.0.2 ansible_ssh_host=127.0.0.3 ansible_port=1\n"
                      "h2 ansible_ssh_host=127.0.0.3 ansible_host=127.0.0.2 ansible_port=1\n"
                      "h3 ansible_host=127.0.0.4 ansible_port=1\n")  # fmt: skip
    env = dict(ansible_env["env"], ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_HOST_KEY_CHECKING="0")
    proc = subprocess.run([str(ansible_tool("ansible")), "all", "-i", str(source), "-m", "ping",
                           "-o"], capture_output=True, text=True, check=False, timeout=120,
                          env=env, cwd=ansible_env["cwd"])  # fmt: skip
    tried = {}
    for line in proc.stdout.splitlines():
        name, _, rest = line.partition(" | UNREACHABLE!")
        if rest:
            tried[name] = rest.split("connect to host ")[1].split(" port")[0]
    hosts = load_inventory(source).hosts
    assert tried == {name: host.address for name, host in hosts.items()}
    assert tried["h2"] == "127.0.0.3"
