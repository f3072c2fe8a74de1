"""The one way a test says "this machine lacks what I need".

Outside CI that is a skip, so a developer without root or chromium can run the rest. Under
`CI=true` it is a failure: CI installs everything through tests/setup-system.sh, so a missing
tool there is a broken setup script, and a skipped test would hide it.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI (a skipped test in CI is a hidden failure)."""
    if in_ci():
        pytest.fail(f"{reason} - CI must run this test (tests/setup-system.sh installs its tools)")
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """`unavailable(reason)` unless `condition` holds."""
    if not condition:
        unavailable(reason)


def require_root() -> None:
    require(os.geteuid() == 0, "needs root")


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    require(not missing, f"{', '.join(missing)} not installed (tests/setup-system.sh)")
