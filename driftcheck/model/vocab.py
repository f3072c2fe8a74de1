"""The words two places must agree on, named once: host statuses (with each one's letter, marks
and label), finding categories and kinds, and the fields of a finding and of a host row as the
HTML page's script reads them. Every renderer, the history and report.js take them from here;
a status added here reaches every format (tests/test_vocab.py renders each one
through all of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """A host's status, in report order (the trend chart stacks them bottom to top)."""

    COMPLIANT = "compliant"
    SNOWFLAKE = "snowflake"
    UNCHECKED = "unchecked"  # audited, but nothing applied to it: no declared, peer or config check
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True)
class StatusWords:
    letter: str  # one letter a run in the history's trails (history.sqlite, report.js strips)
    mark: str  # the text report's status column
    symbol: str  # the HTML report's mark
    label: str  # the trend chart's legend
    audited: bool  # fully audited: compliant or snowflake; the others are "not audited"
    checked: bool  # something was checked on it: it has per-category metrics and findings


WORDS: dict[Status, StatusWords] = {
    Status.COMPLIANT: StatusWords("c", "ok", "✓", "compliant", True, True),
    Status.SNOWFLAKE: StatusWords("s", "SNOWFLAKE", "❄", "snowflake", True, True),
    Status.UNCHECKED: StatusWords("n", "UNCHECKED", "∅", "unchecked", False, False),
    Status.UNREACHABLE: StatusWords(
        "u", "UNREACHABLE", "⚠", "unreachable (not audited)", False, False
    ),
    Status.ERROR: StatusWords("e", "ERROR", "✖", "error (not audited)", False, True),
}

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
WORST_FIRST: tuple[str, ...] = tuple(reversed(STATUSES))  # the HTML fleet table's order
# Hosts whose state is not known to be anything: listed apart in every report, exit code 2. In
# the order a summary line names them.
NOT_AUDITED: tuple[str, ...] = tuple(
    s.value for s in (Status.UNREACHABLE, Status.ERROR, Status.UNCHECKED)
)
LETTERS: dict[str, str] = {s.value: w.letter for s, w in WORDS.items()}
STATUS_OF_LETTER: dict[str, str] = {w.letter: s.value for s, w in WORDS.items()}
ABSENT = "-"  # a trail's letter for a run the host was not in


def audited_status(drift: bool) -> Status:
    """The status of a fully audited host, the only kind that can be compliant: a snowflake
    with any drift left. The scan, the peers and the waivers settle a host's status by it."""
    return Status.SNOWFLAKE if drift else Status.COMPLIANT


def words(status: str) -> StatusWords | None:
    try:
        return WORDS[Status(status)]
    except ValueError:
        return None


class Category(StrEnum):
    PACKAGE = "package"
    FILE = "file"
    SERVICE = "service"
    HOST = "host"
    CONTAINER = "container"
    COLLECTOR = "collector"  # the collection itself: cut at the cap, a limit passed
    WAIVER = "waiver"  # a waiver file's own problem (expired, matching nothing)


# The usual finding categories, in report order (a finding may carry others: collector, waiver).
CATEGORIES: tuple[str, ...] = tuple(c.value for c in list(Category)[:5])


class Kind(StrEnum):
    """Finding kinds that several modules must agree on."""

    MISSING = "missing"
    UNEXPECTED = "unexpected"
    MODIFIED = "modified"
    EXTRA = "extra"  # a config-tree entry this host has and its peers' majority lacks
    DIFFERS = "differs"  # a config-tree entry whose digest, type, mode or owner is not the peers'
    CHANGED = "changed"  # a running container's filesystem changed since it started
    SINCE_LAST_RUN = "since-last-run"  # a config-tree entry changed since the host's last run
    PEER = "peer"
    UNKNOWN = "unknown"
    TRUNCATED = "truncated"
    LIMIT = "limit"


# Kinds that say a check could not be made: never a pass, never waived, always `error`.
UNKNOWN_KINDS: tuple[str, ...] = (Kind.UNKNOWN.value, Kind.TRUNCATED.value, Kind.LIMIT.value)

# A finding's fields, in the order of the HTML page's embedded finding rows (trailing nulls are
# dropped) and of its signature (the first six: what a drift is, whoever has it).
FINDING_FIELDS: tuple[str, ...] = (
    "target",
    "category",
    "item",
    "kind",
    "expected",
    "actual",
    "diff",
    "detail",
    "new",
    "first_seen",
    "last_seen",
    "waived",
    "runs",
    "evidence",  # a list of {source, time, summary, user, command}: the host's own records
)
SIGNATURE_FIELDS = FINDING_FIELDS[:6]

# A host's row in the HTML page's embedded data, by position; report.js indexes it by name.
HOST_COLUMNS: tuple[str, ...] = (
    "name",
    "id",
    "address",
    "status",
    "groups",
    "error",
    "duration",
    "state_files",
    "facts",
    "findings",
    "cluster",
    "peers",
    "strip",  # only with history: the host's status letters over the trend's runs
)
