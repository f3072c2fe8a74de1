"""Inventory variables rendered when used: table style, on real files where a file matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.errors import InventoryError, StateError
from driftcheck.model import Host, Unsafe, Vaulted
from driftcheck.state.sources import Renderer
from driftcheck.templating import HostVars

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
    "secret": Vaulted("$ANSIBLE_VAULT;1.1;AES256\n00\n", "group_vars/all.yml", 3, "secret"),
}

RENDERED = [
    ("fqdn", "www.example.org"),
    ("unsafe", "{{ prefix }}"),
    ("listed", ["www", {"deep": "example.org"}]),
    ("prefix", "www"),
]
BROKEN = [
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
