"""The report over time as the formats read it: the `history` block's runs and host strips
(built when the report is published, driftcheck.nightly.trend), their legend and summary."""

from __future__ import annotations

from collections.abc import Sequence

from driftcheck.model.document import HistoryRun, Report
from driftcheck.model.vocab import ABSENT, LETTERS, STATUS_OF_LETTER, STATUSES

# One letter per status (model.vocab); `ABSENT`: the host was not in that run (a --limit run,
# or not yet in the inventory).
STATUS_CODES = LETTERS
CODE_STATUS = STATUS_OF_LETTER
# Bottom to top in the chart; the not-audited statuses stacked last, where they catch the eye.
STATUS_ORDER = STATUSES


def runs_of(report: Report) -> list[HistoryRun]:
    """The trend's runs, oldest first; none without history."""
    block = report.get("history")
    return [] if block is None else list(block["runs"])


def strip_of(report: Report, host: str) -> str | None:
    """The host's status letters over the trend's runs; None without history."""
    block = report.get("history")
    return None if block is None else block["statuses"].get(host)


def strip_legend(strip: str) -> str:
    """ "c compliant, s snowflake, - not in that run": the letters that occur, explained."""
    present = [code for code in (*STATUS_CODES.values(), ABSENT, "?") if code in strip]
    names = {**CODE_STATUS, ABSENT: "not in that run", "?": "other status"}
    return ", ".join(f"{code} {names[code]}" for code in present)


def change_summary(runs: Sequence[HistoryRun]) -> str:
    """ "snowflakes 12 → 9, not audited 3 → 0, findings 40 → 31 over 30 runs"."""
    if not runs:
        return ""
    first, last = runs[0], runs[-1]
    parts = [
        f"snowflakes {_n(first, 'snowflake')} → {_n(last, 'snowflake')}",
        f"compliant {_n(first, 'compliant')} → {_n(last, 'compliant')}",
        f"not audited {_not_audited(first)} → {_not_audited(last)}",
        f"findings {_n(first, 'findings')} → {_n(last, 'findings')}",
    ]
    plural = "run" if len(runs) == 1 else "runs"
    return ", ".join(parts) + f" over {len(runs)} {plural}"


def _n(run: HistoryRun, key: str) -> int:
    value = run.get(key)
    return value if isinstance(value, int) else 0


def _not_audited(run: HistoryRun) -> int:
    return _n(run, "unreachable") + _n(run, "error")
