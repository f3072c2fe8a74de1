"""`driftcheck history` and `driftcheck diff` as text: the recorded runs as a table, and what
changed between two runs."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from driftcheck.model.document import HistoryRow, RunDiff
from driftcheck.model.vocab import STATUSES
from driftcheck.render.text import clean
from driftcheck.render.timeline import strip_legend

HISTORY_COLUMNS = ("id", "started", "hosts", *STATUSES, "findings", "new", "resolved")
DIFF_COLUMNS = ("host", "target", "category", "item", "kind", "expected", "actual")


def history_text(rows: Sequence[HistoryRow], host: str | None, strip: str) -> str:
    """The runs, newest first; with a host, its status in each and its strip over them."""
    columns = HISTORY_COLUMNS + (("host", "status") if host else ())
    table = [[row.get(c) for c in columns] for row in rows]
    head = ""
    if strip:
        head = f"{clean(host)} over the last {len(strip)} runs, oldest first: {strip}\n"
        head += f"({strip_legend(strip)})\n\n"
    return head + tabulate(table, headers=list(columns)) + "\n"


def diff_text(changes: RunDiff) -> str:
    lines = [f"{changes['previous_run']} -> {changes['run']}: {changes['line']}"]
    parts = (("new", changes["new"]), ("resolved", changes["resolved"]),
             ("carried", changes["carried"]))  # fmt: skip
    for label, found in parts:
        rows = [
            [
                clean(f.get("host")),
                f["target"],
                f["category"],
                clean(f["item"]),
                f["kind"],
                clean(f.get("expected")),
                clean(f.get("actual")),
            ]
            for f in found
        ]
        if rows:
            lines += ["", f"{label}:", tabulate(rows, headers=list(DIFF_COLUMNS))]
    return "\n".join(lines) + "\n"
