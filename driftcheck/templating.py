"""Jinja2 as both the states and the inventory use it: sandboxed, StrictUndefined, and lazy.
What needs rendering is decided without Jinja2 (templated.py); Jinja2 itself (jinjaenv.py) is
loaded only when a value holds template markup, so an inventory without templates never imports
it.

Ansible renders an inventory variable when it is used, with the host's other variables (which
may be templates themselves). Here the same happens: `HostVars` renders a templated string
when it is read (a connection variable, `inventory --vars`), and `LazyContext` does it for
every variable a state template reads. `lookup()`/`query()` would reach outside the sandbox:
they are an error naming the variable. A `Vaulted` value without secrets stays unusable.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.model import Vars, VarsDict, secrets_in
from driftcheck.templated import is_templated


class HostVars(Vars):
    """A host's merged variables; reading one renders it. `raw` is what the files say."""

    def __init__(self, raw: Vars, where: str, secrets: Collection[str] = ()) -> None:
        self.raw: VarsDict = dict(raw)
        self.secrets = secrets  # plain texts of the inventory's vaulted values (shared)
        self._where = where  # the inventory, for errors
        self._done: VarsDict = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            value = self.raw[key]
            self._done[key] = self._render(key, value) if is_templated(value) else value
        return self._done[key]

    def _render(self, key: str, value: Any) -> Any:
        # Jinja2 only when needed: a value reaches here only when it holds template markup
        from driftcheck.jinjaenv import TemplateVarError, render_value  # noqa: PLC0415

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


def secrets_of(variables: Vars) -> Collection[str]:
    """The vault plain texts a template may have put into declared content."""
    return variables.secrets if isinstance(variables, HostVars) else secrets_in(variables)


def raw_variables(variables: Vars) -> Vars:
    """What a template context starts from: unrendered, so rendering stays lazy."""
    return variables.raw if isinstance(variables, HostVars) else variables
