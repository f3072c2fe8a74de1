"""The JUnit output validates against the JUnit schema CI systems read (junit.xsd beside this
file: Jenkins' junit-10.xsd dialect, see its header) and says what each host and check did."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from driftcheck.model import Origin
from driftcheck.nightly.waivers import Waiver, apply_waivers
from driftcheck.render.junit import render_junit

from .reports import finding, host, report

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))


@pytest.fixture
def fleet() -> dict:
    web02 = [
        finding(
            "/etc/nginx/nginx.conf", "file", "content", expected="sha256:aa", actual="sha256:bb"
        ),
        finding("/etc/nginx/nginx.conf", "file", "mode", expected="0644", actual="0666"),
        finding("acme-debug"),
        finding("acme-agent", kind="version", expected="1.3.0", actual="1.2.0"),
    ]
    app01 = [finding("nginx.service", "service", "unknown", detail="no systemd")]
    hostile = finding("evil\x1b[31m\x00", actual='"<&>\x07\ud800', target="container:c1")
    return report(
        1,
        [
            host("web01"),
            host("web02", web02),
            host("app01", app01, status="error", error="1 declared check(s) could not be made"),
            host("db01", status="unreachable"),
            host("ev<il>", [hostile]),
        ],
    )


def test_validates_against_the_junit_schema(fleet: dict) -> None:
    SCHEMA.validate(render_junit(fleet))


def test_cases_per_host_and_check(fleet: dict) -> None:
    root = ET.fromstring(render_junit(fleet))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["web01", "web02", "app01", "db01", "ev<il>"]

    def cases(name: str) -> list[tuple[str, str]]:
        return [
            (c.get("name"), next((e.tag for e in c if e.tag != "system-out"), "pass"))
            for c in suites[name].iter("testcase")
        ]

    assert cases("web01") == [("audit", "pass")]
    assert cases("web02") == [
        ("file /etc/nginx/nginx.conf", "failure"),  # content and mode: one check, one failure
        ("package acme-agent", "failure"),
        ("package acme-debug", "failure"),
    ]
    assert cases("app01") == [("audit", "error"), ("service nginx.service", "error")]
    assert cases("db01") == [("audit", "error")]
    assert suites["db01"].find("testcase/error").get("message") == (
        "unreachable: db01: connection refused"
    )
    nginx = suites["web02"].find("testcase/failure")
    assert nginx.get("message") == "file /etc/nginx/nginx.conf: content, mode"
    assert "mode: expected 0644, actual 0666" in nginx.text
    web02 = suites["web02"]
    assert (web02.get("tests"), web02.get("failures"), web02.get("errors")) == ("3", "3", "0")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "4", "3")


def test_control_characters_from_hosts_are_escaped(fleet: dict) -> None:
    root = ET.fromstring(render_junit(fleet))  # would raise on ESC, NUL or a lone surrogate
    case = next(c for c in root.iter("testcase") if "evil" in c.get("name"))
    assert case.get("name") == "container:c1 package evil\\x1b[31m\\x00"
    assert 'actual "<&>\\x07\\ud800' in case.find("failure").text


def test_waived_check_is_skipped_and_host_passes(fleet: dict) -> None:
    waiver = Waiver(
        "web02", "*", "*", "*", "*", "accepted", dt.date(2030, 1, 1), "alice", Origin("w.yml", 1)
    )
    waived = apply_waivers(fleet, [waiver], dt.date(2026, 11, 28))
    xml = render_junit(waived)
    SCHEMA.validate(xml)
    web02 = next(s for s in ET.fromstring(xml).iter("testsuite") if s.get("name") == "web02")
    assert [(c.get("name"), [e.tag for e in c]) for c in web02.iter("testcase")][:2] == [
        ("audit", []),
        ("file /etc/nginx/nginx.conf", ["skipped"]),
    ]
    assert web02.get("skipped") == "3"
    assert web02.find("testcase/skipped").get("message") == (
        "waived until 2030-01-01 by alice: accepted"
    )


def test_empty_fleet_is_valid() -> None:
    SCHEMA.validate(render_junit(report(1, [])))


@pytest.mark.parametrize(
    "document",
    [
        '<testsuites><testsuite name="a"/></testsuites>',  # testsuite/@tests is required
        '<testsuites><testsuite tests="one"/></testsuites>',  # counts are integers
        '<testsuites><testsuite tests="1"><testcase/></testsuite></testsuites>',  # @name required
        '<testsuites><testsuite tests="1"><testcase name="a"><oops/></testcase>'
        "</testsuite></testsuites>",
    ],
)
def test_the_schema_is_in_force(document: str) -> None:
    assert not SCHEMA.is_valid(document)
