"""Host hygiene: age since provisioning (immutable infrastructure) and zombie processes."""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.model import Finding, HostFacts, HostSpec, Section
from driftcheck.model.vocab import Kind


def compare_host(
    spec: HostSpec, facts: Section[HostFacts], target: str, now: float
) -> list[Finding]:
    if spec.max_age_seconds is None and spec.max_zombies is None:
        return []
    if not facts.ok:
        detail = f"host facts could not be collected: {facts.reason}"
        return [
            Finding(target, "host", item, Kind.UNKNOWN, detail=detail)
            for item, wanted in (("age", spec.max_age_seconds), ("zombies", spec.max_zombies))
            if wanted is not None
        ]
    return [*_age(spec, facts.value, target, now), *_zombies(spec, facts.value, target)]


def _age(spec: HostSpec, facts: HostFacts, target: str, now: float) -> Iterator[Finding]:
    if spec.max_age_seconds is None:
        return
    if facts.provisioned is None:
        yield Finding(
            target, "host", "age", Kind.UNKNOWN, detail="no provisioning time on the host"
        )
        return
    # The host's own clock, when it reported one, so clock skew does not age a host.
    age = (facts.now if facts.now is not None else now) - facts.provisioned
    if age > spec.max_age_seconds:
        yield Finding(
            target,
            "host",
            "age",
            "age",
            f"<= {format_age(spec.max_age_seconds)}",
            format_age(age),
            detail=f"provisioned {format_age(age)} ago ({facts.provisioned_source})",
        )


def _zombies(spec: HostSpec, facts: HostFacts, target: str) -> Iterator[Finding]:
    if spec.max_zombies is None:
        return
    if facts.zombies is None:
        yield Finding(target, "host", "zombies", Kind.UNKNOWN, detail="zombie count not collected")
    elif facts.zombies > spec.max_zombies:
        yield Finding(
            target, "host", "zombies", "zombies", f"<= {spec.max_zombies}", str(facts.zombies)
        )


def format_age(seconds: float) -> str:
    """A coarse, stable rendering: whole days beyond a day, else hours, else seconds."""
    if seconds >= 86400:
        return f"{int(seconds // 86400)}d"
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds)}s"
