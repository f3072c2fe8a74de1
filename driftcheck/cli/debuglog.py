"""Where library logging goes: never to stderr, which cron mails.

paramiko logs a host that never sends a banner as "Exception (client): Error reading SSH
protocol banner" with a traceback, from its transport thread; with no handler configured,
Python's last-resort handler prints that on stderr even under --quiet. What a user needs to know
about a host is in the report (the host's status and error); the libraries' own account goes to
a debug log, and only when one is asked for (`scan --debug-log FILE`).
"""

from __future__ import annotations

import logging
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def route_logging(debug_log: Path | None = None) -> None:
    """Every logger (paramiko's and any other) to `debug_log` at DEBUG, or nowhere; Python
    warnings too. Replaces whatever handlers the root logger had."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    if debug_log is None:
        root.addHandler(logging.NullHandler())  # keeps logging's last resort (stderr) unused
        root.setLevel(logging.CRITICAL + 1)
    else:
        handler = logging.FileHandler(debug_log, encoding="utf-8")
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)
