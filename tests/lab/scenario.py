"""The lab's fleet: every host, the drift injected into it, and what a correct scan must report.

Expected outcomes are written here, beside the drift that causes them. A finding is the tuple
(target, category, item, kind) of the JSON report. The declared state is in tests/lab/states.py.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from tests.lab import debs, states
from tests.lab.base import DEBIAN_IMAGE_TAR
from tests.lab.paths import net

FINDING = tuple[str, str, str, str]
NET = net()
DMZ_NAME = "dmz01.dmz.invalid"  # resolvable only in the bastion's /etc/hosts
DMZ_ADDR = f"{NET}.200.10"
UNREACHABLE_ADDR = f"{NET}.201.1"  # nothing listens here
TARPIT_ADDR = f"{NET}.201.2"  # accepts TCP, never sends a banner


@dataclass(frozen=True)
class HostDef:
    name: str
    groups: tuple[str, ...]
    address: str  # where its sshd (or the tarpit) listens
    kind: str = "nspawn"  # "nspawn" | "absent" (nothing listens) | "tarpit"
    status: str = "compliant"  # expected
    findings: frozenset[FINDING] = frozenset()  # expected, exactly
    drift: str = ""  # shell script run as root over SSH once the fleet is up
    uploads: tuple[str, ...] = ()  # lab .debs copied to /var/tmp on the host before the drift
    rotate_key: bool = False  # new host key after known_hosts was written
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # provisioned at boot
    login: str = "root"
    become: bool = False
    sshd_extra: str = ""
    etc_hosts: str = ""
    ssh_hostname: str | None = None  # HostName in ssh_config when it is not the address
    proxy_jump: str | None = None
    upper_on_loop: bool = False
    containers: bool = False  # runs podman: container storage bound in, CAP_NET_ADMIN
    audited_containers: tuple[str, ...] = ()  # expected: exec'd into once each per audit

    @property
    def inventory_address(self) -> str | None:
        """ansible_host; None when only ssh_config knows how to reach the host."""
        return None if self.proxy_jump else self.address

    @property
    def booted(self) -> bool:
        return self.kind == "nspawn"


@dataclass(frozen=True)
class Scenario:
    name: str
    hosts: tuple[HostDef, ...]
    exit_code: int  # expected exit code of `driftcheck scan` over the whole inventory

    def host(self, name: str) -> HostDef:
        return next(h for h in self.hosts if h.name == name)


def f(category: str, item: str, kind: str) -> FINDING:
    return ("host", category, item, kind)


def address(index: int) -> str:
    return f"{NET}.{index // 200}.{10 + index % 200}"


CONF = "/etc/acme/agent.conf"
AGENT = "acme-agent.service"


def default() -> Scenario:
    """Every kind of drift and every hostile host the scan must survive, one host each."""
    specs = [
        *plain_hosts(),
        *drifted_hosts(),
        *hostile_hosts(),
        *access_hosts(),
        *container_hosts(),
    ]
    hosts = tuple(
        HostDef(**{**spec, "address": spec.get("address") or address(i)})  # type: ignore[arg-type]
        for i, spec in enumerate(specs)
    )
    return Scenario("default", hosts, exit_code=2)


def bench(count: int) -> Scenario:
    """N plain compliant hosts, for benchmarks."""
    hosts = tuple(HostDef(f"bench{i:03d}", ("bench",), address(i)) for i in range(count))
    return Scenario(f"bench:{count}", hosts, exit_code=0)


# Peers: a peer group of real hosts, each drift on one of them (tests/e2e/test_peers.py).
# Most members are hosts of the other scenarios, whose drift is the kind peers must find.
PEERS = "peers"
PEER_DRIFT = {"web03": "extra package", "web04": "other version", "app01": "edited conffile",
              "peer01": "disabled and stopped service"}  # fmt: skip
PEERS_CLEAN = ("web01", "web02", "old01")


def plain_hosts() -> list[dict[str, object]]:
    return [
        {"name": "web01", "groups": ("web", PEERS)},
        {"name": "web02", "groups": ("web", PEERS)},
        # Disabled and stopped: the unit's enablement and its active state both differ.
        snowflake("peer01", PEERS, f("service", AGENT, "stopped"), f("service", AGENT, "disabled"),
                  drift=f"systemctl disable --now {AGENT}"),
    ]  # fmt: skip


def drifted_hosts() -> list[dict[str, object]]:
    deb_old, deb_debug = debs.AGENT_OLD.filename, debs.DEBUG.filename
    return [
        snowflake("web03", "web", f("package", "acme-debug", "unexpected"),
                  drift=f"dpkg -i /var/tmp/{deb_debug}", uploads=(deb_debug,),
                  groups=("web", PEERS)),
        snowflake("web04", "web", f("package", "acme-agent", "version"),
                  drift=f"dpkg -i --force-confold /var/tmp/{deb_old}", uploads=(deb_old,),
                  groups=("web", PEERS)),
        snowflake("app01", "app", f("file", CONF, "content"),
                  drift=f"sed -i 's/^interval = 60$/interval = 5/' {CONF}", groups=("app", PEERS)),
        snowflake("app02", "app", f("file", CONF, "mode"), drift=f"chmod 0666 {CONF}"),
        snowflake("app03", "app", f("service", AGENT, "stopped"), drift=f"systemctl stop {AGENT}"),
        snowflake("app04", "app", f("service", AGENT, "disabled"),
                  drift=f"systemctl disable {AGENT}"),
        snowflake("job01", "batch", f("host", "zombies", "zombies"), drift=ZOMBIES),
        # overlayfs on ext4 reports a birth time, which `touch` cannot change; this host's
        # writable layer sits on a filesystem without one, so provisioning falls back to mtime.
        snowflake("old01", "batch", f("host", "age", "age"), upper_on_loop=True,
                  drift="touch -d '90 days ago' /etc/machine-id", groups=("batch", PEERS)),
    ]  # fmt: skip


# Two children that exit at once under a parent that never reaps them: two zombies.
ZOMBIES = """systemd-run --unit=leaky sh -c 'sleep 0.2 & sleep 0.2 & exec sleep 100000'
for _ in $(seq 100); do
  [ "$(ps -eo stat= | grep -c '^Z')" -ge 2 ] && exit 0
  sleep 0.1
