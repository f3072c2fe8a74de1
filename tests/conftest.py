"""Fixtures shared across test folders, and the rule that CI skips nothing."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.browser import browser, page, recorder  # noqa: F401 - one session browser for all
from tests.tools import in_ci


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, None]:
    """Under CI=true a skip, whoever raised it, is a failure: CI's machine is set up by
    tests/setup-system.sh, so a test that cannot run there is a broken setup, not an option."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true (a skip in CI is a hidden failure): {reason}"
