"""The running lab as tests see it: paths, expected outcomes, and an SSH helper."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.lab import states
from tests.lab.paths import run_dir
from tests.lab.scenario import FINDING, HostDef, Scenario, by_name


@dataclass(frozen=True)
class Expected:
    status: str
    findings: frozenset[FINDING]


@dataclass(frozen=True)
class Lab:
    dir: Path
    scenario: Scenario

    @classmethod
    def load(cls, directory: Path | None = None) -> Lab:
        directory = directory or run_dir()
        state = json.loads((directory / "state.json").read_text())
        return cls(directory, by_name(state["scenario"]))

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory/hosts.ini"

    @property
    def known_hosts(self) -> Path:
        """Written from the hosts' real keys before any drift (keyrot01's key changed after)."""
        return self.dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        """For the scanner: HostName, User, IdentityFile, ProxyJump; no known_hosts."""
        return self.dir / "ssh_config"

    @property
    def admin_ssh_config(self) -> Path:
        """The lab's own: like ssh_config, with the lab's up-to-date known_hosts."""
        return self.dir / "admin/ssh_config"

    @property
    def private_key(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def exit_code(self) -> int:
        return self.scenario.exit_code

    @property
    def hosts(self) -> dict[str, HostDef]:
        return {h.name: h for h in self.scenario.hosts}

    @property
    def expected(self) -> dict[str, Expected]:
        return {h.name: Expected(h.status, h.findings) for h in self.scenario.hosts}

    def reachable(self) -> list[str]:
        """Hosts with a real sshd the lab can log in to (not the hostile listeners)."""
        return [h.name for h in self.scenario.hosts if h.booted]

    def declared_files(self, name: str) -> list[str]:
        return states.declared_files(self.hosts[name].groups)

    def ssh(
        self,
        host: str,
        cmd: str,
        input: bytes | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a shell command as root on a lab host (via `sudo -n` where root cannot log in)."""
        remote = cmd if self.hosts[host].login == "root" else f"sudo -n sh -c {shlex.quote(cmd)}"
        argv = ["ssh", "-F", str(self.admin_ssh_config), host, remote]
        proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")[-2000:]
            raise RuntimeError(f"lab ssh {host} {cmd[:80]!r}: exit {proc.returncode}\n{err}")
        return proc
