"""Config trees against the peers, table-style: entries and authorized keys as values.py makes
them of what a host's trees hold (the lab test tests/e2e/test_hand_changes.py takes them from
real hosts) -> exactly these findings: extra, missing, differs, nothing for what is per host."""

from __future__ import annotations

from driftcheck.fleet.values import PeerValues, item, peer_values, tree_values
from driftcheck.model import (
    AuthorizedKey,
    ConfFile,
    ConfigTrees,
    DeclaredState,
    DirectorySpec,
    FileSpec,
    Observed,
    Outcome,
    Section,
    TreeEntry,
)
from driftcheck.model.vocab import Status
from tests.fleet.test_majority import run

CRON = "file md5:" + "c" * 32 + " 0644 root:root"
ALICE = AuthorizedKey("ssh-ed25519", "SHA256:alice", "alice@laptop")
MALLORY = AuthorizedKey("ssh-rsa", "SHA256:mallory", "m@x")
KEYS = "/root/.ssh/authorized_keys"


def entry(path: str, digest: str = "a", mode: str = "0644") -> TreeEntry:
    return TreeEntry(path, "file", mode, "root", "root", 1, 0, 0, digest * 32)


def host(name: str, *entries: TreeEntry, keys: tuple[AuthorizedKey, ...] = (ALICE,)) -> PeerValues:
    base = [entry("/etc/motd"), entry("/etc/ssh/ssh_host_ed25519_key", digest=name[-1])]
    trees = ConfigTrees({e.path: e for e in (*base, *entries)}, {KEYS: keys})
    values = tree_values(trees, Section(Outcome.COLLECTED, {}))
    return PeerValues(name, values | {item("host", "os"): "Debian 12"})


def rows(result: dict[str, tuple[str, list[tuple[str, ...]]]]) -> set[tuple[str, ...]]:
    return {(r[5], r[1], r[2], r[4] or "") for _, found in result.values() for r in found}


def test_a_dropped_cron_file_and_an_appended_key_are_extra_on_their_host_only() -> None:
    cron = TreeEntry("/etc/cron.d/evil", "file", "0644", "root", "root", 9, 0, 0, "c" * 32)
    result = run(
        [host("web1"), host("web2", cron), host("web3"), host("web4", keys=(ALICE, MALLORY))]
    )
    assert rows(result) == {
        ("web2", "/etc/cron.d/evil", "extra", CRON),
        ("web4", f"{KEYS}: ssh-rsa SHA256:mallory m@x", "extra", "present"),
    }
    assert result["web1"][0] == Status.COMPLIANT.value
    (found,) = result["web2"][1]
    assert (found[0], found[3]) == ("file", "absent (3 of 4 in web)")


def test_an_edited_file_differs_and_a_deleted_one_is_missing() -> None:
    edited = host("web3", entry("/etc/app.conf", digest="b"))
    lacking = host("web4")  # has no /etc/app.conf
    result = run([host("web1", entry("/etc/app.conf")), host("web2", entry("/etc/app.conf")),
                  edited, lacking, host("web5", entry("/etc/app.conf"))])  # fmt: skip
    assert rows(result) == {
        ("web3", "/etc/app.conf", "differs", "file md5:" + "b" * 32 + " 0644 root:root"),
        ("web4", "/etc/app.conf", "missing", "absent"),
    }


def test_per_host_entries_give_no_finding() -> None:
    """Host keys differ on every host: no value has a majority, so nothing is reported."""
    result = run([host("web1"), host("web2"), host("web3")])
    assert rows(result) == set()


def test_a_package_config_file_is_its_package_item_not_a_tree_item() -> None:
    trees = ConfigTrees({"/etc/nginx/nginx.conf": entry("/etc/nginx/nginx.conf")}, {})
    conf = ConfFile("/etc/nginx/nginx.conf", "nginx", "md5", "a" * 32, "a" * 32)
    values = tree_values(trees, Section(Outcome.COLLECTED, {conf.path: conf}))
    assert values == {}


def test_a_failed_tree_collection_is_one_unknown() -> None:
    broken = PeerValues("web3", {item("host", "os"): "Debian 12"},
                        failed={"tree": "find failed", "key": "find failed"})  # fmt: skip
    result = run([host("web1"), host("web2"), broken])
    assert [(r[0], r[1], r[2]) for r in result["web3"][1]] == [("file", "*", "unknown")]


def test_names_holding_a_newline_are_counted_as_an_entry_of_their_own() -> None:
    odd = ConfigTrees({}, {}, odd_names=2)
    values = tree_values(odd, Section(Outcome.COLLECTED, {}))
    assert values == {item("tree", "(names holding a newline)"): "2 entries"}


def test_declared_state_wins_over_the_trees() -> None:
    """A declared file, what a declared directory holds and a declared key file's keys are
    checked against the declaration only, never against the peers."""
    trees = ConfigTrees(
        {p: entry(p) for p in ("/etc/cron.d/job", "/etc/motd", "/etc/hosts", "/etc/cron.d")},
        {KEYS: (ALICE,)},
    )
    state = DeclaredState(
        files={"/etc/hosts": FileSpec("/etc/hosts"), KEYS: FileSpec(KEYS)},
        directories={"/etc/cron.d": DirectorySpec("/etc/cron.d", ())},
    )
    observed = Observed(trees=Section(Outcome.COLLECTED, trees))
    declared = peer_values("web1", state, observed).declared
    assert {k for k in declared if k.startswith(("tree", "key"))} == {
        item("tree", "/etc/hosts"),
        item("tree", "/etc/cron.d"),
        item("tree", "/etc/cron.d/job"),
        item("key", f"{KEYS}: {ALICE.describe()}"),
    }
