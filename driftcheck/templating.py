"""Jinja2 as both the states and the inventory use it: sandboxed, StrictUndefined, and lazy.
What needs rendering is decided without Jinja2 (templated.py); Jinja2 itself (jinjaenv.py) is
loaded only when a value holds template markup, so an inventory without templates never imports
it.

Ansible renders an inventory variable when it is used, with the host's other variables (which
may be templates themselves). Here the same happens: `HostVars` renders a templated string
when it is read (a connection variable, `inventory --vars`), and `LazyContext` does it for
every variable a state template reads. `lookup()`/`query()` would reach outside the sandbox:
they are an error naming the variable. A `Vaulted` value without secrets stays unusable.

Templates see what Ansible's see of the inventory: `groups`, `hostvars` (another host's
variables, rendered with its own), `group_names`, `inventory_hostname(_short)`,
`inventory_file`/`inventory_dir`, and `ansible_version` where ansible-core is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from driftcheck.errors import InventoryError
from driftcheck.model import Host, Unsafe, Vars, VarsDict, secrets_in
from driftcheck.templated import Deferred, is_templated

Members = Callable[[str], Iterable[str]]  # a group's hosts and its descendants', Ansible's order


class Fleet:
    """The magic variables that come from the whole inventory, one set per inventory; each is
    worked out on the first render that reads it."""

    def __init__(self, hosts: Mapping[str, Host], groups: Iterable[str], members: Members) -> None:
        self._groups = tuple(groups)
        self._members = members
        self._groups_dict: VarsDict | None = None
        self.magic: VarsDict = {
            "groups": Deferred(self._groups_of),
            "hostvars": _HostsVars(hosts),
            "ansible_version": Deferred(_ansible_version),
        }

    def _groups_of(self) -> VarsDict:
        if self._groups_dict is None:
            # host names are never templates: Unsafe keeps a '{{' in one from being rendered
            self._groups_dict = {g: [Unsafe(h) for h in self._members(g)] for g in self._groups}
        return self._groups_dict


class _HostsVars(Mapping[str, Vars]):
    """`hostvars`: each host's variables, rendered with its own when read."""

    def __init__(self, hosts: Mapping[str, Host]) -> None:
        self._hosts = hosts

    def __getitem__(self, name: str) -> Vars:
        return self._hosts[name].vars

    def __iter__(self) -> Iterator[str]:
        return iter(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)


def _ansible_version() -> VarsDict | None:
    """Ansible's `ansible_version`, where ansible-core is installed (it is Ansible's version)."""
    try:
        from ansible.release import __version__  # type: ignore[import-untyped]  # noqa: PLC0415
    except ImportError:
        return None
    full = str(__version__)
    numbers = [int(n) if n.isdigit() else 0 for n in full.split(".")[:3]]
    major, minor, revision = (*numbers, 0, 0, 0)[:3]
    return {"string": full.split(maxsplit=1)[0], "full": full, "major": major, "minor": minor,
            "revision": revision}  # fmt: skip


class HostVars(Vars):
    """A host's merged variables; reading one renders it. `raw` is what the files say."""

    def __init__(self, raw: Vars, where: str, secrets: Collection[str] = ()) -> None:
        self.raw: VarsDict = dict(raw)
        self.secrets = secrets  # plain texts of the inventory's vaulted values (shared)
        self._where = where  # the inventory, for errors
        self._done: VarsDict = {}
        self.fleet: Fleet | None = None  # set once the whole inventory is read

    def context(self) -> VarsDict:
        """What a template rendered for this host sees: its variables and the magic ones."""
        return {**self.raw, **self.fleet.magic} if self.fleet else self.raw

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            value = self.raw[key]
            self._done[key] = self._render(key, value) if is_templated(value) else value
        return self._done[key]

    def _render(self, key: str, value: Any) -> Any:
        # Jinja2 only when needed: a value reaches here only when it holds template markup
        from driftcheck.jinjaenv import TemplateVarError, render_value  # noqa: PLC0415

        try:
            return render_value(value, key, self.context, self)
        except TemplateVarError as exc:
            raise InventoryError(self._where, None, self._hide(exc.message or str(exc))) from None

    def _hide(self, message: str) -> str:
        """A filter's message may quote a value (`mandatory(msg=...)`): never a secret."""
        for secret in self.secrets:
            message = message.replace(secret, "<secret>") if secret else message
        return message

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
    """What the files say, unrendered."""
    return variables.raw if isinstance(variables, HostVars) else variables


def as_written(host: Host) -> Host:
    """The host as its files say, nothing rendered: how a host is shown whose variables
    cannot be rendered."""
    return replace(host, vars=raw_variables(host.vars))


def template_variables(variables: Vars) -> Vars:
    """What a template context starts from: unrendered, so rendering stays lazy, with the
    magic variables."""
    return variables.context() if isinstance(variables, HostVars) else variables


def link_fleet(hosts: Mapping[str, Host], groups: Iterable[str], members: Members) -> None:
    """Gives every host's variables the inventory they belong to (`groups`, `hostvars`)."""
    fleet = Fleet(hosts, groups, members)
    for host in hosts.values():
        if isinstance(host.vars, HostVars):
            host.vars.fleet = fleet
