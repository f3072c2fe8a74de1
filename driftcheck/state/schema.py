"""Schema v1 of declared state: a merged YAML tree -> `DeclaredState`.

Every error names the file and line of the offending key (after a merge: the file that won).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from driftcheck.model import (
    ContainerSpec,
    DeclaredState,
    HostSpec,
    Origin,
    PackageSpec,
    ServiceSpec,
)
from driftcheck.state.directories import build_directories
from driftcheck.state.duration import parse_duration
from driftcheck.state.files import RenderTemplate, build_files
from driftcheck.state.rules import Refused, package_spec, unit
from driftcheck.state.values import (
    as_map,
    check_keys,
    choice,
    describe,
    fail,
    get_bool,
    get_count,
    get_text,
    relative,
    text,
)
from driftcheck.state.writable import writable_paths
from driftcheck.state.yamlload import YList, YMap

HOST_KEYS = ("packages", "unexpected_packages", "files", "directories", "services", "host")
TOP_KEYS = (
    *HOST_KEYS, "containers", "unexpected_containers", "container_writable", "peers",
    "modified_config",
)  # fmt: skip
_CONTAINER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # docker's and podman's rule

LoadState = Callable[[str, Origin], DeclaredState]  # (path relative to states dir, referrer)


def build_state(
    tree: YMap, sources: tuple[str, ...], render: RenderTemplate, load: LoadState | None
) -> DeclaredState:
    """`load` reads a container's own state file; None inside a container (no nesting)."""
    check_keys(tree, TOP_KEYS if load else HOST_KEYS, "" if load else "container state: ")
    return DeclaredState(
        packages=_each(tree, "packages", _package),
        unexpected_packages=choice(tree, "unexpected_packages", ("ignore", "report"), "ignore"),
        files=build_files(_section(tree, "files"), render),
        services=_services(_section(tree, "services")),
        host=_host(tree),
        containers=_containers(_section(tree, "containers"), load) if load else {},
        unexpected_containers=choice(tree, "unexpected_containers", ("report", "ignore"), "ignore"),
        container_writable=writable_paths(tree, "container_writable", "") if load else (),
        directories=build_directories(_section(tree, "directories")),
        **_peers(tree),
        modified_config=_optional_choice(tree, "modified_config", ("report", "ignore")),
        sources=sources,
    )


def _peers(tree: YMap) -> dict[str, Any]:
    """`peers: true | false`, or `peers: {trees: [PATH...], ignore: [GLOB...]}` (peers on, the
    config trees compared with the peers replaced, some paths under them left out)."""
    value = tree.get("peers")
    if not isinstance(value, YMap):
        return {"peers": get_bool(tree, "peers", "")}
    check_keys(value, ("trees", "ignore"), "peers: ")
    found: dict[str, Any] = {"peers": True}
    for key, field in (("trees", "peer_trees"), ("ignore", "peer_ignore")):
        if key in value:
            found[field] = tuple(_paths(value, key))
    return found


def _paths(section: YMap, key: str) -> list[str]:
    """Absolute paths; `*` may stand for any name inside one component."""
    items = section[key]
    if not isinstance(items, YList):
        fail(section.where(key), f"peers: {key}: expected a list of absolute paths")
    paths = []
    for item, where in items.with_origins():
        path = text(item, where, f"peers: {key}: ")
        if not path.startswith("/") or "\n" in path or "/../" in f"{path}/":
            fail(where, f"peers: {key}: {path!r} must be an absolute path without '..'")
        paths.append(path.rstrip("/") or "/")
    return paths


def _optional_choice(tree: YMap, key: str, options: tuple[str, ...]) -> str | None:
    """None when the key is not there: a default decided later (modified_config: by peers)."""
    return choice(tree, key, options, options[0]) if key in tree else None


def _section(tree: YMap, key: str) -> YMap:
    value = tree.get(key)
    if value is None:
        return YMap(tree.where(key))
    return as_map(value, tree.where(key), f"{key}: ", "a mapping")


