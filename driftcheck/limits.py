"""Per-host limits on the work a host's output can cause, named once (README: *Limits*).

The output cap (TransportOptions.output_cap) bounds the bytes a host sends; these bound what
follows them: records parsed, findings kept, diff text stored. Each loop over host-supplied data
stops at its limit, so parsing and comparison take a bounded time whatever a host sends. Past
a limit the host is `error` with one `limit` finding that says what was cut: a partial list of
findings would read as a (partial) snowflake, and a cut list can hide anything.
"""

from __future__ import annotations

MAX_PACKAGES = 100_000  # package lines (dpkg, rpm) or stanzas (apk) per manager and target
MAX_APK_LINES = 50 * MAX_PACKAGES  # lines of apk's database (~15-25 per real package)
MAX_CONTAINERS = 10_000  # containers reported by one engine on one host
MAX_JSON_VALUES = 2_000_000  # objects, arrays and list items in one engine's inspect output
MAX_PROCESSES = 200_000  # /proc/PID/stat records (containers' hygiene)
MAX_PROCESS_DEPTH = 4_096  # levels of the process tree below a container's PID 1
MAX_CHANGED_PATHS = 1_000  # changed paths kept per running container (the rest only counted)
CHANGED_SHOWN = 10  # of them, named in a `changed` finding's actual (all are in its detail)
MAX_FINDINGS = 10_000  # findings per host, every target included
MAX_SAME_AS = 20  # other names of one machine listed per host (peers.same_as); the rest counted
MAX_PEER_SPLITS = 10_000  # items with no majority in one peer group, listed (peer_splits)
MAX_SPREAD_PACKAGES = 10_000  # packages whose versions differ in one group, listed (spread)
MAX_FLEET_TEXT = 16 << 20  # package versions and peer values a host keeps for the fleet stage
MAX_DIFF_INPUT_LINES = 10_000  # lines per side given to difflib (quadratic: ~1 s at worst)
MAX_DIFF_BYTES = 256 << 10  # one file's diff; past it the diff is cut (the finding stays)
MAX_DIFF_TOTAL = 2 << 20  # all diffs of one host; past it further diffs are left out
MAX_AUTHORIZED_KEYS = 10_000  # lines of one authorized_keys file
MAX_DIRECTORY_ENTRIES = 100_000  # entry names of one declared directory (`directories:`)
MAX_DECLARED_LINES = 10_000  # lines of a file declared with `lines:` (a set of lines)
MAX_TREE_ENTRIES = 200_000  # entries of a host's config trees (peers), all trees together
MAX_TREE_DEPTH = 32  # levels below a config tree's root that are listed
EVIDENCE_LOG_BYTES = 32 << 10  # the tail of dpkg.log and of apt's history.log read for evidence
WTMP_RECORDS = 256  # the last wtmp records read (384 bytes each): the logins evidence names
MAX_EVIDENCE_EVENTS = 4_000  # package log entries and rpm install times kept per host
MAX_EVIDENCE_PER_FINDING = 8  # evidence items on one finding: the newest are kept
MAX_EVIDENCE_TEXT = 300  # characters of one evidence value (apt's command line, a host name)
TRAIL_MAX = 100  # status letters kept per host in history: the longest strip shown (--trend)


def size_text(size: int) -> str:
    """A size as the limits are written: `64 KiB`, `16 MiB`, else bytes."""
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size:,} bytes"
