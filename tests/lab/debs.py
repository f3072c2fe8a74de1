"""Small Debian packages the lab builds with `dpkg-deb --root-owner-group`.

acme-agent (two versions, a real conffile, a systemd unit) is what the fleet runs; acme-debug is
what someone installs by hand. Their contents are data here so the scenario can declare them.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

AGENT_CONF_PATH = "/etc/acme/agent.conf"
AGENT_CONF = "server = acme.lab.invalid\ninterval = 60\n"
AGENT_BIN = (
    "#!/bin/sh\n# A tiny daemon: a sleep loop that waits for its children (no zombies).\n"
    "while :; do sleep 3600; done\n"
)
AGENT_UNIT = """[Unit]
Description=ACME agent (driftcheck lab)

[Service]
ExecStart=/usr/bin/acme-agent

[Install]
WantedBy=multi-user.target
"""
DEBUG_BIN = "#!/bin/sh\necho 'acme-debug: nothing to see'\n"


@dataclass(frozen=True)
class Deb:
    name: str
    version: str
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (content, mode)
    conffiles: tuple[str, ...] = ()
    description: str = "driftcheck lab package"

    @property
    def filename(self) -> str:
        return f"{self.name}_{self.version}_all.deb"


def agent(version: str) -> Deb:
    return Deb(
        "acme-agent",
        version,
        {
            AGENT_CONF_PATH: (AGENT_CONF, 0o644),
            "/usr/bin/acme-agent": (AGENT_BIN, 0o755),
            "/lib/systemd/system/acme-agent.service": (AGENT_UNIT, 0o644),
        },
        conffiles=(AGENT_CONF_PATH,),
        description="ACME fleet agent (a sleep loop)",
    )


DEBUG = Deb("acme-debug", "0.9", {"/usr/bin/acme-debug": (DEBUG_BIN, 0o755)})
AGENT_OLD = agent("1.2.0")
AGENT_NEW = agent("1.4.0")
ALL = (AGENT_OLD, AGENT_NEW, DEBUG)


def recipe_text() -> str:
    """Changes whenever a package's contents change (part of the golden layer's hash)."""
    return repr(ALL)


def control(deb: Deb) -> str:
    return (
        f"Package: {deb.name}\nVersion: {deb.version}\nArchitecture: all\n"
        f"Maintainer: driftcheck lab <lab@lab.invalid>\nSection: admin\nPriority: optional\n"
        f"Description: {deb.description}\n"
    )


def build_deb(deb: Deb, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / deb.filename
    with tempfile.TemporaryDirectory(prefix="lab-deb-") as tmp:
        root = Path(tmp)
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN/control").write_text(control(deb))
        if deb.conffiles:
            (root / "DEBIAN/conffiles").write_text("".join(f"{c}\n" for c in deb.conffiles))
        for path, (content, mode) in deb.files.items():
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(content)
            dest.chmod(mode)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(root), str(target)],
            check=True,
            capture_output=True,
        )
    return target


def build_all(out_dir: Path) -> dict[str, Path]:
    return {deb.filename: build_deb(deb, out_dir) for deb in ALL}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
