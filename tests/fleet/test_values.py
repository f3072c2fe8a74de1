"""What a host shows its peers: observed state -> one value per (category, item)."""

from __future__ import annotations

from driftcheck.fleet.values import PeerValues, item, peer_values, text_size
from driftcheck.model import (
    AuthorizedKey,
    ConfFile,
    ConfigTrees,
    DeclaredState,
    HostFacts,
    Observed,
    Outcome,
    Package,
    PackageSpec,
    Section,
    ServiceState,
    TreeEntry,
)


def observed(**sections: Section) -> Observed:  # type: ignore[type-arg]
    base = {
        "packages": Section(
            Outcome.COLLECTED,
            {"libc6": (Package("libc6", "2.36", "amd64"), Package("libc6", "2.36", "i386"))},
        ),
        "units": Section(
            Outcome.COLLECTED, {"ssh.service": ServiceState("ssh.service", "loaded", "active", "")}
        ),
        "conffiles": Section(
            Outcome.COLLECTED,
            {"/etc/a": ConfFile("/etc/a", "a", "md5", "1" * 32, "2" * 32, "0640", "root", "adm")},
        ),
        "facts": Section(Outcome.COLLECTED, HostFacts(os="Debian 12", kernel="6.1.0")),
        "trees": Section(
            Outcome.COLLECTED,
            ConfigTrees(
                {
                    p: TreeEntry(p, "file", "0644", "root", "root", 1, 0, 0, "3" * 32)
                    for p in ("/etc/a", "/etc/b")
                },
                {"/root/.ssh/authorized_keys": (AuthorizedKey("ssh-ed25519", "SHA256:k", "me"),)},
            ),
        ),
    }
    return Observed(**{**base, **sections})


def test_values_of_each_category() -> None:
    values = peer_values("h", DeclaredState(), observed())
    assert values == PeerValues(
        "h",
        {
            item("package", "libc6"): "2.36",
            item("service", "ssh.service"): "no unit file, active",
            item("file", "/etc/a"): f"md5:{'2' * 32} 0640 root:adm",
            # /etc/a is its package's config file: its own item above, not a tree entry
            item("tree", "/etc/b"): f"file md5:{'3' * 32} 0644 root:root",
            item("key", "/root/.ssh/authorized_keys: ssh-ed25519 SHA256:k me"): "present",
            item("host", "os"): "Debian 12",
            item("host", "kernel"): "6.1.0",
        },
    )
    assert values.size == text_size(values.values)  # what the fleet stage's limit counts


def test_declared_items_and_judged_categories() -> None:
    state = DeclaredState(
        packages={"libc6": PackageSpec("libc6", "present")}, unexpected_packages="report"
    )
    values = peer_values("h", state, observed())
    assert values.declared == frozenset({item("package", "libc6")})
    assert values.judged == frozenset({"package"})


def test_failed_and_unsupported_sections_take_no_part() -> None:
    values = peer_values(
        "h",
        DeclaredState(),
        observed(
            units=Section(Outcome.UNSUPPORTED, None, "no systemd"),
            conffiles=Section(Outcome.FAILED, None, "dpkg-query exited 2"),
        ),
    )
    assert values.failed == {"file": "dpkg-query exited 2"}
    assert values.unsupported == frozenset({"service"})
    assert not values.takes_part("file")
    assert not values.takes_part("service")
    assert values.takes_part("package")
