"""Services: systemd active state and enablement of the declared units."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from driftcheck.model import DeclaredState, Finding, Section, ServiceSpec, ServiceState
from driftcheck.model.vocab import Kind

# Unit-file states in which a unit starts at boot without anyone enabling it by hand.
ENABLED_STATES = frozenset({"enabled", "enabled-runtime", "static", "alias", "generated"})


def compare_services(
    declared: DeclaredState, section: Section[Mapping[str, ServiceState]], target: str
) -> list[Finding]:
    findings: list[Finding] = []
    for spec in declared.services.values():
        if not section.ok:
            detail = f"services could not be collected: {section.reason}"
            findings.append(Finding(target, "service", spec.name, Kind.UNKNOWN, detail=detail))
            continue
        state = section.value.get(spec.name)
        findings += _check(spec, state, target)
    return findings


def _check(spec: ServiceSpec, state: ServiceState | None, target: str) -> Iterator[Finding]:
    if state is None:
        yield Finding(
            target, "service", spec.name, Kind.UNKNOWN, detail="systemd did not report it"
        )
        return
    if state.load_state == "not-found":
        yield Finding(target, "service", spec.name, "missing", "installed", "not-found")
        return
    active = state.active_state in ("active", "reloading", "activating")
    if spec.running is True and not active:
        yield Finding(target, "service", spec.name, "stopped", "running", state.active_state)
    if spec.running is False and active:
        yield Finding(target, "service", spec.name, "running", "stopped", state.active_state)
    if spec.enabled is None:
        return
    if not state.unit_file_state:
        # systemd printed `UnitFileState=` (no unit file it can judge): not "disabled", unknown
        detail = "systemd reported no UnitFileState: whether it is enabled is unknown"
        yield Finding(target, "service", spec.name, Kind.UNKNOWN, _enabled(spec), detail=detail)
        return
    enabled = state.unit_file_state in ENABLED_STATES
    actual = state.unit_file_state
    if spec.enabled and not enabled:
        yield Finding(target, "service", spec.name, "disabled", "enabled", actual)
    if not spec.enabled and enabled:
        yield Finding(target, "service", spec.name, "enabled", "disabled", actual)


def _enabled(spec: ServiceSpec) -> str:
    return "enabled" if spec.enabled else "disabled"
