"""`modified_config: report`: package config files that differ from what their package shipped,
by the package manager's own record (dpkg's conffile md5s), as `debsums -ce` would say.

A file the state declares is checked against the declaration instead. Where the package manager
keeps no such record, or it could not be read, there is one `unknown`, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from driftcheck.model import ConfFile, DeclaredState, Finding, Observed, Outcome
from driftcheck.model.vocab import Kind

ANY = "*"  # the item of the one `unknown` when nothing could be checked
_NO_RECORD = {
    "apk": "apk keeps no record of the config files' content: modified config is not checked",
}


def compare_modified(declared: DeclaredState, observed: Observed, target: str) -> list[Finding]:
    if declared.modified_config != "report":
        return []
    section = observed.conffiles
    if section.outcome is Outcome.UNSUPPORTED:  # no dpkg: say why once, per package manager
        reasons = _unrecorded(observed) or [f"no package config files known: {section.reason}"]
        return [_unknown(target, why) for why in reasons]
    if not section.ok:
        return [_unknown(target, f"config files could not be collected: {section.reason}")]
    findings = list(_modified(declared, section.value, target))
    findings += [_unknown(target, why) for why in _unrecorded(observed)]
    return findings


def _modified(
    declared: DeclaredState, files: Mapping[str, ConfFile], target: str
) -> Iterator[Finding]:
    for path, conf in files.items():
        if path in declared.files:
            continue  # declared state wins
        shipped = f"as shipped by {conf.package} (md5:{conf.recorded})"
        detail = f"differs from what package {conf.package} shipped"
        if conf.error == "missing" and conf.missing_ok:
            continue  # rpm's %config(missingok): rpm -V does not call it drift either
        if conf.error == "missing":
            yield Finding(target, "file", path, Kind.MODIFIED, shipped, "absent", detail=detail)
        elif conf.error:
            why = f"config file of {conf.package} could not be checked: {conf.error}"
            yield Finding(target, "file", path, Kind.UNKNOWN, shipped, detail=why)
        elif conf.modified:
            now = f"md5:{conf.digest}" if conf.type == "file" else conf.type
            yield Finding(target, "file", path, Kind.MODIFIED, shipped, now, detail=detail)


def _unrecorded(observed: Observed) -> list[str]:
    """Why the config files of the other package managers on this host go unchecked."""
    if not observed.packages.ok:
        return []
    managers = {p.manager for found in observed.packages.value.values() for p in found}
    return [why for manager, why in sorted(_NO_RECORD.items()) if manager in managers]


def _unknown(target: str, detail: str) -> Finding:
    return Finding(target, "file", ANY, Kind.UNKNOWN, "unmodified package config", detail=detail)
