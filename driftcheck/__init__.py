"""driftcheck: find the snowflakes in a fleet.

The library, as a caller uses it (the command line is one such caller, driftcheck.cli):

    from pathlib import Path
    import driftcheck

    inventory = driftcheck.load_inventory("inventories/prod")
    hosts = driftcheck.select_hosts(inventory, "web")
    states_dir = Path("inventories/prod/states")
    states = {h.name: driftcheck.load_declared_state(states_dir, h) for h in hosts}
    options = driftcheck.RunOptions(inventory, states_dir, source="inventories/prod")
    report = driftcheck.run_scan(hosts, states, options)   # a driftcheck.Report document
    print(driftcheck.exit_status(report), report["summary"])

`merge_reports` combines shard reports; `publish` writes one into a report directory (history,
run folders, waivers). Names load on first use, so `import driftcheck` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from driftcheck.version import __version__

# name -> the module that defines it
_API = {
    "run_scan": "driftcheck.pipeline",
    "RunOptions": "driftcheck.pipeline",
    "ScanOptions": "driftcheck.scan",
    "load_inventory": "driftcheck.inventory",
    "select_hosts": "driftcheck.inventory",
    "load_declared_state": "driftcheck.state",
    "merge_reports": "driftcheck.fleet.merge",
    "publish": "driftcheck.nightly.publish",
    "PublishOptions": "driftcheck.nightly.publish",
    "Report": "driftcheck.model.document",
    "read_report": "driftcheck.model.document",
    "exit_status": "driftcheck.model.document",
}
__all__ = [  # the names of _API, written out for the type checkers
    "PublishOptions",
    "Report",
    "RunOptions",
    "ScanOptions",
    "__version__",
    "exit_status",
    "load_declared_state",
    "load_inventory",
    "merge_reports",
    "publish",
    "read_report",
    "run_scan",
    "select_hosts",
]

if TYPE_CHECKING:
    from driftcheck.fleet.merge import merge_reports
    from driftcheck.inventory import load_inventory, select_hosts
    from driftcheck.model.document import Report, exit_status, read_report
    from driftcheck.nightly.publish import PublishOptions, publish
    from driftcheck.pipeline import RunOptions, run_scan
    from driftcheck.scan import ScanOptions
    from driftcheck.state import load_declared_state


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'driftcheck' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)
