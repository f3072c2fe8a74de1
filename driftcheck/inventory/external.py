"""Inventories that are programs: executable scripts and inventory plugins via ansible-inventory.

Both run on this machine through the local backend's bounded runner: a deadline that kills the
program's whole session and an output cap, as for any command driftcheck runs. A failing
program, or output that is not JSON, stops the run (exit 3) naming the program.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from driftcheck.backends.local import LocalBackend
from driftcheck.backends.options import TransportOptions
from driftcheck.errors import DeadlineError, InventoryError
from driftcheck.inventory.graph import Graph
from driftcheck.inventory.scriptdata import parse_script_data
from driftcheck.inventory.vault import Vault
from driftcheck.inventory.yamldata import load_data
from driftcheck.model import Host

# the per-host deadline and output cap a scan uses by default
OPTIONS = TransportOptions()
PLUGIN_EXTS = (".yml", ".yaml", ".config", ".json")


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
    """A YAML file naming an inventory plugin (`plugin: constructed`, `amazon.aws.aws_ec2`)."""
    if not path.endswith(PLUGIN_EXTS) or os.path.getsize(path) > 1 << 20:
        return False
    try:
        data = load_data(Path(path).read_text(encoding="utf-8"), path)
    except (InventoryError, OSError, UnicodeDecodeError):
        return False
    return isinstance(data, Mapping) and isinstance(data.get("plugin"), str)


def parse_script(graph: Graph, path: str, vault: Vault | None) -> None:
    script = os.path.abspath(path)
    data = _json(path, _run([script, "--list"], path, "inventory script"), vault)

    def host_vars(name: str) -> Any:  # checked by parse_script_data: must be an object
        return _json(path, _run([script, "--host", name], path, "inventory script"), vault)

    parse_script_data(graph, path, data, host_vars)


def parse_plugin_source(graph: Graph, source: str, vault: Vault | None) -> None:
    """The whole source through `ansible-inventory --list`: a plugin such as `constructed`
    works on the hosts the other files of the source declare."""
    tool = ansible_inventory()
    # a source Ansible cannot parse is only a warning to it; here it must stop the run
    strict = ["ANSIBLE_INVENTORY_UNPARSED_FAILED=1", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=1"]
    argv = ["env", *strict, tool, "-i", source, "--list", *(vault.args if vault else ())]
    output = _run(argv, source, "ansible-inventory (inventory plugin configuration)")
    parse_script_data(graph, source, _json(source, output, vault))


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


def _run(argv: Sequence[str], path: str, what: str) -> bytes:
    backend = LocalBackend(Host("localhost"), OPTIONS)
    try:
        result = backend.run(argv, b"", time.monotonic() + OPTIONS.timeout)
    except DeadlineError:
        raise InventoryError(
            path, None, f"{what} still running after {OPTIONS.timeout:g}s"
        ) from None
    if result.truncated:
        raise InventoryError(path, None, f"{what} printed more than {OPTIONS.output_cap} bytes")
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
