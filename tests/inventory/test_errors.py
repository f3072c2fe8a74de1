"""Broken inventories: one InventoryError naming the file and the line, table style."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.errors import InventoryError
from driftcheck.inventory import load_inventory

# (name, {file: content}, source given to load_inventory, file in the message, line, words)
CASES: list[tuple[str, dict[str, str], str, str, int | None, str]] = [
    ("host line without =", {"h.ini": "[web]\nweb01 novalue\n"}, "h.ini", "h.ini", 2,
     "key=value"),
    ("; is no inline comment", {"h.ini": "web01 ; note\n"}, "h.ini", "h.ini", 1, "key=value"),
    ("unequal range widths", {"h.ini": "[w]\nweb[01:2]\n"}, "h.ini", "h.ini", 2, "equal-length"),
    ("range without end", {"h.ini": "web[1:]\n"}, "h.ini", "h.ini", 1, "end value"),
    ("range with 4 parts", {"h.ini": "web[1:2:3:4]\n"}, "h.ini", "h.ini", 1, "begin:end"),
    ("range not closed", {"h.ini": "web[1:3\n"}, "h.ini", "h.ini", 1, "closing"),
    ("range not numbers", {"h.ini": "web[a:3]\n"}, "h.ini", "h.ini", 1, "bad host range"),
    ("group its own ancestor", {"h.ini": "[a:children]\nb\n[b:children]\na\n"}, "h.ini",
     "h.ini", 4, "loop"),
    ("group its own child", {"h.ini": "[a:children]\na\n"}, "h.ini", "h.ini", 2, "itself"),
    ("unknown section suffix", {"h.ini": "[web]\nweb01\n[web:nonsense]\nx\n"}, "h.ini",
     "h.ini", 3, "unknown type"),
    ("vars for a group never declared", {"h.ini": "h1\n[ghost:vars]\nx=1\n"}, "h.ini",
     "h.ini", 2, "never declared"),
    ("child never declared", {"h.ini": "h1\n[p:children]\nghost\n"}, "h.ini", "h.ini", 3,
     "'ghost'"),
    ("vars line without =", {"h.ini": "[w]\nh\n[w:vars]\nnovalue\n"}, "h.ini", "h.ini", 4,
     "key=value"),
    ("space in section", {"h.ini": "[web servers]\nh\n"}, "h.ini", "h.ini", 1, "section"),
    ("host ending in colon", {"h.ini": "web01:\n"}, "h.ini", "h.ini", 1, "port"),
    ("unbalanced quote", {"h.ini": 'web01 a="x\n'}, "h.ini", "h.ini", 1, "split"),
    ("priority not a number", {"h.ini": "[g]\nh\n[g:vars]\nansible_group_priority=high\n"},
     "h.ini", "h.ini", 4, "integer"),
    ("bad YAML", {"h.yml": "all:\n  hosts:\n    a: [1,\n  b\n"}, "h.yml", "h.yml", 5,
     "started on line 3"),
    ("YAML unknown group key", {"h.yml": "all:\n  host:\n    a:\n"}, "h.yml", "h.yml", 2,
     "'host'"),
    ("YAML group loop", {"h.yml": "a:\n  children:\n    b:\n      children:\n        a:\n"},
     "h.yml", "h.yml", 3, "loop"),  # edge a->b closes it: b->a is made first, as in Ansible
    ("YAML bad range", {"h.yml": "g:\n  hosts:\n    ok:\n    web[3:]:\n"}, "h.yml", "h.yml",
     4, "end value"),
    ("YAML list, not groups", {"h.yml": "- a\n- b\n"}, "h.yml", "h.yml", 1, "mapping"),
    ("YAML plugin config", {"h.yml": "plugin: aws_ec2\n"}, "h.yml", "h.yml", None, "plugin"),
    ("group_vars bad YAML", {"h.ini": "[web]\nh\n", "group_vars/web.yml": "a: 1\nb: [\n"},
     "h.ini", "group_vars/web.yml", 3, "bad YAML"),
    ("group_vars not a mapping", {"h.ini": "h\n", "group_vars/all.yml": "- 1\n"}, "h.ini",
     "group_vars/all.yml", 1, "mapping"),
    ("group_vars impossible date", {"h.ini": "[web]\nh\n", "group_vars/web.yml":
     "a: 1\nborn: 2099-13-45\n"}, "h.ini", "group_vars/web.yml", 2, "not a valid date"),
    ("host_vars alias bomb", {"h.ini": "h\n", "host_vars/h.yml": "x:\n" + "".join(
        f"  - &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 9)}]\n" for n in range(9))},
     "h.ini", "host_vars/h.yml", 8, "alias bomb"),
    ("host_vars JSON nested 100,000 deep", {"h.ini": "h\n", "host_vars/h.json":
     '{"a":\n' + "[" * 100_000 + "]" * 100_000 + "}"}, "h.ini", "host_vars/h.json", 2,
     "nest"),
    ("YAML inventory impossible date", {"h.yml": "all:\n  vars:\n    d: 2026-02-30\n"},
     "h.yml", "h.yml", 3, "not a valid date"),
    ("empty file", {"h.ini": "# nothing\n"}, "h.ini", "h.ini", None, "no hosts"),
    ("absent file", {}, "nope.ini", "nope.ini", None, "not found"),
    ("empty directory", {"inv/.keep": ""}, "inv", "inv", None, "no hosts"),
]  # fmt: skip


@pytest.mark.parametrize(("files", "source", "where", "line", "words"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])  # fmt: skip
def test_error_names_file_and_line(
    tmp_path: Path, files: dict[str, str], source: str, where: str, line: int | None, words: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / source)
    prefix = f"{tmp_path / where}:{line}: " if line else f"{tmp_path / where}: "
    assert str(caught.value).startswith(prefix), str(caught.value)
    assert words in caught.value.message
