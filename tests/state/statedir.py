"""Helpers for state tests: a real states directory on disk (no mocks)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import StateError
from driftcheck.model import DeclaredState, Host
from driftcheck.state import load_declared_state

HOST_VARS = {"inventory_hostname": "web01", "group_names": ["web", "prod"], "port": 8080}


def make_host(name: str = "web01", groups: tuple[str, ...] = ("web", "prod"), **extra: Any) -> Host:
    return Host(name, groups, {**HOST_VARS, "inventory_hostname": name, **extra})


class States:
    """A states directory: write files, load a host's state, or expect an error at file:line."""

    def __init__(self, root: Path) -> None:
        self.dir = root

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def load(self, host: Host | None = None) -> DeclaredState:
        return load_declared_state(self.dir, host or make_host())

    def error(self, name: str, line: int | None, *fragments: str, host: Host | None = None) -> str:
        """Loading fails with `<states>/<name>:<line>: ...` containing every fragment."""
        with pytest.raises(StateError) as caught:
            self.load(host)
        message = str(caught.value)
        where = f"{self.dir / name}:{line}: " if line else f"{self.dir / name}: "
        assert message.startswith(where), message
        for fragment in fragments:
            assert fragment in message, message
        return message
