"""Waivers: drift accepted for a while, from a YAML list.

    - host: "web*"              # glob on the inventory host name
      target: host              # optional glob, default "*" ("host" or "container:NAME")
      category: package         # glob
      item: acme-debug          # glob (`*` also matches `/` in paths)
      kind: unexpected          # optional glob, default "*"
      reason: "debug build for ticket OPS-123"
      expires: 2026-12-31       # the waiver applies up to and including this day
      by: alice

A waiver without a reason or an expiry date is an error naming file and line; so are unknown
keys and wrong types. A waived finding stays in the report with `"waived": {reason, expires, by,
origin}` and no longer makes its host a snowflake. A check that could not be made (kind `unknown`
or `truncated`) is never waived: "could not check" is never compliant.

An expired waiver stops applying, and is reported twice over: in report["waivers"]["expired"]
(every expired waiver, with the hosts it matched), and as a finding of category `waiver`, kind
`expired` on each host where it matched a finding, so that host shows what lapsed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from driftcheck.errors import WaiverError
from driftcheck.model import Origin
from driftcheck.model.document import (
    ExpiredWaiver,
    FindingEntry,
    HostEntry,
    Report,
    WaivedEntry,
    summarize,
)
from driftcheck.model.vocab import NOT_AUDITED, UNKNOWN_KINDS, audited_status
from driftcheck.state.yamlload import YList, YMap, load_yaml
from driftcheck.yamlsafe import excerpt

REQUIRED = ("host", "category", "item", "reason", "expires")
OPTIONAL = {"target": "*", "kind": "*", "by": None}
NEVER_WAIVED = UNKNOWN_KINDS
UNAUDITED = NOT_AUDITED


@dataclass(frozen=True)
class Waiver:
    host: str
    target: str
    category: str
    item: str
    kind: str
    reason: str
    expires: dt.date
    by: str | None
    origin: Origin

    def matches(self, host: str, finding: FindingEntry) -> bool:
        if finding["kind"] in NEVER_WAIVED:
            return False
        pairs = (
            (host, self.host),
            (finding["target"], self.target),
            (finding["category"], self.category),
            (str(finding["item"]), self.item),
            (finding["kind"], self.kind),
        )
        return all(fnmatchcase(value, pattern) for value, pattern in pairs)

    def entry(self) -> WaivedEntry:
        return {
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "by": self.by,
            "origin": str(self.origin),
        }


# --- loading -----------------------------------------------------------------------------


def load_waivers(path: Path) -> list[Waiver]:
    """Read and check a waivers file; every problem is a WaiverError at `path:line`.

    The states' loader reads it: duplicate keys, alias bombs and impossible dates are refused
    the same way in both."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverError(name, None, f"cannot read waivers: {exc}") from exc
    root = load_yaml(text, name, error=WaiverError)
    if root is None:
        return []
    if not isinstance(root, YList):
        line = root.origin.line if isinstance(root, YMap) else 1
        raise WaiverError(name, line, "a waivers file is a YAML list of waivers")
    return [_waiver(item, origin) for item, origin in zip(root, root.item_origins, strict=True)]


def _waiver(node: object, origin: Origin) -> Waiver:
    if not isinstance(node, YMap):
        raise WaiverError(origin.path, origin.line, "a waiver is a mapping (host, category, ...)")
    # Waiver's fields by name, each checked by _checked (strings, `expires` a date): Any, so
    # they can be passed on as keywords
    fields: dict[str, Any] = dict(OPTIONAL)
    for key, value in node.items():
        where = node.where(key)
        if key not in REQUIRED and key not in OPTIONAL:
            known = ", ".join((*REQUIRED, *OPTIONAL))
            message = f"unknown key {excerpt(key)} (known: {known})"
            raise WaiverError(where.path, where.line, message)
        fields[key] = _checked(key, value, where)
    for key in REQUIRED:
        if fields.get(key) in (None, ""):
            message = _MISSING.get(key, f"a waiver needs `{key}`")
            raise WaiverError(origin.path, origin.line, message)
    return Waiver(**fields, origin=origin)


_MISSING = {
    "reason": "a waiver needs a reason (why this drift is accepted)",
    "expires": "a waiver needs an expiry date (expires: YYYY-MM-DD)",
}


def _checked(key: str, value: object, where: Origin) -> str | dt.date | None:
    if key == "expires":
        return _date(value, where)
    if value is not None and not isinstance(value, str):
        message = f"`{key}` must be a string, not {excerpt(value)} (quote it)"
        raise WaiverError(where.path, where.line, message)
    return value.strip() if isinstance(value, str) else None


def _date(value: object, where: Origin) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if value is None or isinstance(value, dt.date):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        message = f"`expires` must be a date YYYY-MM-DD, not {excerpt(value)}"
        raise WaiverError(where.path, where.line, message) from None


# --- applying ----------------------------------------------------------------------------


def apply_waivers(report: Report, waivers: Sequence[Waiver], today: dt.date) -> Report:
    """A copy of `report` with waivers applied, statuses and summary recomputed; `report`
    itself is left as it was."""
    active = [w for w in waivers if w.expires >= today]
    expired = [w for w in waivers if w.expires < today]
    expired_hosts: list[list[str]] = [[] for _ in expired]
    hosts: list[HostEntry] = []
    for host in report["hosts"]:
        findings = [_waived(host["name"], f, active) for f in host["findings"]]
        for waiver, matched in zip(expired, expired_hosts, strict=True):
            if _report_expired(host["name"], findings, waiver):
                matched.append(host["name"])
        hosts.append({**host, "findings": findings, "status": _status(host["status"], findings)})
    summary = summarize(hosts)
    return {
        **report,
        "summary": summary,
        "hosts": hosts,
        "waivers": {
            "active": len(active),
            "applied": summary["waived"],
            "expired": [_expired(w, h) for w, h in zip(expired, expired_hosts, strict=True)],
        },
    }


def _waived(host: str, finding: FindingEntry, active: Sequence[Waiver]) -> FindingEntry:
    waiver = next((w for w in active if w.matches(host, finding)), None)
    return {**finding, "waived": waiver.entry() if waiver else None}


def _report_expired(host: str, findings: list[FindingEntry], waiver: Waiver) -> bool:
    """Add a `waiver expired` finding to `findings` (the host's, being built) if `waiver`
    would have matched one of them; say whether it did."""
    if not any(waiver.matches(host, f) for f in findings):
        return False
    findings.append(expired_finding(waiver))
    findings.sort(key=lambda f: (f["target"], f["category"], str(f["item"]), f["kind"]))
    return True


def _expired(waiver: Waiver, hosts: list[str]) -> ExpiredWaiver:
    return {**waiver.entry(), "hosts": hosts}


def expired_finding(waiver: Waiver) -> FindingEntry:
    return {
        "target": "host",
        "category": "waiver",
        "item": f"{waiver.category} {waiver.item}",
        "kind": "expired",
        "expected": f"waived until {waiver.expires.isoformat()}",
        "actual": "expired",
        "diff": None,
        "detail": (
            f"the waiver at {waiver.origin} (by {waiver.by or 'unknown'}: {waiver.reason}) "
            f"expired on {waiver.expires.isoformat()}; the drift it covered is reported again"
        ),
        "waived": None,
    }


def _status(status: str, findings: Sequence[FindingEntry]) -> str:
    """Waivers never make an unaudited host compliant; they only settle snowflake/compliant."""
    if status in UNAUDITED:
        return status
    return audited_status(any(not f.get("waived") for f in findings)).value
