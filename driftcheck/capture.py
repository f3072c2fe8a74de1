"""`driftcheck capture`: a golden host's observed state, written as a declared-state file.

The file is what the host passes: scanning the same host against it finds nothing. It is
written by hand rather than by a YAML library, because it is read back through Jinja2 before
YAML: a `{{` in a path or a version from the host must reach the YAML parser as data, never as
template source. Every scalar that YAML would not read back as the same string is written as
a JSON string (valid YAML) with `{` escaped, so the file is deterministic and trap-free.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import yaml

VERSIONS = ("exact", "present")

# Plain scalars that YAML 1.1 (PyYAML) reads back as the same string: no indicator first, no
# `: ` or ` #` inside, no Jinja delimiters; then the resolver must also call it a string.
_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./+~:@-]*")
_RESOLVER = yaml.resolver.Resolver()  # the one SafeLoader uses


@dataclass(frozen=True)
class CapturedFile:
    path: str
    sha256: str | None
    mode: str | None
    owner: str | None
    group: str | None
    package: str = ""  # the package whose conffile this is, if any


@dataclass(frozen=True)
class CapturedService:
    name: str
    running: bool
    enabled: bool


@dataclass(frozen=True)
class Capture:
    """What one host looked like, in declared-state terms."""

    host: str
    taken: float
    packages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> versions
    services: tuple[CapturedService, ...] = ()
    files: tuple[CapturedFile, ...] = ()
    max_zombies: int = 0


def render_state(capture: Capture, versions: str, tool_version: str) -> str:
    """The declared-state YAML for `capture`, deterministic for a given input."""
    stamp = datetime.fromtimestamp(capture.taken, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        f"# Declared state captured from {_comment(capture.host)} at {stamp}",
        f"# by driftcheck {_comment(tool_version)} (driftcheck capture). Review before use:",
        "# this is what the host looked like, not necessarily what it should be.",
        "",
        "packages:",
        *_packages(capture.packages, versions),
        "unexpected_packages: report",
    ]
    lines += _services(capture.services)
    lines += _files(capture.files)
    lines += ["host:", f"  max_zombies: {capture.max_zombies}"]
    return "\n".join(lines) + "\n"


def _packages(packages: Mapping[str, tuple[str, ...]], versions: str) -> list[str]:
    out = []
    for name in sorted(packages):
        found = sorted(set(packages[name]))
        # Several versions (multiarch at different versions) cannot be one exact spec.
        spec = _exact(found[0]) if versions == "exact" and len(found) == 1 else "present"
        out.append(f"  {scalar(name)}: {scalar(spec)}")
    return out or ["  {}"]


def _exact(version: str) -> str:
    """The spec that means exactly `version` (schema v1: a bare version, or `= version`)."""
    if not version or any(c.isspace() or c in "<>=" for c in version):
        return "present"  # no package manager writes such a version; a hostile host might
    return f"= {version}" if version in ("present", "absent", "latest") else version


def _services(services: Iterable[CapturedService]) -> list[str]:
    chosen = sorted((s for s in services if s.running or s.enabled), key=lambda s: s.name)
    if not chosen:
        return []
    return ["services:"] + [
        f"  {scalar(s.name)}: {{running: {_bool(s.running)}, enabled: {_bool(s.enabled)}}}"
        for s in chosen
    ]


def _files(files: Iterable[CapturedFile]) -> list[str]:
    out = []
    for f in sorted(files, key=lambda f: f.path):
        note = f"  # from package {_comment(f.package)}" if f.package else ""
        out.append(f"  {scalar(f.path)}:{note}")
        for key in ("sha256", "mode", "owner", "group"):
            value = getattr(f, key)
            if value is not None:
                out.append(f"    {key}: {scalar(value)}")
    return ["files:", *out] if out else []


def scalar(text: str) -> str:
    """`text` as a YAML scalar that reads back as exactly this string, through Jinja2 too."""
    if _PLAIN.fullmatch(text) and _resolves_to_str(text):
        return text
    return json.dumps(text, ensure_ascii=True).replace("{", "\\u007b")


def _resolves_to_str(text: str) -> bool:
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
    return bool(tag == "tag:yaml.org,2002:str")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _comment(text: str) -> str:
    """Host data in a comment: one line, no Jinja delimiters."""
    return re.sub(r"[^A-Za-z0-9_.:@+~-]", "?", text)[:200]
