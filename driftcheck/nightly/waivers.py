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

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from driftcheck.errors import WaiverError
from driftcheck.model.vocab import NOT_AUDITED, UNKNOWN_KINDS, Status
from driftcheck.models import Origin
from driftcheck.report import summarize
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

    def matches(self, host: str, finding: Mapping[str, Any]) -> bool:
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

    def entry(self) -> dict[str, Any]:
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


def _waiver(node: Any, origin: Origin) -> Waiver:
    if not isinstance(node, YMap):
        raise WaiverError(origin.path, origin.line, "a waiver is a mapping (host, category, ...)")
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


def _checked(key: str, value: Any, where: Origin) -> Any:
    if key == "expires":
        return _date(value, where)
    if value is not None and not isinstance(value, str):
        message = f"`{key}` must be a string, not {excerpt(value)} (quote it)"
        raise WaiverError(where.path, where.line, message)
    return value.strip() if isinstance(value, str) else value


def _date(value: Any, where: Origin) -> dt.date | None:
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


def apply_waivers(
    report: Mapping[str, Any], waivers: Sequence[Waiver], today: dt.date
) -> dict[str, Any]:
    """A copy of `report` with waivers applied, statuses and summary recomputed."""
    out = copy.deepcopy(dict(report))
    active = [w for w in waivers if w.expires >= today]
    expired = [w for w in waivers if w.expires < today]
    expired_hosts: dict[int, list[str]] = {index: [] for index in range(len(expired))}
    for host in out["hosts"]:
        _waive_host(host, active)
        for index, waiver in enumerate(expired):
            if _report_expired(host, waiver):
                expired_hosts[index].append(host["name"])
        host["status"] = _status(host)
    out["summary"] = summarize(out["hosts"])
    out["waivers"] = {
        "active": len(active),
        "applied": out["summary"]["waived"],
        "expired": [{**w.entry(), "hosts": expired_hosts[i]} for i, w in enumerate(expired)],
    }
    return out


def _waive_host(host: dict[str, Any], active: Sequence[Waiver]) -> None:
    for finding in host["findings"]:
        waiver = next((w for w in active if w.matches(host["name"], finding)), None)
        finding["waived"] = waiver.entry() if waiver else None


def _report_expired(host: dict[str, Any], waiver: Waiver) -> bool:
    """Add a `waiver expired` finding to `host` if `waiver` would have matched one of its
    findings; say whether it did."""
    if not any(waiver.matches(host["name"], f) for f in host["findings"]):
        return False
    host["findings"].append(expired_finding(waiver))
    host["findings"].sort(key=lambda f: (f["target"], f["category"], str(f["item"]), f["kind"]))
    return True


def expired_finding(waiver: Waiver) -> dict[str, Any]:
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


def _status(host: Mapping[str, Any]) -> str:
    """Waivers never make an unaudited host compliant; they only settle snowflake/compliant."""
    if host["status"] in UNAUDITED:
        return str(host["status"])
    drift = any(not f.get("waived") for f in host["findings"])
    return Status.SNOWFLAKE.value if drift else Status.COMPLIANT.value
