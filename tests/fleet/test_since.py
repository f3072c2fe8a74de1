"""Changed since the host's last run: surfaces cut into digested buckets, compared bucket by
bucket, and the findings they give."""

from __future__ import annotations

from collections.abc import Mapping

from driftcheck.fleet.since import (
    BUCKETS,
    Stored,
    bucket,
    changed_since,
    digest,
    since_findings,
    surface,
)
from driftcheck.fleet.values import PeerValues, item
from driftcheck.limits import MAX_FINDINGS
from driftcheck.model import Finding, Host, HostResult
from driftcheck.model.vocab import Kind, Status

BASE = {
    item("package", "nginx"): "1.22.1-9",
    item("package", "curl"): "7.88.1-10",
    item("service", "ssh.service"): "enabled, active",
    item("service", "apt-daily.service"): "static, inactive",
    item("tree", "/etc/cron.d/php"): "file md5:" + "1" * 32 + " 0644 root:root",
    item("file", "/etc/ssh/sshd_config"): "md5:" + "2" * 32 + " 0644 root:root",
}
ALL = frozenset({"package", "service", "file", "host", "tree", "key"})


def values(pairs: Mapping[str, str], **extra: object) -> PeerValues:
    return PeerValues("web01", dict(pairs), **extra)  # type: ignore[arg-type]


def stored(pairs: Mapping[str, str], run: str = "run-1") -> tuple[Stored, list[int]]:
    """A surface as the history gives it back, counting which buckets were opened."""
    found, cut = surface(values(pairs))
    opened: list[int] = []

    def pairs_of(index: int) -> Mapping[str, str]:
        opened.append(index)
        return cut[index]

    return Stored(found, run, pairs_of), opened


def changes(before: Mapping[str, str], after: PeerValues) -> list[Finding]:
    old, _ = stored(before)
    now, cut = surface(after)
    return since_findings(old, now, cut, after)


def test_a_bucket_is_stable_and_its_digest_depends_on_every_pair_not_their_order() -> None:
    assert bucket(item("package", "nginx")) == bucket(item("package", "nginx")) < BUCKETS
    pairs = dict(BASE)
    assert digest(pairs) == digest(dict(reversed(list(pairs.items()))))
    assert digest(pairs) != digest({**pairs, item("package", "nginx"): "1.22.1-10"})
    # an item's name and value cannot be shifted into each other
    assert digest({"package\0a b": "c"}) != digest({"package\0a": "b c"})


def test_nothing_changed_opens_no_bucket_and_finds_nothing() -> None:
    old, opened = stored(BASE)
    now, cut = surface(values(BASE))
    assert since_findings(old, now, cut, values(BASE)) == []
    assert opened == []


def test_added_removed_and_changed_values_are_findings_of_their_category() -> None:
    after = dict(BASE)
    after[item("package", "strace")] = "6.1-0.1"
    del after[item("package", "curl")]
    after[item("tree", "/etc/cron.d/php")] = "file md5:" + "9" * 32 + " 0644 root:root"
    after[item("key", "/root/.ssh/authorized_keys: ssh-ed25519 SHA256:x m@e")] = "present"
    found = {
        (f.category, f.item, f.kind, f.expected, f.actual) for f in changes(BASE, values(after))
    }
    since = Kind.SINCE_LAST_RUN
    assert found == {
        ("package", "strace", since, "absent", "6.1-0.1"),
        ("package", "curl", since, "7.88.1-10", "absent"),
        ("file", "/etc/cron.d/php", since, BASE[item("tree", "/etc/cron.d/php")],
         after[item("tree", "/etc/cron.d/php")]),
        ("file", "/root/.ssh/authorized_keys: ssh-ed25519 SHA256:x m@e", since, "absent",
         "present"),
    }  # fmt: skip


def test_declared_items_judged_categories_and_failed_collections_are_left_out() -> None:
    after = {**BASE, item("package", "nginx"): "1.22.1-10", item("package", "strace"): "6.1"}
    declared = values(after, declared=frozenset({item("package", "nginx")}))
    assert [f.item for f in changes(BASE, declared)] == ["strace"]
    assert changes(BASE, values(after, judged=frozenset({"package"}))) == []
    # packages failed to collect this time: their absence is no removal
    failed = values({k: v for k, v in after.items() if not k.startswith("package")},
                    failed={"package": "dpkg-query: error"})  # fmt: skip
    assert changes(BASE, failed) == []


def test_units_caught_starting_and_per_connection_instances_are_no_change() -> None:
    after = {
        **BASE,
        item("service", "apt-daily.service"): "static, activating",
        item("service", "sshd@3-127.0.0.1:22-127.0.0.1:5.service"): "static, active",
    }
    assert changes(BASE, values(after)) == []
    stopped = {**BASE, item("service", "ssh.service"): "enabled, inactive"}
    assert [f.item for f in changes(BASE, values(stopped))] == ["ssh.service"]


def test_changed_since_makes_the_host_a_snowflake_and_keeps_a_snapshot_of_each_host() -> None:
    web = HostResult(Host("web01"), Status.COMPLIANT)
    gone = HostResult(Host("web02"), Status.UNREACHABLE)
    plain = HostResult(Host("web03"), Status.COMPLIANT)
    after = values({**BASE, item("package", "strace"): "6.1"})
    old, _ = stored(BASE, "20261201T030000Z-0001")
    outcome = changed_since([web, gone, plain], [after, None, after], {"web01": old})
    first, second, third = outcome.results
    assert first.status is Status.SNOWFLAKE
    assert [f.detail for f in first.findings] == [
        "changed on this host since its last audited run (20261201T030000Z-0001)"
    ]
    assert second is gone  # no values: nothing to compare
    assert third is plain  # no past: nothing to compare with
    assert set(outcome.snapshots) == {"web01", "web03"}
    assert changed_since([web], [after], None).snapshots == {}  # no history: nothing kept


def test_a_host_cut_at_a_limit_keeps_its_last_surface_and_is_not_compared() -> None:
    cut = HostResult(
        Host("web01"), Status.ERROR, (Finding("host", "collector", "output", Kind.LIMIT),)
    )
    old, _ = stored(BASE)
    outcome = changed_since([cut], [values({})], {"web01": old})
    assert outcome.results == [cut]
    assert outcome.snapshots == {}


def test_changes_past_the_findings_limit_leave_one_limit_finding() -> None:
    many = {item("package", f"pkg{i}"): "1.0" for i in range(MAX_FINDINGS + 1)}
    old, _ = stored({})
    web = HostResult(Host("web01"), Status.COMPLIANT)
    (result,) = changed_since([web], [values(many)], {"web01": old}).results
    assert result.status is Status.ERROR
    ((finding,),) = [result.findings]
    assert finding.kind == Kind.LIMIT
    assert f"{MAX_FINDINGS + 1:,} of them since its last run" in (finding.detail or "")
