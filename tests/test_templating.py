"""Inventory variables rendered when used: table style, on real files where a file matters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftcheck.errors import InventoryError, StateError
from driftcheck.inventory import load_inventory
from driftcheck.model import Host, Unsafe, Vaulted
from driftcheck.state.sources import Renderer
from driftcheck.templating import HostVars
from tests.cli import driftcheck, write

RAW = {
    "inventory_hostname": "web1",
    "prefix": "www",
    "fqdn": "{{ prefix }}.{{ zone }}",
    "zone": "{{ 'example' }}.org",
    "loop": "{{ loop }}",
    "ring_a": "{{ ring_b }}",
    "ring_b": "{{ ring_a }}",
    "missing": "{{ nosuch }}",
    "unsafe": Unsafe("{{ prefix }}"),
    "listed": ["{{ prefix }}", {"deep": "{{ zone }}"}],
    "include": "{% include '/etc/passwd' %}",
    "escape": "{{ ''.__class__.__mro__ }}",
    "pipe": "{{ lookup('pipe', 'id') }}",
    "home": "{{ '~' | expanduser }}",
    "glob": "{{ '/etc/*' | fileglob }}",
    "secret": Vaulted("$ANSIBLE_VAULT;1.1;AES256\n00\n", "group_vars/all.yml", 3, "secret"),
}

RENDERED = [
    ("fqdn", "www.example.org"),
    ("unsafe", "{{ prefix }}"),
    ("listed", ["www", {"deep": "example.org"}]),
    ("prefix", "www"),
]
BROKEN = [
    ("pipe", "lookup('pipe') is refused: lookups read files, the environment or run commands"),
    ("home", "filter or test 'expanduser' is refused: it reads this machine's environment"),
    ("glob", "filter or test 'fileglob' is refused: it reads this machine's files"),
    ("loop", "recursive loop"),
    ("ring_a", "recursive loop"),
    ("missing", "'nosuch' is undefined"),
    ("include", "variable 'include'"),
    ("escape", "variable 'escape'"),
]


@pytest.mark.parametrize(("key", "expected"), RENDERED)
def test_rendered_when_read(key: str, expected: object) -> None:
    assert HostVars(RAW, "hosts.ini")[key] == expected


@pytest.mark.parametrize(("key", "words"), BROKEN)
def test_what_cannot_render_names_the_variable(key: str, words: str) -> None:
    with pytest.raises(InventoryError, match=f"hosts.ini: variable '{key}'") as caught:
        HostVars(RAW, "hosts.ini")[key]
    assert words in str(caught.value)


def test_hosts_compare_without_rendering() -> None:
    one, two = (Host("web1", (), HostVars(RAW, "hosts.ini")) for _ in range(2))
    assert one == two


def test_a_state_template_reads_variables_lazily_and_vaulted_ones_are_defined(
    tmp_path: Path,
) -> None:
    (tmp_path / "ok.yml").write_text("a: {{ fqdn }}\nb: {{ secret is defined }}\n")
    (tmp_path / "bad.yml").write_text("a: 1\nb: {{ secret }}\n")
    renderer = Renderer(tmp_path, HostVars(RAW, "hosts.ini"))
    assert renderer.render(tmp_path / "ok.yml") == "a: www.example.org\nb: True\n"
    with pytest.raises(StateError, match=r"bad\.yml:2: .*variable 'secret' is vault-encrypted"):
        renderer.render(tmp_path / "bad.yml")


def test_a_reason_never_shows_a_vault_secret() -> None:
    raw = {"password": "s3cret-pw", "url": "{{ nothing | mandatory(password) }}"}
    with pytest.raises(InventoryError) as caught:
        HostVars(raw, "hosts.ini", secrets={"s3cret-pw"})["url"]
    assert "s3cret-pw" not in str(caught.value)
    assert "variable 'url': <secret>" in str(caught.value)


def test_a_state_template_sees_groups_and_hostvars(tmp_path: Path) -> None:
    inv = write(tmp_path / "hosts.ini", "[web]\nweb1 port=81\nweb2 port=82\n")
    write(
        tmp_path / "states" / "web.yml",
        "{% for h in groups['web'] %}# {{ hostvars[h].port }}\n{% endfor %}",
    )
    inventory = load_inventory(inv)
    renderer = Renderer(tmp_path / "states", inventory.hosts["web1"].vars)
    assert renderer.render(tmp_path / "states" / "web.yml") == "# 81\n# 82\n"


LAZY = """
import sys
from driftcheck.inventory import load_inventory
from driftcheck.inventory.hostvars import plain_vars
print(plain_vars(load_inventory(sys.argv[1]).hosts["h"]), "ansible" in sys.modules)
"""


@pytest.mark.parametrize(
    ("template", "loads_ansible"),
    [("{{ 'a' | upper }}", False), ("{{ 'a' | regex_replace('a', 'b') }}", True)],
)
def test_ansible_filters_load_only_for_a_name_jinja2_does_not_know(
    tmp_path: Path, template: str, loads_ansible: bool
) -> None:
    pytest.importorskip("ansible")
    inv = write(tmp_path / "hosts.yml", json.dumps({"all": {"hosts": {"h": {"x": template}}}}))
    out = subprocess.run([sys.executable, "-c", LAZY, str(inv)], capture_output=True, text=True,
                         check=True, timeout=120).stdout  # fmt: skip
    assert out.split()[-1] == str(loads_ansible)


SCAN_INVENTORY = """\
good ansible_connection=local
facts ansible_connection=local
route ansible_connection="{{ connection_from_a_role }}"
[needs_facts]
facts
[needs_facts:vars]
family="{{ ansible_facts['os_family'] | lower }}"
"""


def test_a_scan_fails_only_the_hosts_that_need_a_variable_it_cannot_render(
    tmp_path: Path,
) -> None:
    inv = write(tmp_path / "hosts.ini", SCAN_INVENTORY)
    write(tmp_path / "states" / "all.yml", "packages:\n  dpkg: present\n")
    state = write(
        tmp_path / "states" / "needs_facts.yml", "packages:\n  '{{ family }}-x': absent\n"
    )
    proc = driftcheck("scan", "-i", str(inv), "--format", "json")
    assert proc.returncode != 3, proc.stderr
    hosts = {h["name"]: h for h in json.loads(proc.stdout)["hosts"]}
    assert hosts["good"]["status"] != "error"
    assert hosts["facts"]["status"] == hosts["route"]["status"] == "error"
    assert (
        f"{state}:1: template error: variable 'family': 'ansible_facts' is undefined"
        == (hosts["facts"]["error"])
    )  # Jinja2 reads a template's variables at its start: the line is its first
    assert f"{inv}: variable 'ansible_connection'" in hosts["route"]["error"]
    assert hosts["route"]["address"] == "route"


def test_inventory_vars_shows_what_cannot_be_rendered_as_written_with_the_reason(
    tmp_path: Path,
) -> None:
    inv = write(tmp_path / "hosts.ini", SCAN_INVENTORY)
    proc = driftcheck("inventory", "-i", str(inv), "-l", "facts", "--vars")
    assert proc.returncode == 0, proc.stderr
    assert (
        "  family = \"{{ ansible_facts['os_family'] | lower }}\"  (not rendered: "
        f"{inv}: variable 'family': 'ansible_facts' is undefined)\n"
    ) in proc.stdout


def test_another_hosts_variable_of_the_same_name_is_no_loop(tmp_path: Path) -> None:
    inv = write(
        tmp_path / "hosts.ini", "a\nb x='{{ y }}' y=B\n[all:vars]\nx=\"{{ hostvars['b'].x }}-a\"\n"
    )
    hosts = load_inventory(inv).hosts
    assert hosts["a"].vars["x"] == "B-a"
