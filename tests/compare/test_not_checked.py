"""Every path from an observation that could not be made to the host status `error`.

"Could not check" is never "compliant", and never drift either (a snowflake says something was
seen): each case below goes through the real `compare` and `classify` and must end `error`.
Pure and fast: no host, no I/O.
"""

from __future__ import annotations

import pytest

from driftcheck.collectors.packages import parse_apk, parse_dpkg, parse_rpm
from driftcheck.compare import compare, limit_finding
from driftcheck.errors import DeadlineError, LimitError
from driftcheck.limits import MAX_FINDINGS, MAX_PACKAGES
from driftcheck.model import (
    ContainerSpec,
    ContainerState,
    DeclaredState,
    FileSpec,
    FileState,
    Finding,
    HostFacts,
    HostSpec,
    Observed,
    Outcome,
    PackageSpec,
    Section,
    ServiceSpec,
    ServiceState,
)
from driftcheck.model.vocab import Status
from driftcheck.scan import classify, in_time, within_limits

NOW = 1_800_000_000.0
FACTS = Section(Outcome.COLLECTED, HostFacts(now=NOW, provisioned=NOW - 86400, zombies=0))
FAILED = Section(Outcome.FAILED, None, "the collector's output ended early")
UNSUPPORTED = Section(Outcome.UNSUPPORTED, None, "not there")
EMPTY = Section(Outcome.COLLECTED, {})
BASE = Observed(
    packages=EMPTY, files=EMPTY, services=EMPTY, facts=FACTS, containers=EMPTY, inner={}
)

PKG = DeclaredState(packages={"curl": PackageSpec("curl", "present")})
ANY_PKG = DeclaredState(unexpected_packages="report")
FILE = DeclaredState(files={"/etc/x": FileSpec("/etc/x", mode="0644")})
CONTENT = DeclaredState(files={"/etc/x": FileSpec("/etc/x", content="a\n")})


def svc(enabled: bool | None = None, running: bool | None = None) -> DeclaredState:
    return DeclaredState(services={"a.service": ServiceSpec("a.service", running, enabled)})


def units(load: str, active: str, unit_file: str) -> Section:
    return Section(
        Outcome.COLLECTED, {"a.service": ServiceState("a.service", load, active, unit_file)}
    )


def running_app(
    digests: tuple[str, ...] = (), image: str = "nginx:1", state: str = "running"
) -> Section:
    found = ContainerState("app", "podman", image, "abc", state, digests=digests)
    return Section(Outcome.COLLECTED, {"app": found})


def with_(**sections: object) -> Observed:
    return Observed(**{**BASE.__dict__, **sections})  # type: ignore[arg-type]


INNER = DeclaredState(packages={"curl": PackageSpec("curl", "present")})

CASES: dict[str, tuple[DeclaredState, Observed]] = {
    "packages failed, a package declared": (PKG, with_(packages=FAILED)),
    "packages unsupported, a package declared": (PKG, with_(packages=UNSUPPORTED)),
    "packages failed, unexpected packages reported": (ANY_PKG, with_(packages=FAILED)),
    "files section failed": (FILE, with_(files=FAILED)),
    "file not reported in a collected section": (FILE, BASE),
    "file unreadable (permission denied)": (
        CONTENT,
        with_(files=Section(Outcome.COLLECTED, {"/etc/x": FileState("/etc/x", False, error="x")})),
    ),
    "services failed": (svc(running=True), with_(services=FAILED)),
    "no systemd": (svc(running=True), with_(services=UNSUPPORTED)),
    "unit not reported by systemd": (svc(running=True), BASE),
    "empty UnitFileState, declared enabled": (
        svc(True),
        with_(services=units("loaded", "active", "")),
    ),
    "empty UnitFileState, declared disabled": (
        svc(False),
        with_(services=units("loaded", "inactive", "")),
    ),
    "host facts failed (nothing declared)": (DeclaredState(), with_(facts=FAILED)),
    "host facts failed, age declared": (
        DeclaredState(host=HostSpec(max_age_seconds=86400 * 30)),
        with_(facts=FAILED),
    ),
    "no provisioning time": (
        DeclaredState(host=HostSpec(max_age_seconds=86400 * 30)),
        with_(facts=Section(Outcome.COLLECTED, HostFacts(now=NOW, zombies=0))),
    ),
    "zombie count not collected": (
        DeclaredState(host=HostSpec(max_zombies=0)),
        with_(facts=Section(Outcome.COLLECTED, HostFacts(now=NOW, provisioned=NOW))),
    ),
    "containers failed, a container declared": (
        DeclaredState(containers={"app": ContainerSpec("app")}),
        with_(containers=FAILED),
    ),
    "containers failed, unexpected containers reported": (
        DeclaredState(unexpected_containers="report"),
        with_(containers=FAILED),
    ),
    "image digest not reported": (
        DeclaredState(containers={"app": ContainerSpec("app", image="nginx@sha256:" + "a" * 64)}),
        with_(containers=running_app()),
    ),
    "image not reported by the engine": (
        DeclaredState(containers={"app": ContainerSpec("app", image="nginx:1")}),
        with_(containers=running_app(image="")),
    ),
    "container state not reported by the engine, running declared": (
        DeclaredState(containers={"app": ContainerSpec("app", running=True)}),
        with_(containers=running_app(state="unknown")),
    ),
    "container state not reported by the engine, stopped declared": (
        DeclaredState(containers={"app": ContainerSpec("app", running=False)}),
        with_(containers=running_app(state="unknown")),
    ),
    "state inside a running container not collected": (
        DeclaredState(containers={"app": ContainerSpec("app", state=INNER)}),
        with_(containers=running_app()),
    ),
    "state inside a running container failed": (
        DeclaredState(containers={"app": ContainerSpec("app", state=INNER)}),
        with_(containers=running_app(), inner={"app": Observed(packages=FAILED, facts=FACTS)}),
    ),
    "output cut at the size cap, sections complete": (DeclaredState(), with_(truncated=True)),
}


