"""Packages: declared specs against the installed set, in the package manager's own ordering."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from driftcheck.model import DeclaredState, Finding, Package, PackageSpec, Section
from driftcheck.model.vocab import Kind
from driftcheck.versions import satisfies

Installed = Mapping[str, tuple[Package, ...]]


def compare_packages(
    declared: DeclaredState, section: Section[Installed], target: str
) -> list[Finding]:
    if not section.ok:
        return list(_unknown(declared, section.reason, target))
    installed = section.value
    findings = [
        f
        for spec in declared.packages.values()
        if (f := _check(spec, installed.get(spec.name, ()), target)) is not None
    ]
    if declared.unexpected_packages == "report":
        findings += _unexpected(declared, installed, target)
    return findings


def _check(spec: PackageSpec, found: tuple[Package, ...], target: str) -> Finding | None:
    versions = _versions(found)
    if spec.op == "absent":
        return (
            Finding(target, "package", spec.name, "unexpected", "absent", versions)
            if found
            else None
        )
    if not found:
        return Finding(target, "package", spec.name, "missing", str(spec), "absent")
    if spec.op == "present" or any(satisfies(p.manager, p.version, spec) for p in found):
        return None
    return Finding(target, "package", spec.name, "version", str(spec), versions)


def _unexpected(declared: DeclaredState, installed: Installed, target: str) -> Iterator[Finding]:
    for name in sorted(set(installed) - set(declared.packages)):
        yield Finding(
            target,
            "package",
            name,
            "unexpected",
            "not declared",
            _versions(installed[name]),
            detail="installed, but no applicable state names it (unexpected_packages: report)",
        )


def _unknown(declared: DeclaredState, reason: str, target: str) -> Iterator[Finding]:
    detail = f"packages could not be collected: {reason}"
    for spec in declared.packages.values():
        yield Finding(target, "package", spec.name, Kind.UNKNOWN, str(spec), None, detail=detail)
    if declared.unexpected_packages == "report":
        yield Finding(
            target, "package", "*", Kind.UNKNOWN, "no unexpected packages", None, detail=detail
        )


def _versions(found: tuple[Package, ...]) -> str:
    return ", ".join(sorted({p.version for p in found}))
