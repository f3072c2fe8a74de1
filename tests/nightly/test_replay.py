"""`driftcheck report --run ID`: a recorded run rendered again, from its folder or its history."""

from __future__ import annotations

from pathlib import Path

from driftcheck.nightly.lock import locked_report_dir
from driftcheck.nightly.publish import PublishOptions, publish, recorded

from .reports import finding, host, report


def test_a_pruned_run_is_rebuilt_from_history_with_its_trend(tmp_path: Path) -> None:
    nights = [
        [host("web01"), host("web02", [finding("x")])],
        [host("web01", [finding("y")]), host("web02", [finding("x")])],
        [host("web01", [finding("y")]), host("web02", status="unreachable")],
    ]
    published = []
    for n, hosts in enumerate(nights, 1):
        with locked_report_dir(tmp_path) as root:
            options = PublishOptions(report_dir=tmp_path, keep=1)
            published.append(publish(report(n, hosts), options, root))
    ids = [p["run"]["id"] for p in published]
    assert not (tmp_path / "runs" / ids[1]).exists()
    again = recorded(tmp_path, ids[1], trend=30)
    assert "rebuilt from history.sqlite" in again["run"]["rebuilt"]
    assert {h["name"]: h["status"] for h in again["hosts"]} == {
        "web01": "snowflake", "web02": "snowflake"
    }  # fmt: skip
    assert [(c["host"], c["item"]) for c in again["changes"]["new"]] == [("web01", "y")]
    assert [r["id"] for r in again["history"]["runs"]] == ids[:2]
    assert again["history"]["runs"][-1]["kept"] is False
    assert again["history"]["statuses"] == {"web01": "cs", "web02": "ss"}
    latest = recorded(tmp_path, ids[2], trend=2)  # its folder is kept: its own report.json
    assert "rebuilt" not in latest["run"]
    assert latest["hosts"][0]["findings"][0]["runs"] == 2
    assert latest["history"]["statuses"] == {"web01": "ss", "web02": "su"}
    assert [r["kept"] for r in latest["history"]["runs"]] == [False, True]
