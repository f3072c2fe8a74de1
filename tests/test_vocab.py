"""Every host status, named once in model/vocab.py, reaches every format: the text report, the
HTML page (its data, marks and trend legend), JUnit, Prometheus, the history table of
`driftcheck history` and the trend. A status added to the vocabulary and forgotten in one of
them fails here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.model.vocab import (
    CATEGORIES,
    LETTERS,
    NOT_AUDITED,
    STATUS_OF_LETTER,
    STATUSES,
    WORDS,
    Status,
)
from driftcheck.nightly.publish import PublishOptions, publish
from driftcheck.nightly.reportdir import open_report_dir
from driftcheck.render.formats import render
from tests.nightly.reports import finding, host, report

ROOT = Path(__file__).resolve().parents[1]


def _host(status: Status) -> dict[str, Any]:
    name = f"{status.value}01"
    if status is Status.SNOWFLAKE:
        return host(name, [finding("telnetd")])
    if status is Status.ERROR:
        unknown = finding("*", "file", "unknown", expected="checked", actual=None)
        return host(name, [unknown], status="error", error="deadline passed")
    return host(name, status=status.value, error="refused" if not WORDS[status].audited else None)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Two nights, one host in each status both times, published into a report directory."""
    reports = tmp_path_factory.mktemp("vocab") / "reports"
    hosts = [_host(status) for status in Status]
    options = PublishOptions(report_dir=reports)
    last: dict[str, Any] = {}
    for night in (1, 2):
        with open_report_dir(reports, create=True) as root:
            last = dict(publish(report(night, hosts), options, root))
    return reports, last


def test_the_vocabulary_is_whole() -> None:
    assert list(WORDS) == list(Status)
    assert len(set(LETTERS.values())) == len(Status)  # a letter names one status
    assert {STATUS_OF_LETTER[LETTERS[s]] for s in STATUSES} == set(STATUSES)
    assert set(NOT_AUDITED) == {s.value for s, w in WORDS.items() if not w.audited}
    assert len({w.mark for w in WORDS.values()}) == len({w.symbol for w in WORDS.values()}) == 5
    assert CATEGORIES == ("package", "file", "service", "host", "container")


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_every_status_in_every_format(
    published: tuple[Path, dict[str, Any]], status: Status
) -> None:
    reports, doc = published
    name, said = f"{status.value}01", WORDS[status]
    assert doc["summary"][status.value] == 1

    text = render("text", doc)
    (row,) = [line for line in text.splitlines() if line.startswith(name)]
    assert said.mark in row.split()

    page = render("html", doc)
    data = json.loads(page.split('id="report-data"')[1].split(">", 1)[1].split("</script>")[0])
    assert data["marks"][status.value] == said.symbol
    assert status.value in data["statuses"]
    assert data["codes"][said.letter] == status.value
    (packed,) = [h for h in data["hosts"] if h[data["host_columns"].index("name")] == name]
    assert packed[data["host_columns"].index("status")] == status.value
    assert packed[data["host_columns"].index("strip")] == said.letter * 2
    assert said.label in page  # the trend chart's legend

    junit = render("junit", doc)
    assert f'name="{name}' in junit or f'classname="{name}' in junit

    metrics = render("prometheus", doc)
    assert f'driftcheck_hosts{{status="{status.value}"}} 1' in metrics
    assert f'driftcheck_host_status{{host="{name}",status="{status.value}"}} 1' in metrics

    assert doc["history"]["statuses"][name] == said.letter * 2
    assert [run[status.value] for run in doc["history"]["runs"]] == [1, 1]

    table = _driftcheck("history", "--report-dir", str(reports))
    header = table.splitlines()[0].split()
    assert status.value in header, header
    assert all(line.split()[header.index(status.value)] == "1" for line in table.splitlines()[2:])


def _driftcheck(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "driftcheck", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
