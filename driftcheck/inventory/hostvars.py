"""Reading a host's variables where their plain text is needed, before any connection.

A vaulted connection variable without its secret stops the run up front (exit 3) naming the
variable, instead of surfacing in one worker thread as an odd transport error. A template that
cannot be rendered (it needs a fact, a role default, a lookup) fails only what uses it: the
host whose connection needs it, or that one variable in `inventory --vars`, shown as written
with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from driftcheck.errors import InventoryError, VaultError
from driftcheck.model import Host, VarsDict, Vaulted
from driftcheck.templating import raw_variables

# what the backends read (the ssh_ spellings are Ansible's older aliases)
CONNECTION_VARS = (
    "ansible_connection",
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_become",
    "ansible_become_user",
)


def check_connection_vars(hosts: Iterable[Host]) -> None:
    """Raise on the first vaulted connection variable that cannot be opened."""
    for host in hosts:
        connection_error(host)


def connection_error(host: Host) -> InventoryError | None:
    """Why this host's connection variables cannot be rendered, or None (a vaulted one
    without its secret raises)."""
    for key in CONNECTION_VARS:
        try:
            plain(host.vars.get(key))
        except VaultError:
            raise
        except InventoryError as exc:
            return exc
    return None


def plain_vars(host: Host) -> tuple[VarsDict, dict[str, str]]:
    """Every variable rendered and opened, as JSON can print it; one that cannot be rendered
    is given as written, with the reason beside it (the second mapping)."""
    shown: VarsDict = {}
    reasons: dict[str, str] = {}
    for key in host.vars:
        try:
            shown[str(key)] = plain(host.vars[key])
        except VaultError:
            raise
        except InventoryError as exc:
            shown[str(key)] = plain(raw_variables(host.vars)[key])
            reasons[str(key)] = str(exc)
    return shown, reasons


def plain(value: object) -> object:
    if isinstance(value, Vaulted):
        raise value.error()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value
