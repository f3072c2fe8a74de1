"""What a directory inventory reads and skips, and the bundled example."""

from __future__ import annotations

from pathlib import Path

from driftcheck.inventory import load_inventory

EXAMPLE = Path(__file__).parents[2] / "inventories" / "example"


def test_directory_skips_states_templates_and_ignored_files(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nweb1\n")
    for name in ("states/all.yml", "templates/x.j2", "group_vars/web.yml", "notes.md", "a.j2"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("packages:\n  bash: present\n")
    inventory = load_inventory(tmp_path)
    assert list(inventory.hosts) == ["web1"]
    assert inventory.root == tmp_path
    assert inventory.sources == (str(tmp_path / "hosts.ini"), str(tmp_path / "group_vars/web.yml"))
    assert inventory.hosts["web1"].vars["packages"] == {"bash": "present"}


def test_ungrouped_is_a_group_of_the_host() -> None:
    inventory = load_inventory(Path(__file__).parent / "cases" / "diamond" / "hosts.ini")
    assert inventory.hosts["loose"].groups == ("ungrouped",)
    assert inventory.hosts["x1"].groups == ("a", "b", "c2", "c", "d", "e")


def test_example_inventory_audits_this_machine() -> None:
    inventory = load_inventory(EXAMPLE)
    (host,) = inventory.hosts.values()
    assert host.connection == "local"
    assert host.groups == ("workstations",)
    assert host.vars["role"] == "workstation"
