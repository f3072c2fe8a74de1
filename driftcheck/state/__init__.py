"""Declared state: find a host's state files, render them, merge them, validate them.

    all.yml -> <group>.yml (in the host's group order) -> <host>.yml, later wins.

Each file is rendered with Jinja2 and the host's variables, then read as YAML (safe loader,
line numbers kept), merged deeply, and checked against schema v1. Any problem is a
`StateError` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from driftcheck.errors import StateError
from driftcheck.model import DeclaredState, Host, Origin
from driftcheck.state.directories import normalise_directories
from driftcheck.state.duration import parse_duration
from driftcheck.state.files import normalise_paths
from driftcheck.state.lines import LineMap
from driftcheck.state.merge import merge_all
from driftcheck.state.schema import build_state
from driftcheck.state.sources import Renderer
from driftcheck.state.yamlload import YMap, load_yaml
from driftcheck.templating import secrets_of

__all__ = ["default_states_dir", "load_declared_state", "parse_duration", "state_files_for"]

SUFFIXES = (".yml", ".yaml")


def default_states_dir(inventory_root: Path) -> Path:
    """`states/` beside the inventory (`inventory_root` is its directory, or the inventory file)."""
    root = inventory_root if inventory_root.is_dir() else inventory_root.parent
    return root / "states"


def state_files_for(states_dir: Path, host: Host) -> list[Path]:
    """The existing state files of `host`, lowest precedence first."""
    names = ["all", *(g for g in host.groups if g != "all"), host.name]
    # A name listed twice (a host named like a group) counts where it ranks highest.
    names = [n for i, n in enumerate(names) if n not in names[i + 1 :]]
    return [
        states_dir / f"{name}{suffix}"
        for name in names
        if "/" not in name and "\x00" not in name
        for suffix in SUFFIXES
        if (states_dir / f"{name}{suffix}").is_file()
    ]


def load_declared_state(states_dir: Path, host: Host) -> DeclaredState:
    """The merged, validated declared state of `host`. Raises StateError."""
    state = _Loader(states_dir, host).host_state()
    return hide_secrets(state, secrets_of(host.vars))


def hide_secrets(state: DeclaredState, secrets: Collection[str]) -> DeclaredState:
    """A declared file whose content holds a vault secret is compared by digest only
    (`sensitive`), so that neither its expected content nor a diff reaches a report."""
    if not secrets:
        return state
    files = {
        path: replace(spec, sensitive=True) if _holds(spec.content, secrets) else spec
        for path, spec in state.files.items()
    }
    containers = {
        name: replace(spec, state=hide_secrets(spec.state, secrets)) if spec.state else spec
        for name, spec in state.containers.items()
    }
    return replace(state, files=files, containers=containers)


def _holds(content: str | None, secrets: Collection[str]) -> bool:
    return content is not None and any(secret in content for secret in secrets)


class _Loader:
    """Reads the state files of one host with one Jinja2 environment."""

    def __init__(self, states_dir: Path, host: Host) -> None:
        self.states_dir = states_dir
        self.host = host
        self.renderer = Renderer(states_dir, host.vars)

    def host_state(self) -> DeclaredState:
        paths = state_files_for(self.states_dir, self.host)
        tree = merge_all([self.read(path) for path in paths], Origin(str(self.states_dir), 0))
        sources = tuple(str(p) for p in paths)
        return build_state(tree, sources, self.render_template, self.container_state)

    def read(self, path: Path, referrer: Origin | None = None) -> YMap:
        """One state file, rendered and parsed: a mapping (an empty file is an empty one)."""
        rendered = self.renderer.render(path, referrer)
        lines = LineMap(self.renderer.source(path), rendered)
        data = load_yaml(rendered, str(path), lines)
        if data is None:
            return YMap(Origin(str(path), 1))
        if not isinstance(data, YMap):
            raise StateError(
                str(path), lines(1), "a state file must be a mapping (packages:, files: ...)"
            )
        return normalise_directories(normalise_paths(data))

    def render_template(self, relative: str, referrer: Origin) -> str:
        return self.renderer.render(self.states_dir / relative, referrer)

    def container_state(self, relative: str, referrer: Origin) -> DeclaredState:
        path = self.states_dir / relative
        if not path.is_file():
            raise StateError(referrer.path, referrer.line, f"state file not found: {path}")
        tree = self.read(path, referrer)
        return build_state(tree, (str(path),), self.render_template, None)
