"""JUnit XML for CI systems (Jenkins, GitLab, ...), in the dialect of Jenkins' junit-10.xsd.

One <testsuite> per host, one <testcase> per host and check, a check being (target, category,
item): its findings become one <failure> (several kinds of drift on one file are one failing
check, so test names stay stable from run to run). A check that could not be made (kind unknown or
truncated) is an <error>, never a pass; an unreachable, error or unchecked host (nothing checked)
gets an `audit` case with an <error>. A waived check is <skipped> with the waiver's reason. A
compliant host has one passing `audit` case, so that "every host passed" is visible as tests.
A peer group with no majority for an item (`peer_splits`) is a failing case of its own, in a
`peer splits` suite.

Text from hosts can hold characters XML 1.0 cannot carry at all (ESC, NUL): they are written as
`\\xNN` (`\\uNNNN` for a lone surrogate), as in the text report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from itertools import groupby

from driftcheck.model.document import FindingEntry, HostEntry, PeerSplit, Report, RunEntry
from driftcheck.model.vocab import NOT_AUDITED, UNKNOWN_KINDS
from driftcheck.render.rank import peer_splits, split_text

_COUNTS = (("failure", "failures"), ("error", "errors"), ("skipped", "skipped"))
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: Report) -> str:
    root = ET.Element("testsuites", name="driftcheck", time=_seconds(report["run"]["duration"]))
    for host in report["hosts"]:
        root.append(host_suite(host, report["run"]))
    splits = peer_splits(report)
    if splits:
        root.append(splits_suite(splits, report["run"]))
    for name in ("tests", "failures", "errors"):
        root.set(name, str(sum(int(s.get(name, "0")) for s in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def host_suite(host: HostEntry, run: RunEntry) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(host["name"]), hostname=_text(host["address"]))
    suite.set("timestamp", str(run["started"] or ""))
    suite.set("time", _seconds(host["duration"]))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("run", run["id"]), ("status", host["status"])):
        ET.SubElement(properties, "property", name=name, value=_text(value))
    cases = [audit_case(host)] if host["status"] != "snowflake" else []
    cases += [check_case(host["name"], check) for check in _checks(host["findings"])]
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    for outcome, attribute in _COUNTS:
        suite.set(attribute, str(sum(1 for c in cases if c.find(outcome) is not None)))
    return suite


def splits_suite(splits: list[PeerSplit], run: RunEntry) -> ET.Element:
    """One failing case per group and item with no majority: drift in the group."""
    suite = ET.Element("testsuite", name="peer splits", tests=str(len(splits)))
    suite.set("failures", str(len(splits)))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("timestamp", str(run["started"] or ""))
    for split in splits:
        name = f"{split['category']} {split['item']}"
        case = ET.SubElement(suite, "testcase", name=_text(name))
        case.set("classname", _text(f"driftcheck.peers.{split['group']}"))
        message = f"no majority in peer group {split['group']}: {split_text(split)}"
        failure = ET.SubElement(case, "failure", type="peer split", message=_text(message))
        failure.text = _text(message)
    return suite


def audit_case(host: HostEntry) -> ET.Element:
    """The host as a whole: passes when compliant, an error when it could not be audited."""
    case = ET.Element("testcase", name="audit", classname=_classname(host["name"]))
    case.set("time", _seconds(host["duration"]))
    if host["status"] in NOT_AUDITED:
        message = f"{host['status']}: {host['error'] or 'not audited'}"
        error = ET.SubElement(case, "error", type=host["status"], message=_text(message))
        error.text = _text(message)
    return case


def check_case(host: str, findings: list[FindingEntry]) -> ET.Element:
    first = findings[0]
    name = f"{first['category']} {first['item']}"
    if first["target"] != "host":
        name = f"{first['target']} {name}"
    case = ET.Element("testcase", name=_text(name), classname=_classname(host))
    live = [f for f in findings if not f.get("waived")]
    waiver = first.get("waived")
    if not live and waiver is not None:  # every finding of the check is waived, the first too
        message = f"waived until {waiver['expires']} by {waiver['by']}: {waiver['reason']}"
        ET.SubElement(case, "skipped", message=_text(message))
        return case
    outcome = "error" if any(f["kind"] in UNKNOWN_KINDS for f in live) else "failure"
    kinds = ", ".join(f["kind"] for f in live)
    element = ET.SubElement(case, outcome, type=kinds, message=_text(f"{name}: {kinds}"))
    element.text = _text("\n".join(_describe(f) for f in live))
    return case


def _checks(findings: Iterable[FindingEntry]) -> list[list[FindingEntry]]:
    def check(f: FindingEntry) -> tuple[str, str, str]:
        return (f["target"], f["category"], f["item"])

    return [list(group) for _, group in groupby(sorted(findings, key=check), key=check)]


def _describe(finding: FindingEntry) -> str:
    lines = [f"{finding['kind']}: expected {finding['expected']}, actual {finding['actual']}"]
    lines += [text for text in (finding["detail"], finding["diff"]) if text]
    if finding.get("first_seen"):
        new = " (new)" if finding.get("new") else ""
        lines.append(f"first seen {finding['first_seen']}{new}")
    return "\n".join(lines)


def _classname(host: str) -> str:
    return _text(f"driftcheck.{host}")


def _seconds(value: float | None) -> str:
    return f"{float(value or 0):.3f}"


def _text(value: object) -> str:
    """Text XML can carry: characters outside XML 1.0 become `\\xNN`."""
    text = "" if value is None else str(value)
    return _NOT_XML.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
