from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.nightly.reportdir import ReportDir, open_report_dir


@pytest.fixture
def root(tmp_path: Path) -> Iterator[ReportDir]:
    """tmp_path opened as a report directory."""
    with open_report_dir(tmp_path, create=True) as opened:
        yield opened
