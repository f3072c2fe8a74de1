"""Which state files apply to a host, and in which order."""

from __future__ import annotations

from pathlib import Path

from statedir import States, make_host

from driftcheck.state import default_states_dir, state_files_for


def test_order_is_all_then_groups_in_host_order_then_host(states: States) -> None:
    for name in ("web01.yml", "prod.yaml", "all.yml", "web.yml", "db.yml"):
        states.write(name, "{}\n")
    files = state_files_for(states.dir, make_host("web01", ("web", "prod")))
    assert [p.name for p in files] == ["all.yml", "web.yml", "prod.yaml", "web01.yml"]


def test_only_existing_files_and_only_yaml_suffixes(states: States) -> None:
    states.write("web.json", "{}\n")
    states.write("web", "{}\n")
    states.write("prod.yml", "{}\n")
    assert state_files_for(states.dir, make_host()) == [states.dir / "prod.yml"]


def test_group_all_is_not_listed_twice_and_host_ranks_last(states: States) -> None:
    states.write("all.yml", "{}\n")
    states.write("web.yml", "{}\n")
    files = state_files_for(states.dir, make_host("web", ("all", "web")))
    assert [p.name for p in files] == ["all.yml", "web.yml"]


def test_names_that_are_not_file_names_are_skipped(states: States) -> None:
    (states.dir / "x").mkdir()
    states.write("x/y.yml", "{}\n")
    assert state_files_for(states.dir, make_host("x/y", ())) == []


def test_missing_states_dir_gives_no_files(tmp_path: Path) -> None:
    assert state_files_for(tmp_path / "nope", make_host()) == []


def test_default_states_dir_is_beside_the_inventory(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[web]\nweb01\n")
    assert default_states_dir(tmp_path) == tmp_path / "states"
    assert default_states_dir(inventory) == tmp_path / "states"
