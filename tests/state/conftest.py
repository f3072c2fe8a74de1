"""Real state directories on disk: each test writes the files it needs under tmp_path/states."""

from __future__ import annotations

from pathlib import Path

import pytest
from statedir import States


@pytest.fixture
def states(tmp_path: Path) -> States:
    root = tmp_path / "states"
    root.mkdir()
    return States(root)
