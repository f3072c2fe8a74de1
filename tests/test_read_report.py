"""A saved report read back (`driftcheck report`, `merge`, a kept run) is checked against the
schema and against itself: what breaks either is exit 3 naming the file and the field.

The base is a real report, `driftcheck scan` of the example inventory, saved to a real file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import InputError
from driftcheck.model.document import read_report
from tests.cli import ROOT, driftcheck

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def scanned() -> Doc:
    proc = driftcheck("scan", "-i", str(ROOT / "inventories" / "example"), "--format", "json")
    report: Doc = json.loads(proc.stdout)
    assert report["hosts"][0]["findings"], "the example host is a snowflake"
    return report


def saved(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.json"
    path.write_text(text)
    return path


def test_a_report_reads_back_as_it_was_written(tmp_path: Path, scanned: Doc) -> None:
    assert read_report(saved(tmp_path, json.dumps(scanned))) == scanned


def _older(report: Doc) -> None:  # before causes, digests and shards were written
    del report["hosts"][0]["cause"], report["run"]["inventory_digest"], report["run"]["shard"]


def _newer(report: Doc) -> None:  # fields a later driftcheck adds within schema version 1
    report["appendix"] = {"notes": [{"a": [1, 2.5, None, True]}]}
    report["hosts"][0]["owner"] = "team-web"


def _all_waived(report: Doc) -> None:
    host = report["hosts"][0]
    host["status"] = "compliant"
    for finding in host["findings"]:
        finding["waived"] = {"reason": "known", "expires": "2099-01-01", "by": None, "origin": "w"}


def _negative_fact(report: Doc) -> None:  # a fact is a value, not a count
    report["hosts"][0]["facts"]["utc_offset"] = -3600


@pytest.mark.parametrize("change", [_older, _newer, _all_waived, _negative_fact])
def test_what_the_schema_allows_is_read(
    tmp_path: Path, scanned: Doc, change: Callable[[Doc], None]
) -> None:
    report = copy.deepcopy(scanned)
    change(report)
    assert read_report(saved(tmp_path, json.dumps(report))) == report


def _text(report: Doc, tail: str) -> str:
    """The report's JSON with `"x": TAIL` as its last key."""
    return json.dumps(report)[:-1] + f', "x": {tail}}}'


REFUSED: list[tuple[Callable[[Doc], object], str]] = [
    (lambda r: r["hosts"][0].update(status="bogus"), "hosts[0].status: 'bogus' is not one of"),
    (lambda r: r["hosts"].append(r["hosts"][0]), "hosts[1].name: 'localhost' is hosts[0] already"),
    (
        lambda r: r["hosts"][0].update(status="compliant", findings=[], cause="refused"),
        "hosts[0].cause: a compliant host has no cause, got 'refused'",
    ),
    (lambda r: r["summary"].update(hosts=True), "summary.hosts: expected an integer, got true"),
    (lambda r: r["summary"].update(hosts=2**60), "summary.hosts: 1152921504606846976 is out of"),
    (
        lambda r: r["hosts"][0]["findings"][0].update(kind=None),
        "hosts[0].findings[0].kind: expected a string, got null",
    ),
    (
        lambda r: r["hosts"][0]["facts"].update({"a b": {"c": 1}}),
        'hosts[0].facts["a b"]: expected a string, an integer, a number, a boolean or null, got',
    ),
    (
        lambda r: r["hosts"][0].update(peers={"group": "web", "voters": -1, "reason": ""}),
        "hosts[0].peers.voters: -1 is out of range",
    ),
    (
        lambda r: r["run"].update(
            shard={"number": 1, "count": 2, "selection": ["a"], "groups": []}
        ),
        "run.shard.groups: not one entry per host of the selection",
    ),
    (lambda r: r.update(x=json.loads("[" * 70 + "]" * 70)), "x[0][0][0]"),
]


@pytest.mark.parametrize(("change", "message"), REFUSED)
def test_a_report_that_breaks_its_schema_is_refused_naming_the_field(
    tmp_path: Path, scanned: Doc, change: Callable[[Doc], object], message: str
) -> None:
    report = copy.deepcopy(scanned)
    change(report)
    path = saved(tmp_path, json.dumps(report))
    with pytest.raises(InputError) as caught:
        read_report(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("NaN", "not a JSON report: NaN, Infinity or a number of over 4,300 digits"),
        ("-Infinity", "not a JSON report: NaN, Infinity or a number of over 4,300 digits"),
        ("1" * 5000, "not a JSON report: NaN, Infinity or a number of over 4,300 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
    ],
)
def test_json_no_report_holds_is_refused(
    tmp_path: Path, scanned: Doc, tail: str, message: str
) -> None:
    path = saved(tmp_path, _text(scanned, tail))
    with pytest.raises(InputError, match=message):
        read_report(path)


def test_an_infinite_duration_is_refused(tmp_path: Path, scanned: Doc) -> None:
    text = json.dumps(scanned).replace('"duration": ', '"duration": 1e999, "was": ', 1)
    with pytest.raises(InputError, match=r"run\.duration: inf is not a finite number"):
        read_report(saved(tmp_path, text))


def test_driftcheck_report_refuses_a_broken_report_naming_file_and_field(
    tmp_path: Path, scanned: Doc
) -> None:
    report = copy.deepcopy(scanned)
    report["hosts"][0]["status"] = "bogus"
    path = saved(tmp_path, json.dumps(report))
    proc = driftcheck("report", str(path), "--format", "text")
    assert proc.returncode == 3
    assert f"{path}: hosts[0].status: 'bogus' is not one of compliant," in proc.stderr
