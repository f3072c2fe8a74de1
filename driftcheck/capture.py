"""`driftcheck capture`: a declared state written from one "golden" host, which that host passes.

Over one connection: the main collection (the same collector script a `scan --peers` runs:
packages, every unit, every dpkg conffile; and the entries of the config directories where hand
edits land, and root's authorized keys), then one more exec for the digests, modes and owners of
the files to declare (config files that differ from their package, and `--file` paths, whose
globs the host expands). The state is built by pure functions and written as deterministic YAML
in which every string is double-quoted (no `1.10`, `0644` or `no` traps). It turns on
`modified_config: report`, so that a sibling's edited package config file is drift too.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from driftcheck.backends import Backend, TransportOptions, open_backend
from driftcheck.collectors.authkeys import UNUSABLE, parse_key_line
from driftcheck.collectors.sections import lines as split_lines
from driftcheck.compare.services import ENABLED_STATES
from driftcheck.errors import LimitError, TransportError
from driftcheck.limits import MAX_AUTHORIZED_KEYS
from driftcheck.model import (
    DeclaredState,
    DirectorySpec,
    FileSpec,
    FileState,
    Host,
    Observed,
    Section,
)
from driftcheck.model.vocab import Kind
from driftcheck.scan import run_collector, within_cap
from driftcheck.shell import bounded_sh, quote
from driftcheck.version import __version__

RUNNING = ("active", "reloading", "activating")  # as compare/services.py counts running
_UNIT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.\\@-")
_DIGEST = "0" * 64  # any digest: it only asks the collector for one
# Where hand edits land: each of these that is a directory on the golden host is declared to
# hold exactly what it holds there (`directories:`); `--directory` adds more.
DIRECTORIES = (
    "/etc/apt/sources.list.d",
    "/etc/cron.d",
    "/etc/cron.daily",
    "/etc/cron.hourly",
    "/etc/cron.monthly",
    "/etc/cron.weekly",
    "/etc/ssh/sshd_config.d",
    "/etc/sudoers.d",
    "/etc/yum.repos.d",
)
AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"  # declared with its exact set of keys


@dataclass(frozen=True)
class Captured:
    """What goes into the file, already decided: every value a string, int or bool."""

    host: str
    packages: Mapping[str, str]
    services: Mapping[str, tuple[bool, bool]]  # unit -> (running, enabled)
    files: Mapping[str, Mapping[str, str] | None]  # path -> checks; None: absent
    max_zombies: int = 0
    directories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # path -> names
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # file -> its key lines
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- collection (I/O) -----------------------------------------------------------------------


def capture(
    host: Host,
    transport: TransportOptions,
    paths: Sequence[str],
    versions: str,
    directories: Sequence[str] = (),
) -> Captured:
    deadline = time.monotonic() + transport.timeout
    backend = open_backend(host, transport, deadline)
    try:
        observed = _run(backend, everything(directories), deadline, transport.output_cap)
        targets = [*changed_conffiles(observed), *_expand(backend, paths, deadline)]
        files = (
            _run(backend, _files_state(targets), deadline, transport.output_cap)
            if targets
            else Observed()
        )
    finally:
        backend.close()
    return build_captured(host.name, observed, files, versions, directories)


def everything(directories: Sequence[str] = ()) -> DeclaredState:
    """What the main collection asks for: what `scan --peers` collects, the config directories'
    entries and root's authorized_keys with its content."""
    paths = sorted({*DIRECTORIES, *directories})
    return DeclaredState(
        peers=True,
        modified_config="report",
        directories={path: DirectorySpec(path) for path in paths},
        files={AUTHORIZED_KEYS: FileSpec(AUTHORIZED_KEYS, keys=())},
    )


def _run(backend: Backend, state: DeclaredState, deadline: float, cap: int) -> Observed:
    """One collection, whole: output cut at the cap is never captured (LimitError, exit 2)."""
    observed = run_collector(backend, state, deadline)
    within_cap(observed, cap)
    if not observed.facts.ok:
        raise TransportError(f"collection failed: {observed.facts.reason}")
    return observed


