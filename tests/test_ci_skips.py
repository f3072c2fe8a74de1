"""Under CI=true no test may skip: a missing tool is a broken tests/setup-system.sh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SKIPPING = """\
import pytest
from tests.tools import require_tools

def test_plain_skip():
    pytest.skip("no such tool")

@pytest.mark.skipif(True, reason="marker")
def test_marker_skip():
    pass

def test_missing_tool():
    require_tools("no-such-tool-anywhere")
"""


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    test = ROOT / "tests" / f"test_zz_ci_probe_{os.getpid()}.py"
    test.write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    try:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        test.unlink()


def test_every_kind_of_skip_fails_in_ci(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert "skipped" not in last, last
    failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert len(failed) == 3, proc.stdout  # a skip in setup (a marker) shows as an error


def test_outside_ci_they_skip(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, None)
    assert proc.stdout.strip().splitlines()[-1].startswith("3 skipped"), proc.stdout
