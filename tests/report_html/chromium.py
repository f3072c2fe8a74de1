"""How Debian's chromium is launched here, for the browser tests and bench/html_report.py.

Without the background-networking flags chromium keeps dialling Google's hosts, which this
closed network refuses; the page under test must make no request of its own either.
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