Spec = TypeVar("Spec")


def _each(
    tree: YMap, key: str, build: Callable[[str, object, Origin, str | None], Spec]
) -> dict[str, Spec]:
    section = _section(tree, key)
    result: dict[str, Spec] = {}
    for raw_name, value in section.items():
        origin = section.where(raw_name)
        name = text(raw_name, origin, f"{key}: a name: ", str(raw_name))
        result[name] = build(name, value, origin, section.raw.get(raw_name))
    return result


# --- packages ----------------------------------------------------------------------------


def _package(name: str, value: Any, origin: Origin, raw: str | None) -> PackageSpec:
    label = f"package {name}: "
    if isinstance(value, bool):
        fail(origin, f"{label}{describe(value, raw)}: write present or absent, or quote a version")
    if not isinstance(value, str) and raw:  # 1.10, 2, 2024-01-01: YAML made a number or date
        fail(origin, f'{label}{describe(value, raw)}: quote the version: "{raw}"')
    spec = text(value, origin, label, raw, hint="write present, absent or a version")
    try:
        op, version = package_spec(spec)
    except Refused as exc:
        fail(origin, f"{label}{exc}")
    return PackageSpec(name, op, version, origin)


# --- services ----------------------------------------------------------------------------


def _services(section: YMap) -> dict[str, ServiceSpec]:
    result: dict[str, ServiceSpec] = {}
    for key, value in section.items():
        spec = _service(key, value, section.where(key), section.raw.get(key))
        if spec.name in result:
            fail(section.where(key), f"service {key}: {spec.name} is already declared")
        result[spec.name] = spec
    return result


def _service(key: Any, value: Any, origin: Origin, raw: str | None) -> ServiceSpec:
    name = text(key, origin, "services: a unit name: ", raw)
    try:
        unit_name = unit(name)
    except Refused as exc:
        fail(origin, f"service {name!r}: {exc}")
    label = f"service {name}: "
    checks = as_map(value, origin, label, "a mapping like {running: true, enabled: true}")
    check_keys(checks, ("running", "enabled"), label)
    return ServiceSpec(
        unit_name, get_bool(checks, "running", label), get_bool(checks, "enabled", label), origin
    )


# --- host hygiene --------------------------------------------------------------------------


def _host(tree: YMap) -> HostSpec:
    section = _section(tree, "host")
    check_keys(section, ("max_age", "max_zombies"), "host: ")
    max_age = None
    if "max_age" in section:
        try:
            max_age = parse_duration(section["max_age"])
        except ValueError as exc:
            fail(section.where("max_age"), f"host: max_age: {exc}")
    return HostSpec(max_age, get_count(section, "max_zombies", "host: "))


# --- containers ----------------------------------------------------------------------------


def _containers(section: YMap, load: LoadState) -> dict[str, ContainerSpec]:
    specs = [_container(k, v, section.where(k), load) for k, v in section.items()]
    return {spec.name: spec for spec in specs}


def _container(key: Any, value: Any, origin: Origin, load: LoadState) -> ContainerSpec:
    name = text(key, origin, "containers: a name: ")
    if not _CONTAINER.fullmatch(name):
        fail(origin, f"container {name!r}: not a container name ([A-Za-z0-9][A-Za-z0-9_.-]*)")
    if value == "absent":
        return ContainerSpec(name, absent=True, origin=origin)
    label = f"container {name}: "
    checks = as_map(value, origin, label, "absent or a mapping with image, running, state")
    check_keys(checks, ("image", "running", "state", "changed", "writable"), label)
    state = None
    if "state" in checks:
        where = checks.where("state")
        state = load(relative(checks["state"], where, f"{label}state: "), where)
    return ContainerSpec(
        name,
        image=get_text(checks, "image", label),
        running=get_bool(checks, "running", label),
        state=state,
        origin=origin,
        changed=choice(checks, "changed", ("report", "ignore"), "report"),
        writable=writable_paths(checks, "writable", label),
    )
