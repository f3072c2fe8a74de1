"""Fixtures shared across test folders."""

from tests.browser import browser, page, recorder  # noqa: F401 - one session browser for all
