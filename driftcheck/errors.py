"""One error tree and the exit statuses. Only `driftcheck.cli.main` turns these into an exit."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes are a contract with cron jobs and CI: see the README."""

    COMPLIANT = 0  # every host audited and compliant
    SNOWFLAKES = 1  # every host audited, at least one snowflake
    INCOMPLETE = 2  # at least one host unreachable, in error or unchecked
    USAGE = 3  # usage, inventory or state error
    OUTPUT = 74  # the report directory or an output file could not be written (EX_IOERR)
    LOCKED = 75  # another scan holds the report directory (EX_TEMPFAIL)
    INTERRUPTED = 130  # SIGINT (128 + 2)
    TERMINATED = 143  # SIGTERM (128 + 15)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt (the CLI's handler), so both stop a
    run the same way: nothing catches it but the exit point, every clean-up runs on its way."""


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


class VaultError(InventoryError):
    """A vault-encrypted value or file whose plain text is needed and cannot be had.
    Its message names the variable and the file, never a secret."""


class StateError(InputError):
    """A broken declared-state file or template."""


class VariableError(StateError):
    """A state template needs an inventory variable that cannot be rendered: the host that
    needs it fails, not the run."""


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


class LimitError(DriftcheckError):
    """A host's output passed a per-host limit (driftcheck.limits). Caught per host: that host
    is `error` with one finding of kind `kind`; the run goes on."""

    exit_status = ExitStatus.INCOMPLETE

    def __init__(self, message: str, kind: str = "limit") -> None:
        super().__init__(message)
        self.kind = kind  # "limit", or "truncated" for the output cap


class LockedError(DriftcheckError):
    exit_status = ExitStatus.LOCKED


class ReportDirError(DriftcheckError):
    """The report directory is unsafe to write: loose permissions, another owner, or an entry
    that is a symlink or of the wrong type where driftcheck writes."""


class OutputError(DriftcheckError):
    """The report directory or an output file could not be written: read-only file system,
    no space left, permission denied, I/O error. Whatever was there before is left intact."""

    exit_status = ExitStatus.OUTPUT
