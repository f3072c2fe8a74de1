"""Inventories that are programs: executable scripts and inventory plugins via ansible-inventory.

Both run within bounds (driftcheck.inventory.programs): a time limit that kills the program's
whole session and an output cap. A failing program, or output that is not JSON, stops the run
(exit 3) naming the program.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.inventory.graph import Graph
from driftcheck.inventory.programs import INVENTORY_OUTPUT_CAP, run_program
from driftcheck.inventory.scriptdata import parse_script_data
from driftcheck.inventory.vault import Vault
from driftcheck.inventory.yamldata import load_data

# Ansible's `auto` plugin, enabled by default, reads a plugin configuration from these only
PLUGIN_EXTS = (".yml", ".yaml")
# Ansible's defaults, given to ansible-inventory so that it reads the files driftcheck reads
# whatever an ansible.cfg says: the enabled plugins and the ignored extensions
ENABLED_PLUGINS = "host_list,script,auto,yaml,ini,toml"
IGNORED_EXTS = ".pyc,.pyo,.swp,.bak,~,.rpm,.md,.txt,.rst,.orig,.cfg,.retry"


def is_script(path: str) -> bool:
    """Ansible runs any executable file; a text file without `#!` cannot run, and Ansible
    then reads it as INI or YAML: so only an executable file starting with `#!` is a script."""
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def is_plugin_config(path: str) -> bool:
    """A YAML file naming an inventory plugin (`plugin: constructed`, `amazon.aws.aws_ec2`)
    where Ansible's `auto` plugin reads one."""
    return path.endswith(PLUGIN_EXTS) and names_a_plugin(path)


def names_a_plugin(path: str) -> bool:
    """The file is a YAML (or JSON) mapping with a `plugin` key: a plugin configuration."""
    try:
        if os.path.getsize(path) > 1 << 20:
            return False
        raw = Path(path).read_bytes()
        data = load_data(raw.decode("utf-8"), path) if b"plugin" in raw else None
    except (InventoryError, OSError, UnicodeDecodeError):
        return False
    return isinstance(data, Mapping) and isinstance(data.get("plugin"), str)


def parse_script(graph: Graph, path: str, vault: Vault | None, timeout: float) -> None:
    script = os.path.abspath(path)
    data = _json(path, _run([script, "--list"], path, "inventory script", timeout), vault)

    def host_vars(name: str) -> Any:  # checked by parse_script_data: must be an object
        output = _run([script, "--host", name], path, "inventory script", timeout)
        return _json(path, output, vault)

    parse_script_data(graph, path, data, host_vars)


def parse_plugin_sources(
    graph: Graph,
    sources: Sequence[str],
    vault: Vault | None,
    timeout: float,
    skipped: Iterable[str] = (),
) -> None:
    """The whole sources through `ansible-inventory --list`: a plugin such as `constructed`
    works on the hosts the other files declare. The names driftcheck skips in a directory
    (its states/, the files it warned about) are ignored there too."""
    tool = ansible_inventory()
    settings = {
        # a source Ansible cannot parse is only a warning to it; here it must stop the run
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_INVENTORY_ENABLED": ENABLED_PLUGINS,
        "ANSIBLE_INVENTORY_IGNORE": IGNORED_EXTS,
        "ANSIBLE_INVENTORY_IGNORE_REGEX": ",".join(ignore_patterns(skipped)),
    }
    names = ", ".join(sources)
    argv = ["env", *(f"{k}={v}" for k, v in settings.items()), tool]
    argv += [arg for source in sources for arg in ("-i", source)]
    argv += ["--list", *(vault.args if vault else ())]
    output = _run(argv, names, "ansible-inventory (inventory plugin configuration)", timeout)
    parse_script_data(graph, names, _json(names, output, vault))


def ignore_patterns(skipped: Iterable[str]) -> list[str]:
    """Regular expressions for ANSIBLE_INVENTORY_IGNORE_REGEX matching exactly these entry
    names: every byte but a letter or digit written as `\\xNN` (the setting is a list split
    at commas and stripped; Ansible matches bytes)."""
    always = [r"^states$", r"^templates$", r"\.j2$"]
    exact = ["^" + re.sub(rb"[^A-Za-z0-9]", _hex, os.fsencode(n)).decode() + "$" for n in skipped]
    return always + exact


def _hex(match: re.Match[bytes]) -> bytes:
    return b"\\x%02x" % match.group()[0]


def ansible_inventory() -> str:
    found = shutil.which("ansible-inventory")
    beside = Path(sys.executable).parent / "ansible-inventory"
    if found:
        return found
    if beside.exists():
        return str(beside)
    raise InventoryError(
        "ansible-inventory",
        None,
        "inventory plugin configurations are read by ansible-core's ansible-inventory, "
        "which is not installed (pip install ansible-core)",
    )


def _run(argv: Sequence[str], path: str, what: str, timeout: float) -> bytes:
    result = run_program(argv, path, what, timeout, INVENTORY_OUTPUT_CAP)
    if result.rc != 0:
        raise InventoryError(path, None, f"{what} failed (exit {result.rc}){_last(result.stderr)}")
    return result.stdout


def _last(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return f": {lines[-1][:300]}" if lines else ""


def _json(path: str, output: bytes, vault: Vault | None) -> Any:
    try:
        text = output.decode("utf-8")
        json.loads(text)  # JSON only: the script protocol is not YAML
    except (UnicodeDecodeError, ValueError) as exc:
        raise InventoryError(path, None, f"inventory output is not JSON: {exc}") from None
    return load_data(text, path, vault)
