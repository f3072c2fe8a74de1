"""One error tree and the exit statuses. Only `driftcheck.cli.main` turns these into an exit."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes are a contract with cron jobs and CI: see the README."""

    COMPLIANT = 0  # every host audited and compliant
    SNOWFLAKES = 1  # every host audited, at least one snowflake
    INCOMPLETE = 2  # at least one host unreachable or in error
    USAGE = 3  # usage, inventory or state error
    LOCKED = 75  # another scan holds the report directory (EX_TEMPFAIL)
    INTERRUPTED = 130  # SIGINT


class DriftcheckError(Exception):
    """Base of every expected error. Its message is shown as one line."""

    exit_status = ExitStatus.USAGE


class UsageError(DriftcheckError):
    """Bad command line."""


class InputError(DriftcheckError):
    """A broken input file. The message starts with `path:line: `."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class InventoryError(InputError):
    """A broken inventory, group_vars or host_vars file."""


class StateError(InputError):
    """A broken declared-state file or template."""


class WaiverError(InputError):
    """A broken waivers file."""


class TransportError(DriftcheckError):
    """A host could not be reached or audited. Caught per host: it never ends the run."""

    exit_status = ExitStatus.INCOMPLETE


class UnreachableError(TransportError):
    """No connection at all: refused, no route, DNS, connect timeout."""


class HostKeyError(TransportError):
    """The host's key is unknown or changed: the host is refused."""


class HostKeyChangedError(HostKeyError):
    """The host offers a key other than the one on record (or a revoked one)."""


class HostKeyUnknownError(HostKeyError):
    """No key is on record for the host and trust-on-first-use was not asked for."""


class AuthError(TransportError):
    """Connected, but authentication failed."""


class DeadlineError(TransportError):
    """The per-host deadline passed."""


class LockedError(DriftcheckError):
    exit_status = ExitStatus.LOCKED
