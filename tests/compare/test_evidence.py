"""Evidence matching (driftcheck.compare.evidence), table style: a finding and a host's records
in, the evidence the finding carries out. Times are those of the lab capture in
tests/collectors/records (an apt-get install and purge, a hand edit during an ssh login)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from driftcheck.compare.evidence import (
    FileTimes,
    HostEvidence,
    attach,
    explain,
    keep_for,
    with_evidence,
)
from driftcheck.limits import MAX_EVIDENCE_PER_FINDING
from driftcheck.model import (
    Evidence,
    Finding,
    Host,
    HostRecords,
    HostResult,
    Login,
    PackageChange,
    Transaction,
)
from driftcheck.model.vocab import Status


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


CONF = "/etc/acme/agent.conf"
CMD = "apt-get install -y -q /var/tmp/acme-debug_0.9_all.deb"
BOOTSTRAP = Transaction(
    "apt history",
    at("2026-12-07 05:08:56"),
    at("2026-12-07 05:09:10"),
    (PackageChange("install", "openssh-server", "1:9.2p1-2+deb12u10"),),
    command="apt-get install -y -q --no-install-recommends openssh-server",
)
AGENT_INSTALL = Transaction(
    "dpkg.log",
    at("2026-12-07 05:09:11"),
    at("2026-12-07 05:09:11"),
    (PackageChange("install", "acme-agent", "1.4.0"),),
)
AGENT_CONFIGURE = Transaction(
    "dpkg.log",
    at("2026-12-07 05:09:11"),
    at("2026-12-07 05:09:11"),
    (PackageChange("configure", "acme-agent", "1.4.0"),),
)
APT_INSTALL = Transaction(
    "apt history",
    at("2026-12-07 05:59:44"),
    at("2026-12-07 05:59:45"),
    (PackageChange("install", "acme-debug", "0.9"),),
    command=CMD,
    user="auditor",
)
DPKG_INSTALL = Transaction(
    "dpkg.log",
    at("2026-12-07 05:59:44"),
    at("2026-12-07 05:59:44"),
    (PackageChange("install", "acme-debug", "0.9"),),
)
DPKG_CONFIGURE = Transaction(
    "dpkg.log",
    at("2026-12-07 05:59:45"),
    at("2026-12-07 05:59:45"),
    (PackageChange("configure", "acme-debug", "0.9"),),
)
APT_PURGE = Transaction(
    "apt history",
    at("2026-12-07 05:59:46"),
    at("2026-12-07 05:59:46"),
    (PackageChange("purge", "acme-debug", "0.9"),),
    command="apt-get purge -y -q acme-debug",
    user="auditor",
)
LOGIN = Login("root", "pts/1", "127.0.0.1", at("2026-12-07 05:59:49.98"), at("2026-12-07 05:59:52"))
RECORDS = HostRecords(
    (BOOTSTRAP, AGENT_INSTALL, AGENT_CONFIGURE, APT_INSTALL, DPKG_INSTALL, DPKG_CONFIGURE),
    (LOGIN,),
    at("2026-12-07 05:43:35"),
)
EDITED = int(at("2026-12-07 05:59:50"))  # the hand edit's ctime, inside the login
SHIPPED = int(at("2026-12-07 05:09:11"))  # dpkg wrote the conffile during the install
FILES = {
    CONF: FileTimes(EDITED, EDITED, "acme-agent"),
    "/etc/shipped.conf": FileTimes(SHIPPED - 100, SHIPPED + 2, "acme-agent"),
    "/etc/motd": FileTimes(int(at("2026-12-07 06:10:00")), int(at("2026-12-07 06:10:00"))),
    "/etc/near.conf": FileTimes(EDITED, EDITED),
    "/etc/old.conf": FileTimes(int(at("2026-01-01 00:00:00")), int(at("2026-01-01 00:00:00"))),
    "/etc/at-boot.conf": FileTimes(int(at("2026-12-07 05:20:00")), int(at("2026-12-07 05:20:00"))),
}
EVIDENCE = HostEvidence(RECORDS, FILES)
INSTALL_APT = Evidence(
    "apt history", "2026-12-07T05:59:44Z", "install acme-debug 0.9", "auditor", CMD
)
INSTALL_DPKG = Evidence("dpkg.log", "2026-12-07T05:59:44Z", "install acme-debug 0.9")
HAND = (
    "changed outside any package transaction of acme-agent: a hand edit "
    "(or a tool other than the package manager)"
)
LOGGED_IN = Evidence(
    "wtmp",
    "2026-12-07T05:59:49Z",
    "root logged in on pts/1 from 127.0.0.1 (2026-12-07T05:59:49Z to 2026-12-07T05:59:52Z)",
    user="root",
)


def pkg(kind: str, name: str = "acme-debug", target: str = "host") -> Finding:
    return Finding(target, "package", name, kind)


def file(path: str, kind: str = "modified") -> Finding:
    return Finding("host", "file", path, kind)


CASES: list[tuple[str, Finding, HostEvidence, tuple[Evidence, ...]]] = [
    ("installed between two runs: apt's entry and dpkg's, not dpkg's configure",
     pkg("unexpected"), EVIDENCE, (INSTALL_APT, INSTALL_DPKG)),
    ("a peer finding on a package is explained the same way",
     pkg("peer"), EVIDENCE, (INSTALL_APT, INSTALL_DPKG)),
    ("a purge: a missing package",
     pkg("missing"), HostEvidence(HostRecords((APT_PURGE,)), {}),
     (Evidence("apt history", "2026-12-07T05:59:46Z", "purge acme-debug 0.9", "auditor",
               "apt-get purge -y -q acme-debug"),)),
    ("a package no record names: nothing", pkg("version", "bash"), EVIDENCE, ()),
    ("an unknown check: nothing", pkg("unknown"), EVIDENCE, ()),
    ("a container's package is not in the host's logs", pkg("unexpected", target="container:x"),
     EVIDENCE, ()),
    ("a hand edit during a login: times, verdict, the session",
     file(CONF), EVIDENCE,
     (Evidence("stat", "2026-12-07T05:59:50Z", "modified 2026-12-07T05:59:50Z"),
      Evidence("stat", "2026-12-07T05:59:50Z", HAND), LOGGED_IN)),
    ("written by its package's transaction (ctime within seconds of dpkg's configure)",
     file("/etc/shipped.conf", "differs"), EVIDENCE,
     (Evidence("stat", "2026-12-07T05:09:13Z",
               "content modified 2026-12-07T05:07:31Z, last changed 2026-12-07T05:09:13Z"),
      Evidence("dpkg.log", "2026-12-07T05:09:11Z",
               "changed during a package transaction (install acme-agent 1.4.0)"))),
    ("a declared file of no known package: none was near, and nobody was logged in",
     file("/etc/motd", "content"), EVIDENCE,
     (Evidence("stat", "2026-12-07T06:10:00Z", "modified 2026-12-07T06:10:00Z"),
      Evidence("stat", "2026-12-07T06:10:00Z",
               "changed outside any package transaction: a hand edit "
               "(or a tool other than the package manager)"),
      Evidence("wtmp", None, "no login session was open then"))),
    ("a file of no known package: any transaction near it counts (never called a hand edit)",
     file("/etc/near.conf", "content"), EVIDENCE,
     (Evidence("stat", "2026-12-07T05:59:50Z", "modified 2026-12-07T05:59:50Z"),
      Evidence("dpkg.log", "2026-12-07T05:59:45Z",
               "changed during a package transaction (configure acme-debug 0.9)"),
      LOGGED_IN)),
    ("changed before the logs read begin: not known; wtmp does not reach back either",
     file("/etc/old.conf", "mode"), EVIDENCE,
     (Evidence("stat", "2026-01-01T00:00:00Z", "modified 2026-01-01T00:00:00Z"),
      Evidence("stat", "2026-01-01T00:00:00Z",
               "changed before the oldest package log entry read (2026-12-07T05:08:56Z): "
               "not known whether by a package"))),
    ("no package log at all: only the times and the logins",
     file("/etc/at-boot.conf", "extra"), HostEvidence(HostRecords((), (), None), FILES),
     (Evidence("stat", "2026-12-07T05:20:00Z", "modified 2026-12-07T05:20:00Z"),)),
    ("a file without times (missing): nothing", file("/etc/absent.conf", "missing"), EVIDENCE,
     ()),
    ("the `*` of a check not made: nothing", file("*", "unknown"), EVIDENCE, ()),
    ("a service: nothing", Finding("host", "service", "acme-agent.service", "stopped"),
     EVIDENCE, ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("finding", "evidence", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_explain(finding: Finding, evidence: HostEvidence, expected: tuple[Evidence, ...]) -> None:
    assert explain(finding, evidence) == expected


def test_attach_keeps_the_findings_and_their_order() -> None:
    findings = (pkg("unexpected"), file(CONF), Finding("host", "host", "age", "age"))
    attached = attach(findings, EVIDENCE)
    assert attached == findings  # evidence is not part of what a finding is
    assert [len(f.evidence) for f in attached] == [2, 3, 0]


def test_evidence_per_finding_is_bounded_newest_kept() -> None:
    many = tuple(
        Transaction("dpkg.log", 1000.0 + i, None, (PackageChange("upgrade", "p", str(i)),))
        for i in range(50)
    )
    found = explain(pkg("version", "p"), HostEvidence(HostRecords(many)))
    assert len(found) == MAX_EVIDENCE_PER_FINDING
    assert found[-1].summary == "upgrade p 49"


def test_keep_for_keeps_only_what_explains_the_findings() -> None:
    kept = keep_for(EVIDENCE, [pkg("unexpected"), file(CONF)])
    assert set(kept.files) == {CONF}
    assert kept.records.logins == (LOGIN,)
    assert set(kept.records.transactions) == {BOOTSTRAP, APT_INSTALL, DPKG_INSTALL, DPKG_CONFIGURE}
    # the same evidence as with everything kept (BOOTSTRAP, the oldest, bounds the claim)
    for finding in (pkg("unexpected"), file(CONF)):
        assert explain(finding, kept) == explain(finding, EVIDENCE)


def test_with_evidence_on_a_result() -> None:
    result = HostResult(Host("web01"), Status.SNOWFLAKE, (pkg("unexpected"),))
    assert with_evidence(result, None) is result
    assert with_evidence(result, EVIDENCE).findings[0].evidence == (INSTALL_APT, INSTALL_DPKG)
