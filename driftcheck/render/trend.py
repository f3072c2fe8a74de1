"""The trend chart's geometry: stacked bars of hosts by status and a findings line, one point
per run, computed here so the page draws it as inline SVG with no script and no library.

Only numbers and our own class names leave this module; the run ids and times in the hover
titles are autoescaped by the template like every other value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from driftcheck.model.document import HistoryRun
from driftcheck.model.vocab import WORDS
from driftcheck.render.timeline import STATUS_ORDER, change_summary

WIDTH, HEIGHT = 760.0, 230.0
LEFT, RIGHT, TOP, BOTTOM = 52.0, 52.0, 14.0, 34.0
LABELS = {status.value: said.label for status, said in WORDS.items()}


@dataclass(frozen=True)
class Segment:
    status: str
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    run: HistoryRun
    x: float
    width: float
    segments: tuple[Segment, ...]
    cx: float
    cy: float
    title: str
    href: str | None


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    line: str  # the findings polyline's points
    max_hosts: int
    max_findings: int
    statuses: tuple[str, ...]  # those that occur, bottom to top (the legend)
    summary: str
    first: str
    last: str


def trend_chart(runs: Sequence[HistoryRun]) -> Chart | None:
    """The chart of `runs` (oldest first), or None when there is no past to compare with."""
    if len(runs) < 2:
        return None
    max_hosts = max(1, *(_int(r, "hosts") for r in runs))
    max_findings = max(1, *(_int(r, "findings") for r in runs))
    slot = (WIDTH - LEFT - RIGHT) / len(runs)
    bars = tuple(_bar(run, i, slot, max_hosts, max_findings) for i, run in enumerate(runs))
    occurring = tuple(s for s in STATUS_ORDER if any(_int(r, s) for r in runs))
    return Chart(
        bars=bars,
        line=" ".join(f"{b.cx:.1f},{b.cy:.1f}" for b in bars),
        max_hosts=max_hosts,
        max_findings=max_findings,
        statuses=occurring,
        summary=change_summary(runs),
        first=str(runs[0].get("started") or "")[:10],
        last=str(runs[-1].get("started") or "")[:10],
    )


def _bar(run: HistoryRun, index: int, slot: float, hosts: int, findings: int) -> Bar:
    plot = HEIGHT - TOP - BOTTOM
    x = LEFT + index * slot
    width = max(1.0, slot * 0.72)
    segments = []
    base = HEIGHT - BOTTOM
    for status in STATUS_ORDER:
        height = _int(run, status) / hosts * plot
        if height > 0:
            base -= height
            segments.append(Segment(status, round(base, 2), round(height, 2)))
    cy = HEIGHT - BOTTOM - _int(run, "findings") / findings * plot
    run_id = str(run.get("id") or "")
    href = f"runs/{run_id}/report.html" if run.get("kept") and _plain(run_id) else None
    return Bar(run, x, width, tuple(segments), x + width / 2, cy, _title(run), href)


def _title(run: HistoryRun) -> str:
    counts = ", ".join(f"{_int(run, s)} {s}" for s in STATUS_ORDER if _int(run, s))
    return (
        f"run {run.get('id')} · {run.get('started')} · {_int(run, 'hosts')} hosts: "
        f"{counts or 'none'} · {_int(run, 'findings')} findings"
    )


def _int(run: HistoryRun, key: str) -> int:
    value = run.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _plain(run_id: str) -> bool:
    """A run id that is one path segment (the run folders' own rule)."""
    return bool(run_id) and not run_id.startswith(".") and "/" not in run_id and "\\" not in run_id
