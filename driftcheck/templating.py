"""Jinja2 as both the states and the inventory use it: sandboxed, StrictUndefined, and lazy.
This module decides what needs rendering; Jinja2 itself (jinjaenv.py) is loaded only when a
value holds template markup, so an inventory without templates never imports it.

Ansible renders an inventory variable when it is used, with the host's other variables (which
may be templates themselves). Here the same happens: `HostVars` renders a templated string
when it is read (a connection variable, `inventory --vars`), and `LazyContext` does it for
every variable a state template reads. `lookup()`/`query()` would reach outside the sandbox:
they are an error naming the variable. A `Vaulted` value without secrets stays unusable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.models import Unsafe, secrets_in

_MARKERS = ("{{", "{%", "{#")


Variables = Callable[[], Mapping[str, Any]]  # called only when a template is rendered


def render_value(value: Any, name: str, variables: Variables, env: Any = None) -> Any:
    """A variable's value with its templates rendered (strings, and inside lists and dicts).
    A container without any template is returned as it is, without a copy."""
    if isinstance(value, str) and not isinstance(value, Unsafe):
        if not any(marker in value for marker in _MARKERS):
            return value
        from driftcheck.jinjaenv import render_text  # noqa: PLC0415 - Jinja2 only when needed

        return render_text(value, name, variables, env)
    if not isinstance(value, (list, dict)) or not _templated(value):
        return value
    if isinstance(value, list):
        return [render_value(item, name, variables, env) for item in value]
    return {k: render_value(item, name, variables, env) for k, item in value.items()}


# id -> (the container, whether it holds a template). Group variables are the same objects
# for every host: walked once, not once per host. The container is kept so its id stays its.
_TEMPLATED: dict[int, tuple[Any, bool]] = {}


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return not isinstance(value, Unsafe) and any(marker in value for marker in _MARKERS)
    if not isinstance(value, (list, dict)):
        return False
    known = _TEMPLATED.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    items = value.values() if isinstance(value, dict) else value
    found = any(_templated(item) for item in items)
    if len(_TEMPLATED) > 4096:
        _TEMPLATED.clear()
    _TEMPLATED[id(value)] = (value, found)
    return found


class HostVars(Mapping[str, Any]):
    """A host's merged variables; reading one renders it. `raw` is what the files say."""

    def __init__(self, raw: Mapping[str, Any], where: str, secrets: Collection[str] = ()) -> None:
        self.raw = dict(raw)
        self.secrets = secrets  # plain texts of the inventory's vaulted values (shared)
        self._where = where  # the inventory, for errors
        self._done: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            value = self.raw[key]
            self._done[key] = self._render(key, value) if _templated(value) else value
        return self._done[key]

    def _render(self, key: str, value: Any) -> Any:
        from driftcheck.jinjaenv import TemplateVarError  # noqa: PLC0415 - as above

        try:
            return render_value(value, key, lambda: self.raw)
        except TemplateVarError as exc:
            raise InventoryError(self._where, None, exc.message or str(exc)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __eq__(self, other: object) -> bool:
        """Hosts compare by what their files say: comparing must never render (a lookup)."""
        if isinstance(other, HostVars):
            return self.raw == other.raw
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # a mapping, as the dict it replaces

    def __repr__(self) -> str:
        return f"HostVars({len(self.raw)} variables)"


def secrets_of(variables: Mapping[str, Any]) -> Collection[str]:
    """The vault plain texts a template may have put into declared content."""
    return variables.secrets if isinstance(variables, HostVars) else secrets_in(variables)


def raw_variables(variables: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a template context starts from: unrendered, so rendering stays lazy."""
    return variables.raw if isinstance(variables, HostVars) else variables