done
echo 'no zombies appeared' >&2; exit 1
"""


def hostile_hosts() -> list[dict[str, object]]:
    odd = states.ODD_FILE
    return [
        snowflake("odd01", "odd", f("file", states.INDEX_HTML, "content"),
                  f("file", states.RAW_BIN, "content"), f("file", odd, "content"),
                  files=states.odd_files(), drift=odd_drift()),
        snowflake("big01", "storage", f("file", states.BLOB, "content"),
                  files={states.BLOB: (states.blob(), 0o644)},
                  drift=f"printf X | dd of={states.BLOB} bs=1 seek=25000000 conv=notrunc"),
        {"name": "keyrot01", "groups": ("broken",), "status": "error", "rotate_key": True},
        {"name": "unreach01", "groups": ("broken",), "kind": "absent",
         "status": "unreachable", "address": UNREACHABLE_ADDR},
        # Accepts TCP, never speaks: no SSH connection within the deadline, so unreachable.
        {"name": "hang01", "groups": ("broken",), "kind": "tarpit", "status": "unreachable",
         "address": TARPIT_ADDR},
    ]  # fmt: skip


def odd_drift() -> str:
    odd = shlex.quote(states.ODD_FILE)
    return (
        f"sed -i 's|<h1>welcome</h1>|<h1>owned</h1><script>alert(document.cookie)</script>|'"
        f" {states.INDEX_HTML}\n"
        f"printf 'caf\\351 \\377\\376 </script>\\n' >> {states.INDEX_HTML}\n"
        f"printf '\\200\\377' >> {states.RAW_BIN}\n"
        f"sed -i 's/x = 1/x = 2/' {odd}\n"
    )


def access_hosts() -> list[dict[str, object]]:
    secret = states.SECRET_KEY
    return [
        # Root cannot log in; the audit logs in as `auditor` and reads the 0600 file via sudo -n.
        snowflake("sudo01", "db", f("file", secret, "content"), login="auditor", become=True,
                  sshd_extra="PermitRootLogin no\n", files={secret: (states.SECRET, 0o600)},
                  drift=f"echo rotated-by-hand > {secret}"),
        {"name": "bastion", "groups": ("edge",), "etc_hosts": f"{DMZ_ADDR}\t{DMZ_NAME}\n"},
        # Only the bastion resolves dmz01's name: the scanner must go through ProxyJump.
        snowflake("dmz01", "dmz", f("package", "acme-debug", "unexpected"),
                  address=DMZ_ADDR, ssh_hostname=DMZ_NAME, proxy_jump="bastion",
                  drift=f"dpkg -i /var/tmp/{debs.DEBUG.filename}", uploads=(debs.DEBUG.filename,)),
    ]  # fmt: skip


def c(name: str, category: str, item: str, kind: str) -> FINDING:
    return (f"container:{name}", category, item, kind)


# Images without a registry: `podman import` of root filesystems made on the host.
# app:1.4 and app:1.3 are busybox-only (the base's busybox-static and its applets) with an
# /etc/app.conf; debian:12 is the base's debootstrap minbase (a real dpkg inside).
BUSYBOX_APPLETS = "sh sleep cat ls stat sha256sum head base64 date uname id ps sed"
IMAGES = f"""rm -rf /var/tmp/img && mkdir -p /var/tmp/img/bin /var/tmp/img/etc
cp /bin/busybox /var/tmp/img/bin/
for applet in {BUSYBOX_APPLETS}; do ln -s busybox /var/tmp/img/bin/$applet; done
printf '{states.APP_CONF}' > /var/tmp/img/etc/app.conf
for version in 1.3 1.4; do
  echo "$version" > /var/tmp/img/etc/app-release
  tar -C /var/tmp/img -c . | podman import -q - localhost/app:$version >/dev/null
