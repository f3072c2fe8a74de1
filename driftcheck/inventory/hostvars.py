"""Reading a host's variables where their plain text is needed, before any connection.

A templated or vaulted connection variable is checked once, up front, so that a lookup or a
missing vault secret stops the run with exit 3 naming the variable, instead of surfacing in
one worker thread as an odd transport error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from driftcheck.model import Host, VarsDict, Vaulted

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
    """Render every connection variable of every host; raise on the first that cannot be."""
    for host in hosts:
        for key in CONNECTION_VARS:
            plain(host.vars.get(key))


def plain_vars(host: Host) -> VarsDict:
    """Every variable rendered and opened, as JSON can print it."""
    return {str(key): plain(value) for key, value in host.vars.items()}


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