@pytest.mark.parametrize("name", CASES)
def test_a_check_not_made_makes_the_host_error(name: str) -> None:
    declared, observed = CASES[name]
    findings = compare(declared, observed, now=NOW)
    status, error = classify(observed, findings)
    assert status is Status.ERROR, findings
    assert error


@pytest.mark.parametrize("enabled", [True, False])
def test_empty_unit_file_state_is_unknown_not_enablement(enabled: bool) -> None:
    observed = with_(services=units("loaded", "active", ""))
    (finding,) = compare(svc(enabled), observed, now=NOW)
    assert finding.kind == "unknown"
    assert "UnitFileState" in (finding.detail or "")


def test_unit_file_state_still_compares_when_reported() -> None:
    observed = with_(services=units("loaded", "active", "disabled"))
    (finding,) = compare(svc(True), observed, now=NOW)
    assert (finding.kind, finding.expected, finding.actual) == ("disabled", "enabled", "disabled")
    assert compare(svc(False), observed, now=NOW) == []


# --- classify, directly -------------------------------------------------------------------


def drift(kind: str) -> Finding:
    return Finding("host", "package", "curl", kind)


def test_classify_compliant_only_without_findings() -> None:
    assert classify(BASE, []) == (Status.COMPLIANT, None)


def test_classify_drift_is_snowflake() -> None:
    assert classify(BASE, [drift("missing"), drift("version")]) == (Status.SNOWFLAKE, None)


@pytest.mark.parametrize("kind", ["unknown", "truncated", "limit"])
def test_classify_one_unmade_check_among_drift_is_error(kind: str) -> None:
    status, error = classify(BASE, [drift("missing"), drift(kind)])
    assert status is Status.ERROR
    assert error == "1 declared check(s) could not be made: see findings"


def test_classify_failed_facts_is_error_even_without_findings() -> None:
    status, error = classify(with_(facts=FAILED), [])
    assert status is Status.ERROR
    assert error == "collection failed: the collector's output ended early"


# --- limits and the deadline --------------------------------------------------------------


def test_findings_past_the_limit_are_an_error_not_a_partial_list() -> None:
    ok = [drift("missing")] * MAX_FINDINGS
    assert within_limits(ok) is ok
    with pytest.raises(LimitError, match="more than 10,000 findings"):
        within_limits([*ok, drift("missing")])


def test_the_limit_finding_is_never_compliant() -> None:
    assert classify(BASE, [limit_finding("dpkg-query output: more than 100,000 lines")])[0] is (
        Status.ERROR
    )


def _dpkg(count: int) -> bytes:
    return b"".join(b"install ok installed\tp%d\t1.0\tamd64\n" % n for n in range(count))


def test_package_parsers_stop_at_the_limit() -> None:
    assert len(parse_dpkg(_dpkg(MAX_PACKAGES))) == MAX_PACKAGES
    with pytest.raises(LimitError, match="dpkg-query output: more than 100,000 lines"):
        parse_dpkg(_dpkg(MAX_PACKAGES + 1))
    rpm = b"".join(b"p%d\t(none)\t1.0\t1\tx86_64\n" % n for n in range(MAX_PACKAGES + 1))
    with pytest.raises(LimitError, match="rpm"):
        parse_rpm(rpm)
    apk = b"".join(b"P:p%d\nV:1.0\n\n" % n for n in range(MAX_PACKAGES + 1))
    with pytest.raises(LimitError, match="more than 100,000 packages"):
        parse_apk(apk)


def test_deadline_covers_the_stages_after_transport() -> None:
    in_time(100.0, "parsing", clock=lambda: 99.9)
    with pytest.raises(DeadlineError, match="deadline passed while comparing"):
        in_time(100.0, "comparing", clock=lambda: 100.1)