done
rm -rf /var/tmp/img
podman import -q /{DEBIAN_IMAGE_TAR} {states.DEBIAN_IMAGE} >/dev/null
"""
# A PID 1 that never reaps: the child's exit leaves a zombie for as long as the container runs.
LEAKY = "sh -c 'sleep 0.2 & exec sleep 100000'"
WAIT_ZOMBIE = """for _ in $(seq 100); do
  ps -eo stat=,args= | grep -q '^Z' && exit 0
  sleep 0.1
done
echo 'no zombie appeared in the leaky container' >&2; exit 1
"""


def ctr01_drift() -> str:
    """podman by hand: wrong image, a file edited and a package installed in running containers,
    a container that leaks zombies."""
    run = "podman run -d -q --network none --name"
    deb = debs.DEBUG.filename
    return (
        IMAGES
        + f"{run} web localhost/app:1.3 sleep 100000 >/dev/null\n"
        + f"{run} conf {states.APP_IMAGE} sleep 100000 >/dev/null\n"
        + f"podman exec conf sed -i 's/80/8080/' {states.APP_CONF_PATH}\n"
        + f"{run} pkg {states.DEBIAN_IMAGE} sleep infinity >/dev/null\n"
        + f"podman cp /var/tmp/{deb} pkg:/tmp/{deb}\n"
        + f"podman exec pkg dpkg -i /tmp/{deb} >/dev/null\n"
        + f"{run} leaky {states.APP_IMAGE} {LEAKY} >/dev/null\n"
        + WAIT_ZOMBIE
    )


def ctr02_drift() -> str:
    """The docker command (podman-docker): a compliant container, one stopped, a debug one."""
    run = "docker run -d -q --network none --name"
    return (
        IMAGES
        + f"{run} ok {states.DEBIAN_IMAGE} sleep infinity >/dev/null\n"
        + f"{run} db {states.APP_IMAGE} sleep 100000 >/dev/null\n"
        + "docker stop -t 0 db >/dev/null\n"
        + f"{run} debug {states.APP_IMAGE} sleep 100000 >/dev/null\n"
    )


def container_hosts() -> list[dict[str, object]]:
    deb = debs.DEBUG.filename
    return [
        # busybox containers have no package database: their package checks are unknown, and
        # unknown checks make the host an error (never compliant, never "missing").
        {"name": "ctr01", "groups": ("ctr",), "containers": True, "status": "error",
         "findings": frozenset({
             c("web", "container", "web", "image"),
             c("conf", "file", states.APP_CONF_PATH, "content"),
             c("pkg", "package", "acme-debug", "unexpected"),
             c("leaky", "container", "leaky", "zombies"),
             c("leaky", "package", "curl", "unknown"),
             # the container's zombie is a process of the host too: the host check sees it
             f("host", "zombies", "zombies"),
             # edited and installed into by hand: their file systems changed since they started
             f("container", "conf", "changed"),
             f("container", "pkg", "changed"),
         }),
         "drift": ctr01_drift(), "uploads": (deb,),
         "audited_containers": ("conf", "pkg", "leaky")},
        # Its only drift is in its containers: a snowflake.
        snowflake("ctr02", "ctr", c("db", "container", "db", "stopped"),
                  c("cache", "container", "cache", "missing"),
                  c("debug", "container", "debug", "unexpected"),
                  containers=True, drift=ctr02_drift(), audited_containers=("ok",)),
    ]  # fmt: skip


def snowflake(name: str, group: str, *findings: FINDING, **rest: object) -> dict[str, object]:
    return {
        "name": name,
        "groups": (group,),
        "status": "snowflake",
        "findings": frozenset(findings),
        **rest,
    }


def by_name(name: str) -> Scenario:
    if name == "default":
        return default()
    if name.startswith("bench:"):
        return bench(int(name.split(":", 1)[1]))
    raise ValueError(f"unknown lab scenario {name!r}")