def _expand(backend: Backend, patterns: Sequence[str], deadline: float) -> list[str]:
    """Every existing path the patterns match on the host, NUL-separated. A pattern is quoted
    into a variable and expanded unquoted with IFS empty: globbing, no word splitting, no
    command substitution."""
    if not patterns:
        return []
    lines = ["IFS=", "set +f"]
    for pattern in patterns:
        lines += [
            f"dc_g={quote(pattern)}",
            "for dc_p in $dc_g; do",
            '\tif [ -e "$dc_p" ] || [ -L "$dc_p" ]; then printf \'%s\\0\' "$dc_p"; fi',
            "done",
        ]
    limit = deadline - time.monotonic()
    result = backend.run(bounded_sh(limit), ("\n".join(lines) + "\n").encode(), deadline)
    if result.truncated:
        raise LimitError("expanding --file patterns passed the per-host output cap", Kind.TRUNCATED)
    if result.rc != 0:
        raise TransportError(f"expanding --file patterns failed (exit {result.rc})")
    found = result.stdout.decode("utf-8", errors="replace").split("\0")
    return sorted({path for path in found if path})


def _files_state(paths: Sequence[str]) -> DeclaredState:
    return DeclaredState(files={p: FileSpec(p, sha256=_DIGEST) for p in sorted(set(paths))})


# --- what goes in (pure) ------------------------------------------------------------------------


def changed_conffiles(observed: Observed) -> list[str]:
    if not observed.conffiles.ok:
        return []
    return [p for p, c in observed.conffiles.value.items() if c.modified or c.error == "missing"]


def build_captured(
    host: str,
    observed: Observed,
    files: Observed,
    versions: str,
    asked: Sequence[str] = (),
) -> Captured:
    """`asked`: the directories named with --directory (one that is not there is noted)."""
    notes = [f"{name}: {section.reason}" for name, section in _sections(observed) if not section.ok]
    zombies = observed.facts.value.zombies if observed.facts.ok else 0
    found = dict(_files(observed, files))
    keys, key_notes = _authorized_keys(observed)
    if not key_notes:  # declared by its keys (or absent), whatever --file said of it
        found.update(_key_file(observed))
    directories, dir_notes = _directories(observed, asked)
    return Captured(
        host=host,
        packages=dict(_packages(observed, versions)),
        services=dict(_services(observed)),
        files=dict(sorted(found.items())),
        max_zombies=zombies or 0,
        notes=(*notes, *key_notes, *dir_notes),
        directories=directories,
        keys=keys,
    )


def _sections(observed: Observed) -> list[tuple[str, Section[Any]]]:
    return [("packages", observed.packages), ("services", observed.units)]


