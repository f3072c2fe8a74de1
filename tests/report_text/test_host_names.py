"""A host name from the inventory is one cell of the text table, whatever it holds.

YAML can give a host a name with a newline or a tab in it (INI cannot: a line is a host); the
real CLI loads such an inventory, fails to reach the host (a closed port on loopback), and the
text report shows the name escaped on one line, as the other formats do.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli import driftcheck as _driftcheck

SHOWN = "web\\x0a01\\x09b\\x1bc"


def _inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        'all:\n  hosts:\n    "web\\n01\\tb\\ec":\n      ansible_host: 127.0.0.1\n'
        "      ansible_port: 1\n"
    )
    (tmp_path / "states").mkdir()
    return inventory


def test_a_newline_in_a_host_name_stays_in_its_table_row(tmp_path: Path) -> None:
    scanned = _driftcheck("scan", "-i", str(_inventory(tmp_path)), "--timeout", "10")
    assert scanned.returncode == 2, scanned.stderr  # unreachable
    lines = scanned.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("host "))
    assert lines[header + 2].startswith(f"{SHOWN}  UNREACHABLE  127.0.0.1")
    assert lines[header + 3] == ""  # the row ends the table
    assert f"  1 refused: {SHOWN}" in lines
    assert f"== {SHOWN} (127.0.0.1): UNREACHABLE" in lines
    assert "\t" not in scanned.stdout
    assert "\x1b" not in scanned.stdout


def test_a_newline_in_a_host_name_stays_in_the_inventory_listing(tmp_path: Path) -> None:
    listed = _driftcheck("inventory", "-i", str(_inventory(tmp_path)))
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("web")]
    assert row.startswith(f"{SHOWN}  root@127.0.0.1:1")
