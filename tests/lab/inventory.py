"""What the scanner gets: an Ansible inventory with group_vars/host_vars and states/, an
ssh_config (HostName, User, IdentityFile, ProxyJump) and known_hosts from the hosts' real keys."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.lab import states
from tests.lab.scenario import HostDef, Scenario


def write_inventory(scenario: Scenario, inv_dir: Path, key: Path) -> Path:
    """inv_dir/hosts.ini, group_vars/, host_vars/, states/. Returns hosts.ini."""
    for sub in ("group_vars", "host_vars", "states/templates", "states/containers"):
        (inv_dir / sub).mkdir(parents=True, exist_ok=True)
    hosts_ini = inv_dir / "hosts.ini"
    hosts_ini.write_text(inventory_ini(scenario))
    group_vars = f"ansible_user: root\nansible_ssh_private_key_file: {key}\n"
    (inv_dir / "group_vars/all.yml").write_text(group_vars + states.GROUP_VARS_ALL)
    for host in scenario.hosts:
        if host.login != "root" or host.become:
            become = "true" if host.become else "false"
            text = f"ansible_user: {host.login}\nansible_become: {become}\n"
            (inv_dir / f"host_vars/{host.name}.yml").write_text(text)
    for rel, text in states.state_files().items():
        (inv_dir / "states" / rel).write_text(text)
    return hosts_ini


def inventory_ini(scenario: Scenario) -> str:
    lines = [f"# driftcheck lab inventory, scenario {scenario.name} (python -m tests.lab up)"]
    groups = ordered_groups(scenario.hosts)
    for group in groups:
        lines.append(f"\n[{group}]")
        for host in scenario.hosts:
            if host.groups[0] == group:
                address = host.inventory_address
                lines.append(host.name + (f" ansible_host={address}" if address else ""))
            elif group in host.groups:  # a further group: its address is given once
                lines.append(host.name)
    lines += ["\n[fleet:children]", *[g for g in groups if g not in ("broken", "bench")]]
    return "\n".join(lines) + "\n"


def ordered_groups(hosts: Iterable[HostDef]) -> list[str]:
    seen: list[str] = []
    for host in hosts:
        seen += [group for group in host.groups if group not in seen]
    return seen


def ssh_config(scenario: Scenario, key: Path, known_hosts: Path | None) -> str:
    """OpenSSH client config for every host; known_hosts only for the lab's own (admin) use."""
    blocks = [f"# driftcheck lab, scenario {scenario.name}"]
    for host in scenario.hosts:
        block = [f"Host {host.name}", f"  HostName {host.ssh_hostname or host.address}"]
        if host.login != "root":
            block.append(f"  User {host.login}")
        if host.proxy_jump:
            block.append(f"  ProxyJump {host.proxy_jump}")
        blocks.append("\n".join(block))
    common = [
        "Host *",
        "  User root",
        f"  IdentityFile {key}",
        "  IdentitiesOnly yes",
        "  BatchMode yes",
        "  StrictHostKeyChecking yes",
        "  ConnectTimeout 10",
    ]
    if known_hosts is not None:
        common += [f"  UserKnownHostsFile {known_hosts}", "  GlobalKnownHostsFile /dev/null"]
    return "\n\n".join([*blocks, "\n".join(common)]) + "\n"


def known_hosts_lines(scenario: Scenario, keys: dict[str, str]) -> str:
    """keys: host name -> 'type base64'. Entries are keyed the way OpenSSH looks them up:
    by the HostName it connects to (the address, or the name only the bastion resolves)."""
    lines = []
    for host in scenario.hosts:
        if host.name in keys:
            lines.append(f"{host.ssh_hostname or host.address} {keys[host.name]}")
    return "\n".join(lines) + "\n"