def _directories(
    observed: Observed, asked: Sequence[str]
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Each listed directory with its entry names; one that is not there is left out (noted
    when --directory named it), one that could not be listed is noted."""
    section = observed.directories
    if not section.ok:
        return {}, [f"directories: {section.reason}"] if section.reason != "not collected" else []
    found, notes = {}, []
    for path, listing in sorted(section.value.items()):
        if listing.error:
            notes.append(f"directory {path}: {listing.error}")
        elif listing.type == "directory":
            found[path] = listing.names
        elif path in asked:
            notes.append(f"directory {path}: {listing.type}")
    return found, notes


def _key_file(observed: Observed) -> Iterator[tuple[str, Mapping[str, str] | None]]:
    """root's authorized_keys: its mode and owner (its keys: _authorized_keys), or absent."""
    state = observed.files.value.get(AUTHORIZED_KEYS) if observed.files.ok else None
    if state is not None and not state.error:
        yield AUTHORIZED_KEYS, _file_checks(replace(state, sha256=None))


def _authorized_keys(observed: Observed) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The key lines of root's authorized_keys, as written, when sshd can use every one of
    them; otherwise nothing (a note says why), and the file is not declared."""
    state = observed.files.value.get(AUTHORIZED_KEYS) if observed.files.ok else None
    if state is None or not state.exists:
        return {}, []
    why = state.error or _unreadable(state)
    if why or state.content is None:
        return {}, [f"{AUTHORIZED_KEYS}: {why or 'its content was not collected'}"]
    try:
        found = [line.strip() for line in split_lines(state.content, MAX_AUTHORIZED_KEYS, "")]
    except LimitError:
        return {}, [f"{AUTHORIZED_KEYS}: more than {MAX_AUTHORIZED_KEYS:,} lines"]
    keys = tuple(line for line in found if line and not line.startswith("#"))
    unusable = sum(parse_key_line(line).type == UNUSABLE for line in keys)
    if unusable:
        return {}, [f"{AUTHORIZED_KEYS}: {unusable} lines sshd cannot use; declare it by hand"]
    return {AUTHORIZED_KEYS: keys}, []


def _unreadable(state: FileState) -> str:
    if state.type != "file":
        return f"a {state.type}, not a file"
    if state.content is None:
        return "its content was not collected"
    if state.content_truncated:
        return "larger than the content cap"
    return ""


def _packages(observed: Observed, versions: str) -> Iterator[tuple[str, str]]:
    if not observed.packages.ok:
        return
    for name, found in sorted(observed.packages.value.items()):
        distinct = sorted({p.version for p in found})
        exact = versions == "exact" and len(distinct) == 1
        yield name, distinct[0] if exact else "present"


def _services(observed: Observed) -> Iterator[tuple[str, tuple[bool, bool]]]:
    """Units enabled by someone or running now, with both states; aliases and templates are
    not units of their own."""
    if not observed.units.ok:
        return
    for name, unit in sorted(observed.units.value.items()):
        if unit.unit_file_state == "alias" or "@." in name or not set(name) <= _UNIT_CHARS:
            continue
        running = unit.active_state in RUNNING
        if running or unit.unit_file_state == "enabled":
            yield name, (running, unit.unit_file_state in ENABLED_STATES)


def _files(observed: Observed, files: Observed) -> Iterator[tuple[str, Mapping[str, str] | None]]:
    states = files.files.value if files.files.ok else {}
    for path, state in sorted(states.items()):
        if state.error:
            raise TransportError(f"{path}: could not be read on the host: {state.error}")
        yield path, _file_checks(state)


def _file_checks(state: FileState) -> Mapping[str, str] | None:
    if not state.exists:
        return None
    checks = {"sha256": state.sha256} if state.type == "file" and state.sha256 else {}
    return checks | {k: v for k in ("mode", "owner", "group") if (v := getattr(state, k))}


# --- writing ------------------------------------------------------------------------------------


def render_yaml(captured: Captured, when: float) -> str:
    stamp = datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
    lines = [
        f"# Declared state captured from {_comment(captured.host)} at {stamp}"
        f" by driftcheck {__version__}.",
        "# Every string is quoted: YAML would read 1.10 as a number and no as false.",
        *(f"# Not captured: {_comment(note)}" for note in captured.notes),
        "packages:" + ("" if captured.packages else " {}"),
        *(f"  {q(name)}: {q(spec)}" for name, spec in captured.packages.items()),
        "unexpected_packages: report",
        "services:" + ("" if captured.services else " {}"),
        *(
            f"  {q(unit)}: {{running: {_bool(run)}, enabled: {_bool(on)}}}"
            for unit, (run, on) in captured.services.items()
        ),
        "files:" + ("" if captured.files else " {}"),
        *(
            line
            for path, checks in captured.files.items()
            for line in _file_lines(path, checks, captured.keys.get(path))
        ),
        "directories:" + ("" if captured.directories else " {}"),
        *(
            f"  {q(path)}: {{exactly: [{', '.join(q(name) for name in names)}]}}"
            for path, names in captured.directories.items()
        ),
        "modified_config: report",
        "host:",
        f"  max_zombies: {captured.max_zombies}",
    ]
    return "\n".join(lines) + "\n"


def _file_lines(
    path: str, checks: Mapping[str, str] | None, keys: tuple[str, ...] | None
) -> list[str]:
    """One line, or a block with the file's keys one a line."""
    if keys is None or checks is None:
        return [f"  {q(path)}: {_file_yaml(checks)}"]
    block = [f"  {q(path)}:", "    keys:" + ("" if keys else " []")]
    block += [f"      - {q(key)}" for key in keys]
    return block + [f"    {key}: {q(value)}" for key, value in checks.items()]


def _file_yaml(checks: Mapping[str, str] | None) -> str:
    if checks is None:
        return q("absent")
    return "{" + ", ".join(f"{key}: {q(value)}" for key, value in checks.items()) + "}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _comment(text: str) -> str:
    """Host data in a comment: printable, one line, and no Jinja2 delimiter (`{` and `#`)."""
    return "".join(c if c.isprintable() and c not in "{}#" else "?" for c in text)


# `{` is escaped too: the file is read through Jinja2 before YAML, and a `{{` in a path or a
# name from the host must reach YAML as data, never as template source.
_ESCAPES = {
    "\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "{": "\\x7b",
}  # fmt: skip
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def q(text: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly `text`, whatever it holds."""
    return '"' + "".join(_escape(c) for c in text) + '"'


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if unicodedata.category(char) not in _UNPRINTABLE:
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else (f"\\U{code:08x}")
    )
