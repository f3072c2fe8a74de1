"""Ansible's filters and tests in driftcheck's sandbox, loaded on the first name Jinja2 does not
know (a template using only Jinja2's own filters never loads them).

Where ansible-core is installed, its own plugins are used (ansible.plugins.filter.core,
mathstuff, urls, urlsplit; ansible.plugins.test.core, mathstuff, uri), so a filter renders
exactly as in Ansible. Without it, driftcheck's own common ones (jinjanative.py). Either
way, Jinja2's own `default`/`d`, `map`, `select`... stay (Ansible's versions expect its own
templating engine), and what would read this machine's files or environment is refused, as
lookups are: a template in an inventory renders the same on every machine and reveals nothing
of the one it runs on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jinja2

from driftcheck.jinjanative import NATIVE_FILTERS, NATIVE_TESTS, Plugin, mandatory
from driftcheck.model import Vaulted

# Jinja2's own versions stay: Ansible's replace them for its own templating engine
JINJA_KEPT = frozenset(
    [
        "d",
        "default",
        "map",
        "select",
        "selectattr",
        "reject",
        "rejectattr",
        "groupby",
        "defined",
        "undefined",
    ]
)
REFUSED = {
    "fileglob": "it reads this machine's files",
    "realpath": "it reads this machine's files",
    "vaulted_file": "it reads this machine's files",
    "expanduser": "it reads this machine's environment",
    "expandvars": "it reads this machine's environment",
}
_ANSIBLE_FILTERS = ("core", "mathstuff", "urls", "urlsplit")
_ANSIBLE_TESTS = ("core", "mathstuff", "uri")


class RefusedError(jinja2.TemplateError):
    """A filter, test or lookup driftcheck does not run."""


class Plugins(dict[str, Any]):
    """Jinja2's filters (or tests), completed by `load` the first time a name is missing."""

    def __init__(self, builtin: Mapping[str, Any], load: Callable[[], Mapping[str, Any]]) -> None:
        super().__init__(builtin)
        self._load: Callable[[], Mapping[str, Any]] | None = load
        self._lock = threading.Lock()  # scan workers render at once: one loads, all wait

    def _complete(self) -> None:
        with self._lock:
            load, self._load = self._load, None
            if load is not None:
                self.update((k, v) for k, v in load().items() if k not in JINJA_KEPT)

    def __missing__(self, name: str) -> Any:
        self._complete()
        if super().__contains__(name):
            return super().__getitem__(name)
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name, default) if name in self else default

    def __contains__(self, name: object) -> bool:
        if not super().__contains__(name):
            self._complete()
        return super().__contains__(name)


def filters() -> dict[str, Plugin]:
    """Ansible's filters where ansible-core is installed, else driftcheck's own."""
    try:
        found = _ansible_plugins("filter", _ANSIBLE_FILTERS, "FilterModule", "filters")
    except ImportError:
        found = dict(NATIVE_FILTERS)
    # Ansible's YAML dumper knows its own string kinds, not driftcheck's (Unsafe, Secret)
    found.update({name: _plain_strings_to(found[name]) for name in ("to_yaml", "to_nice_yaml")})
    found["mandatory"] = mandatory  # Ansible's recognises only its own kind of undefined
    return {**found, **_refusals()}


def _plain_strings_to(plugin: Plugin) -> Plugin:
    return lambda value, *args, **kwargs: plugin(_plain_strings(value), *args, **kwargs)


def _plain_strings(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {_plain_strings(k): _plain_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_strings(item) for item in value]
    return value


def tests() -> dict[str, Plugin]:
    """Ansible's tests where ansible-core is installed, else driftcheck's own."""
    try:
        found = _ansible_plugins("test", _ANSIBLE_TESTS, "TestModule", "tests")
    except ImportError:
        found = dict(NATIVE_TESTS)
    found["vault_encrypted"] = lambda value: isinstance(value, Vaulted)
    return {**found, **_refusals()}


def _ansible_plugins(kind: str, modules: Iterable[str], cls: str, method: str) -> dict[str, Plugin]:
    import importlib  # noqa: PLC0415 - only when ansible-core is wanted

    found: dict[str, Plugin] = {}
    for name in modules:
        module = importlib.import_module(f"ansible.plugins.{kind}.{name}")
        found.update(getattr(getattr(module, cls)(), method)())
    return found


def _refusals() -> dict[str, Plugin]:
    return {name: _refuser(f"filter or test {name!r}", why) for name, why in REFUSED.items()}


def _refuser(what: str, why: str) -> Plugin:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise RefusedError(f"{what} is refused: {why}")

    return refuse


def refuse_lookup(name: object = "", *_args: Any, **_kwargs: Any) -> Any:
    """lookup()/query(): each reads files, the environment or runs commands on this machine."""
    raise RefusedError(
        f"lookup({str(name)!r}) is refused: lookups read files, the environment or run "
        "commands on this machine; driftcheck renders templates in a sandbox"
    )
