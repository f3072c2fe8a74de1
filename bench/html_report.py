"""Benchmark of the HTML report at 5, 500 and 5,000 hosts x 20 findings, with history.

Generates a synthetic JSON-shaped report (rollout clusters plus per-host drift with diffs),
renders it, and measures in Debian's headless Chromium (driven by Playwright) how long the page
takes until the script has drawn it (`body[data-ready]`), and how long a sort and a free-text
filter take on the whole fleet. Median of 3 fresh page loads.

With `--runs N` (default 60) the largest report also gets N runs of real history first: N
nightly reports of the same fleet (a few hosts changing status each night) are recorded into a
history.sqlite with driftcheck's own History, then the report's trend block is read from it the
way a scan does (`--trend`, default 60, more than the 30 a scan shows). It reports what the trend
adds to a scan: reading history + building the block, and rendering the chart and strips.

    .venv/bin/python bench/html_report.py [--hosts 5 500 5000] [--findings 20] [--runs 60]
        [--trend 60] [--keep DIR]
    .venv/bin/python bench/html_report.py --page REPORT.html   # a real report, as it is
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from driftcheck.model.document import summarize
from driftcheck.nightly.history import History
from driftcheck.nightly.trails import trails
from driftcheck.nightly.trend import history_block
from driftcheck.render.html import render_html
from tests.report_html.chromium import CHROMIUM, CHROMIUM_ARGS

GROUPS = ["web", "app", "db", "cache", "queue", "edge", "batch", "mon", "ci", "dns"]
SIZE_LIMIT_MB = 15.0
READY_LIMIT_MS = 3000.0
TREND_LIMIT_MS = 200.0


def finding(
    category: str, item: str, kind: str, expected: Any, actual: Any, *, diff: str | None = None
) -> dict[str, Any]:
    return {
        "target": "host",
        "category": category,
        "item": item,
        "kind": kind,
        "expected": expected,
        "actual": actual,
        "diff": diff,
        "detail": None,
    }


def config_diff(path: str, host: str, rng: random.Random) -> str:
    lines = [f"--- declared {path}", f"+++ observed {path}", "@@ -1,6 +1,6 @@"]
    for n in range(6):
        if rng.random() < 0.3:
            lines += [
                f"-option_{n} = {n * 10}",
                f"+option_{n} = {n * 10 + rng.randint(1, 9)}  # {host}",
            ]
        else:
            lines.append(f" option_{n} = {n * 10}")
    return "\n".join(lines) + "\n"


def pattern(number: int, count: int) -> list[dict[str, Any]]:
    """A rollout: the same drift on every host that got it."""
    return [
        finding(
            "package", f"acme-lib{number}-{k}", "version", f"2.{k}.0", f"2.{k - 1 if k else 0}.9"
        )
        for k in range(count)
    ]


def unique_drift(host: str, rng: random.Random, count: int) -> list[dict[str, Any]]:
    kinds = [
        lambda k: finding(
            "file",
            f"/etc/app/conf.d/{k}.conf",
            "content",
            "sha256:aa11",
            f"sha256:{rng.getrandbits(64):016x}",
            diff=config_diff(f"/etc/app/conf.d/{k}.conf", host, rng),
        ),
        lambda k: finding("service", f"worker@{k}", "stopped", "running", "stopped"),
        lambda k: finding(
            "package", f"tool-{k}", "unexpected", "absent", f"0.{rng.randint(1, 99)}"
        ),
        lambda k: finding("file", f"/etc/app/{k}.env", "mode", "0640", "0644"),
    ]
    return [kinds[k % len(kinds)](k) for k in range(count)]


def host(index: int, findings: int, rng: random.Random, shared: float) -> dict[str, Any]:
    name = f"{GROUPS[index % len(GROUPS)]}{index:05d}"
    status = "snowflake"
    drift: list[dict[str, Any]] = []
    error = None
    if index % 50 == 7:
        status, error = (
            "unreachable",
            f"ssh: connect to 10.0.{index // 256}.{index % 256}:22: timed out",
        )
    elif index % 100 == 13:
        status, error = "error", "collector packages failed: dpkg-query exited 2"
    elif shared == 0:
        drift = unique_drift(name, rng, findings)
    elif rng.random() < shared:
        drift = pattern(rng.randint(1, 40), findings)
    else:
        drift = pattern(rng.randint(1, 40), findings - 5) + unique_drift(name, rng, 5)
    return {
        "name": name,
        "address": f"10.0.{index // 256}.{index % 256}",
        "groups": [GROUPS[index % len(GROUPS)], "all"],
        "status": status,
        "error": error,
        "duration": round(rng.uniform(0.2, 3), 3),
        "state_files": ["states/all.yml", f"states/{GROUPS[index % len(GROUPS)]}.yml"],
        "facts": {}
        if error
        else {
            "os": "Debian GNU/Linux 12 (bookworm)",
            "os_id": "debian",
            "os_version": "12",
            "kernel": "6.1.0-28-amd64",
            "uptime_seconds": float(rng.randint(1000, 10**7)),
            "provisioned": "2026-08-30T03:00:00+00:00",
            "provisioned_source": "machine-id birth",
            "age_days": float(rng.randint(1, 900)),
            "zombies": 0,
            "pid1": "/sbin/init",
        },
        "findings": drift,
    }


def spread(hosts: list[dict[str, Any]], rng: random.Random, packages: int = 15) -> dict[str, Any]:
    by_group: dict[str, Any] = {}
    for group in GROUPS:
        names = [h["name"] for h in hosts if h["groups"][0] == group]
        if len(names) > 1:
            by_group[group] = {
                f"pkg-{group}-{p}": {
                    n: rng.choice(["1.0-1", "1.0-1", "1.0-1", "1.1-1", None]) for n in names
                }
                for p in range(packages)
            }
    return by_group


def synthetic_report(
    hosts: int, findings: int, shared: float = 0.6, seed: int = 1
) -> dict[str, Any]:
    """`shared`: the share of snowflakes whose drift is only a rollout pattern (0: every
    host's drift is its own, the worst case for size)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    entries = [host(i, findings, rng, shared) for i in range(hosts)]
    return {
        "schema": "driftcheck.report/1",
        "run": {
            "id": "20261128T030000Z-bench",
            "started": "2026-11-28T03:00:00+00:00",
            "finished": "2026-11-28T03:10:00+00:00",
            "duration": 600.0,
            "inventory": "bench",
            "states": "bench/states",
            "limit": None,
            "version": "0.1.0",
        },
        "summary": {},
        "hosts": entries,
        "package_spread": spread(entries, rng),
    }


def nightly(report: dict[str, Any], night: int) -> dict[str, Any]:
    """The fleet on an earlier night: a rotating 2% of hosts unreachable, a few findings fewer."""
    hosts = []
    for index, original in enumerate(report["hosts"]):
        entry = dict(original)
        if (index + night) % 50 == 3:
            entry.update(status="unreachable", error="ssh: connect timed out", findings=[])
        elif entry["status"] == "snowflake" and (index * 7 + night) % 97 == 0:
            entry.update(status="compliant", findings=[])
        hosts.append(entry)
    started = f"2026-{9 + night // 28:02d}-{1 + night % 28:02d}T03:00:00+00:00"
    run = {**report["run"], "id": f"night-{night:03d}", "started": started, "finished": started}
    return {**report, "run": run, "hosts": hosts, "summary": summarize(hosts)}


def with_history(
    report: dict[str, Any], runs: int, trend: int, folder: Path
) -> tuple[dict[str, Any], float, float, float]:
    """`report` with the trend block read from `runs` recorded nights; the seconds recording
    took, reading the trend and building the block took, and reading the trails that
    recording a run adds (the last two are what a scan pays)."""
    path = folder / f"history-{len(report['hosts'])}-{runs}.sqlite"
    path.unlink(missing_ok=True)
    start = time.perf_counter()
    with History(path) as history:
        for night in range(runs):
            history.record(nightly(report, night))
        recorded = time.perf_counter() - start
        names = [str(h["name"]) for h in report["hosts"]]
        start = time.perf_counter()
        trails(history._db, names, None)  # what record() adds: each host's trail so far
        start_read = time.perf_counter()
        past = history.trend(trend - 1, hosts=names)
        block = history_block(report, past.runs, past.statuses, [])
        reading = time.perf_counter() - start_read
        trailing = start_read - start
    return {**report, "history": block}, recorded, reading, trailing


# Click handlers run synchronously, so these time the whole re-draw of the table and sections.
SORT_JS = """() => { const t = performance.now();
  document.querySelector('th[data-col=total] button').click(); return performance.now() - t; }"""
FILTER_JS = """() => { const box = document.getElementById('f-text'); const t = performance.now();
  box.value = 'worker@3'; box.dispatchEvent(new Event('input')); return performance.now() - t; }"""


def measure_page(browser: Any, url: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    wall = (time.perf_counter() - start) * 1000
    ready = float(page.get_attribute("body", "data-ready") or "nan")
    sort = page.evaluate(SORT_JS)
    page.fill("#f-text", "")
    filt = page.evaluate(FILTER_JS)
    context.close()
    return {"wall": wall, "ready": ready, "sort": float(sort), "filter": float(filt)}


def trend_cost(report: dict[str, Any], runs: int, trend: int, out: Path) -> dict[str, Any]:
    """What the trend adds to a scan of this fleet, in seconds."""
    full, recorded, reading, trailing = with_history(report, runs, trend, out)
    bare, rich = [], []
    for _ in range(5):
        start = time.perf_counter()
        render_html(report)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_html(full)
        rich.append(time.perf_counter() - start)
    render_extra = min(rich) - min(bare)  # minimums: the least disturbed of 5 renders each
    return {
        "report": full,
        "recorded": recorded,
        "read": reading,
        "trails": trailing,
        "render_extra": render_extra,
    }


def run(
    sizes: list[int],
    findings: int,
    shared: float,
    keep: Path | None,
    history: tuple[int, int] = (0, 0),
) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the bench needs it

    out = (keep or Path(tempfile.mkdtemp(prefix="driftcheck-bench-"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in sizes:
            report = synthetic_report(n, findings, shared)
            cost: dict[str, Any] = {}
            if history[0] and n == max(sizes):
                cost = trend_cost(report, history[0], history[1], out)
                report = cost.pop("report")
            renders = []
            for _ in range(3):
                start = time.perf_counter()
                page = render_html(report)
                renders.append(time.perf_counter() - start)
            path = out / f"report-{n}-{shared:g}.html"
            path.write_text(page, encoding="utf-8")
            loads = [measure_page(browser, path.as_uri()) for _ in range(3)]
            results.append(
                {
                    "hosts": n,
                    "findings": sum(len(h["findings"]) for h in report["hosts"]),
                    "mb": path.stat().st_size / 1e6,
                    "render": statistics.median(renders),
                    "points": page.count('<circle class="point"'),
                    **cost,
                    **{k: statistics.median(load[k] for load in loads) for k in loads[0]},
                }
            )
        browser.close()
    return results


def measure_existing(path: Path) -> int:
    """Loads a report a scan wrote (e.g. `make bench`'s 5,000 farm hosts), 3 times."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the bench needs it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        loads = [measure_page(browser, path.resolve().as_uri()) for _ in range(3)]
        browser.close()
    got = {k: statistics.median(load[k] for load in loads) for k in loads[0]}
    print(
        f"{path}: {path.stat().st_size / 1e6:.2f} MB; load {got['wall']:.0f} ms "
        f"(ready at {got['ready']:.0f} ms), sort {got['sort']:.0f} ms, filter "
        f"{got['filter']:.0f} ms; medians of 3 (target: load < {READY_LIMIT_MS:.0f} ms)"
    )
    return 0 if got["wall"] <= READY_LIMIT_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[5, 500, 5000])
    parser.add_argument("--findings", type=int, default=20)
    parser.add_argument(
        "--shared",
        type=float,
        default=0.6,
        help="share of snowflakes with rollout drift only (0: all unique)",
    )
    parser.add_argument("--keep", type=Path, help="keep the rendered pages in this folder")
    parser.add_argument("--runs", type=int, default=60, help="runs of history (0: none)")
    parser.add_argument("--trend", type=int, default=60, help="runs in the trend (scan: 30)")
    parser.add_argument("--page", type=Path, help="measure this report.html instead")
    args = parser.parse_args()
    if args.page:
        return measure_existing(args.page)
    results = run(args.hosts, args.findings, args.shared, args.keep, (args.runs, args.trend))
    print(
        f"{'hosts':>6} {'findings':>9} {'size MB':>8} {'render s':>9} {'ready ms':>9} "
        f"{'load ms':>8} {'sort ms':>8} {'filter ms':>10}"
    )
    for r in results:
        print(
            f"{r['hosts']:>6} {r['findings']:>9} {r['mb']:>8.2f} {r['render']:>9.2f} "
            f"{r['ready']:>9.0f} {r['wall']:>8.0f} {r['sort']:>8.0f} {r['filter']:>10.0f}"
        )
    print(
        "ready: performance.now() when the script has drawn the page (from navigation start);"
        " load: wall clock from goto to body[data-ready]; medians of 3"
    )
    worst = max(results, key=lambda r: r["hosts"])
    ok = worst["mb"] <= SIZE_LIMIT_MB and worst["wall"] <= READY_LIMIT_MS
    if "read" in worst:
        added = (worst["read"] + worst["trails"] + max(0.0, worst["render_extra"])) * 1000
        print(
            f"history: {args.runs} runs recorded in {worst['recorded']:.1f} s; "
            f"trend of {worst['points']} points: read + block {worst['read'] * 1000:.0f} ms, "
            f"trails at record {worst['trails'] * 1000:.0f} ms, "
            f"chart and strips render +{worst['render_extra'] * 1000:.0f} ms; "
            f"a scan pays {added:.0f} ms (target < {TREND_LIMIT_MS:.0f} ms)"
        )
        ok = ok and added < TREND_LIMIT_MS
    print(
        f"targets (<= {SIZE_LIMIT_MB} MB, interactive <= {READY_LIMIT_MS / 1000:.0f} s):",
        "met" if ok else "MISSED",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
