"""The captured state file: deterministic, and read back by the real state loader (Jinja2 then
YAML, schema v1) as exactly what was captured, whatever strings the host sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.capture import Capture, CapturedFile, CapturedService, render_state, scalar
from driftcheck.models import Host
from driftcheck.state import load_declared_state

TRAPS = [
    "1.10", "0644", "0755", "no", "yes", "on", "off", "~", "null", "true", "1e3", "0x1f",
    "1_000", "12:30", "2024-01-01", "-x", "it's", 'say "hi"', "a: b", "#x", "a #b", "",
    "{{ secret }}", "{% raw %}", "{# c #}", "é", "tab\\there", "[x]", "*alias", "&anchor",
    "!tag", "%p", "@x", "`cmd`", "$(touch PWNED)", "line\\nbreak", "1:9.2p1-2+deb12u3",
]  # fmt: skip


def load(tmp_path: Path, text: str) -> object:
    states = tmp_path / "states"
    states.mkdir(exist_ok=True)
    (states / "all.yml").write_text(text)
    return load_declared_state(states, Host("golden"))


@pytest.mark.parametrize("trap", TRAPS)
def test_every_string_reads_back_as_itself(tmp_path: Path, trap: str) -> None:
    capture = Capture(
        "golden",
        0.0,
        packages={f"pkg{trap}": ("1.0",)},
        files=(CapturedFile(f"/etc/x{trap}", "a" * 64, "0644", trap or "root", "root"),),
    )
    state = load(tmp_path, render_state(capture, "exact", "0.1.0"))
    path = f"/etc/x{trap}"
    assert list(state.files) == [path]  # type: ignore[attr-defined]
    assert state.files[path].owner == (trap or "root")  # type: ignore[attr-defined]
    assert list(state.packages) == [f"pkg{trap}"]  # type: ignore[attr-defined]


def test_scalar_is_plain_when_it_can_be() -> None:
    assert scalar("openssh-server") == "openssh-server"
    assert scalar("1:9.2p1-2+deb12u3") == "1:9.2p1-2+deb12u3"
    assert scalar("1.10") == '"1.10"'
    assert scalar("0644") == '"0644"'
    assert scalar("no") == '"no"'
    assert scalar("{{ x }}") == '"\\u007b\\u007b x }}"'


def test_versions_exact_and_present(tmp_path: Path) -> None:
    packages = {"a": ("1.10",), "b": ("2.0-1", "2.0-2"), "c": ("present",), "d": ("1 >= 2",)}
    capture = Capture("golden", 0.0, packages=packages)
    exact = load(tmp_path, render_state(capture, "exact", "0.1.0"))
    specs = {n: (s.op, s.version) for n, s in exact.packages.items()}  # type: ignore[attr-defined]
    assert specs == {
        "a": ("=", "1.10"),
        "b": ("present", None),  # two versions installed (multiarch): no one exact version
        "c": ("=", "present"),
        "d": ("present", None),
    }
    present = load(tmp_path, render_state(capture, "present", "0.1.0"))
    ops = {s.op for s in present.packages.values()}  # type: ignore[attr-defined]
    assert ops == {"present"}


def test_services_files_and_host(tmp_path: Path) -> None:
    capture = Capture(
        "golden",
        1764547200.0,
        services=(
            CapturedService("ssh.service", running=True, enabled=True),
            CapturedService("cron.service", running=True, enabled=False),
            CapturedService("idle.service", running=False, enabled=False),  # left out
        ),
        files=(CapturedFile("/etc/a.conf", "b" * 64, "0600", "root", "adm", package="a"),),
    )
    text = render_state(capture, "exact", "0.1.0")
    assert text.startswith("# Declared state captured from golden at 2025-12-01T00:00:00Z\n")
    state = load(tmp_path, text)
    services = {n: (s.running, s.enabled) for n, s in state.services.items()}  # type: ignore[attr-defined]
    assert services == {"ssh.service": (True, True), "cron.service": (True, False)}
    f = state.files["/etc/a.conf"]  # type: ignore[attr-defined]
    assert (f.sha256, f.mode, f.owner, f.group) == ("b" * 64, "0600", "root", "adm")
    assert state.unexpected_packages == "report"  # type: ignore[attr-defined]
    assert state.host.max_zombies == 0  # type: ignore[attr-defined]


def test_deterministic() -> None:
    a = Capture("g", 0.0, packages={"b": ("1",), "a": ("2",)})
    b = Capture("g", 0.0, packages={"a": ("2",), "b": ("1",)})
    assert render_state(a, "exact", "v") == render_state(b, "exact", "v")
