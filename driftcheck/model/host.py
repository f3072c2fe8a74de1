"""An inventory host and its variables: open-ended values, with the vault's and Ansible's string
kinds (Secret, Unsafe, Vaulted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import VaultError

NO_VAULT_SECRET = "no vault secret was given (--vault-password-file or --vault-id)"  # noqa: S105 - a message, not a password

# Ansible variables are open-ended: a value is whatever YAML or JSON said (a string, a number, a
# list, a mapping, None; or a Vaulted, Unsafe or Secret string), kept as Ansible keeps it, and
# whoever needs one checks its type where it reads it. So Any, named here once.
Vars = Mapping[str, Any]  # a group's or a host's variables, read
VarsDict = dict[str, Any]  # the same while they are being read and merged


class Secret(str):
    """The plain text of a vaulted value: a file whose declared content holds one is compared
    by digest only, so that no report shows it."""

    __slots__ = ()


def secrets_in(value: object) -> set[str]:
    """Every Secret inside a variable's value (strings, lists, mappings)."""
    if isinstance(value, Secret):
        return {str(value)} if value else set()
    if isinstance(value, Mapping):
        return set().union(*(secrets_in(item) for item in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(secrets_in(item) for item in value))
    return set()


class Unsafe(str):
    """A string marked `!unsafe` (or `__ansible_unsafe`): never rendered as a template."""

    __slots__ = ()


@dataclass(frozen=True)
class Vaulted:
    """An inventory value still vault-encrypted, kept opaque as Ansible keeps it: loading the
    inventory never needs it; whoever needs its plain text (str()) gets a VaultError naming the
    variable and its file. The ciphertext is not secret but is long: it stays out of repr."""

    ciphertext: str = field(repr=False)
    path: str
    line: int | None = None
    name: str = ""
    reason: str = NO_VAULT_SECRET

    def describe(self) -> str:
        """For errors raised elsewhere (a template's line): says where the value is."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"variable {self.name!r} ({where}) is vault-encrypted and {self.reason}"

    def error(self) -> VaultError:
        what = f"variable {self.name!r}" if self.name else "a value"
        return VaultError(self.path, self.line, f"{what} is vault-encrypted and {self.reason}")

    def __str__(self) -> str:
        raise self.error()


@dataclass(frozen=True)
class Host:
    """One inventory host: its name, its groups (Ansible order) and its merged variables."""

    name: str
    groups: tuple[str, ...] = ()
    vars: Vars = field(default_factory=dict)

    @property
    def connection(self) -> str:
        return str(self.vars.get("ansible_connection", "ssh"))

    @property
    def address(self) -> str:
        """Ansible's ssh `remote_addr`: of its variables the last defined wins, and
        `ansible_ssh_host` comes after `ansible_host` in that list."""
        for key in ("ansible_ssh_host", "ansible_host"):
            value = self.vars.get(key)
            if value is not None:
                return str(value)
        return self.name
