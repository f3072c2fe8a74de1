"""`driftcheck capture`: a declared state written from one "golden" host, which that host passes.

Over one connection: the main collection (the same collector script a `scan --peers` runs:
packages, every unit, every dpkg conffile; and the entries of the config directories where hand
edits land, and root's authorized keys), then one more exec for the digests, modes and owners of
the files to declare (config files that differ from their package, and `--file` paths, whose
globs the host expands). The state is built by pure functions and written as deterministic YAML
in which every string is double-quoted (no `1.10`, `0644` or `no` traps). It turns on
`modified_config: report`, so that a sibling's edited package config file is drift too.

A host reports what it likes; the state holds only what `driftcheck validate` accepts, by the
state's own rules (state/rules.py): every path in its one spelling (capturepaths.py; a path with
`..` costs one more exec, to ask the host what it names), and any entry that cannot be declared
left out, or a version declared `present`, with a note. capturefile.py writes it, and validates
the text as `validate` would before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from driftcheck.backends import Backend, TransportOptions, open_backend
from driftcheck.capturepaths import declarable, run_lines, shown
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
from driftcheck.scan import run_collector, within_cap
from driftcheck.shell import quote
from driftcheck.state.rules import (
    Refused,
    declared_path,
    entry_name,
    exact_version,
    key_line,
    text,
    unit,
)

RUNNING = ("active", "reloading", "activating")  # as compare/services.py counts running
_DIGEST = "0" * 64  # any digest: it only asks the collector for one
MAX_NOTES = 50  # notes written one by one; past them, how many more
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
        found = [*changed_conffiles(observed), *_expand(backend, paths, deadline)]
        targets, notes = declarable(backend, found, deadline)
        files = (
            _run(backend, _files_state(targets), deadline, transport.output_cap)
            if targets
            else Observed()
        )
    finally:
        backend.close()
    return build_captured(host.name, observed, files, versions, directories, noted=notes)


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
            '\tcase "$dc_p" in */. | */..) continue ;; esac',  # `.*` matches them in dash
            '\tif [ -e "$dc_p" ] || [ -L "$dc_p" ]; then printf \'%s\\0\' "$dc_p"; fi',
            "done",
        ]
    said = run_lines(backend, lines, deadline, "expanding --file patterns")
    found = said.decode("utf-8", errors="replace").split("\0")
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
    *,
    noted: Sequence[str] = (),
) -> Captured:
    """`asked`: the directories named with --directory (one that is not there is noted);
    `noted`: what the collection left out already."""
    notes = [f"{name}: {section.reason}" for name, section in _sections(observed) if not section.ok]
    zombies = observed.facts.value.zombies if observed.facts.ok else 0
    found, file_notes = _files(files)
    keys, key_notes = _authorized_keys(observed)
    if not key_notes:  # declared by its keys (or absent), whatever --file said of it
        found.update(_key_file(observed))
    directories, dir_notes = _directories(observed, asked)
    packages, package_notes = _packages(observed, versions)
    services, service_notes = _services(observed)
    every = [*noted, *notes, *package_notes, *service_notes, *file_notes, *key_notes, *dir_notes]
    return Captured(
        host=host,
        packages=packages,
        services=services,
        files=dict(sorted(found.items())),
        max_zombies=zombies or 0,
        notes=bounded(every),
        directories=directories,
        keys=keys,
    )


def bounded(notes: Sequence[str]) -> tuple[str, ...]:
    """The first MAX_NOTES notes, then how many more: a host that reports a million names no
    state can hold gets a file (and a stderr) of fifty-one lines about them."""
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    return (*notes[:MAX_NOTES], f"and {len(notes) - MAX_NOTES:,} more notes")


def _sections(observed: Observed) -> list[tuple[str, Section[Any]]]:
    return [("packages", observed.packages), ("services", observed.units)]


def _refusal(what: str, value: str, rule: Callable[[str], str]) -> str:
    """Why `rule` refuses `value` ("" when it does not), as a note on `what`."""
    try:
        rule(value)
    except Refused as refused:
        return f"{what} {shown(value)}: {refused}"
    return ""


def _directories(
    observed: Observed, asked: Sequence[str]
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Each listed directory with its entry names; one that is not there is left out (noted
    when --directory named it), one that could not be listed is noted, and so is a name no
    entry can have (left out)."""
    section = observed.directories
    if not section.ok:
        return {}, [f"directories: {section.reason}"] if section.reason != "not collected" else []
    found: dict[str, tuple[str, ...]] = {}
    notes = []
    for path, listing in sorted(section.value.items()):
        refused = _refusal("directory", path, declared_path)
        if refused or listing.error:
            notes.append(refused or f"directory {path}: {listing.error}")
        elif listing.type == "directory":
            refusals = {name: _refusal("entry", name, entry_name) for name in listing.names}
            notes += [f"directory {path}: {note}" for note in refusals.values() if note]
            found[declared_path(path)] = tuple(sorted(n for n, no in refusals.items() if not no))
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
    them and a state can declare each; otherwise nothing (a note says why), and the file is
    not declared."""
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
    unusable = sum(
        parse_key_line(line).type == UNUSABLE or bool(_refusal("", line, key_line)) for line in keys
    )
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


def _packages(observed: Observed, versions: str) -> tuple[dict[str, str], list[str]]:
    """Each package with its one version (or `present`: several, or --versions present); a
    version a state would not read back as itself is `present`, a name no state can hold is
    left out, each with a note."""
    if not observed.packages.ok:
        return {}, []
    found, notes = {}, []
    for name, packages in sorted(observed.packages.value.items()):
        refused = _refusal("package", name, text)
        if refused:
            notes.append(refused)
            continue
        found[name], note = _version(name, sorted({p.version for p in packages}), versions)
        notes += note
    return found, notes


def _version(name: str, distinct: list[str], versions: str) -> tuple[str, list[str]]:
    """The package's one version, or `present`: for several, with --versions present, and
    for one that a state would not read back as itself (noted)."""
    if versions != "exact" or len(distinct) != 1:
        return "present", []
    odd = _refusal("version", distinct[0], exact_version)
    if odd:
        return "present", [f"package {shown(name)}: {odd}; declared present"]
    return distinct[0], []


def _services(observed: Observed) -> tuple[dict[str, tuple[bool, bool]], list[str]]:
    """Units enabled by someone or running now, with both states; aliases and templates are
    not units of their own. A name a state would read as another unit is left out, noted."""
    if not observed.units.ok:
        return {}, []
    found, notes = {}, []
    for name, state in sorted(observed.units.value.items()):
        running = state.active_state in RUNNING
        if state.unit_file_state == "alias" or "@." in name:
            continue
        if not (running or state.unit_file_state == "enabled"):
            continue
        refused = _refusal("service", name, _unit_as_is)
        if refused:
            notes.append(refused)
        else:
            found[name] = (running, state.unit_file_state in ENABLED_STATES)
    return found, notes


def _unit_as_is(name: str) -> str:
    if unit(name) != name:
        raise Refused("not a unit name with its type (.service, .socket, ...)")
    return name


def _files(files: Observed) -> tuple[dict[str, Mapping[str, str] | None], list[str]]:
    """Each collected file under its one spelling (two spellings of one path are one entry);
    a path no state can hold, and an owner or group name none can, left out with a note."""
    states = files.files.value if files.files.ok else {}
    found: dict[str, Mapping[str, str] | None] = {}
    notes = []
    for path, state in sorted(states.items()):
        if state.error:
            raise TransportError(f"{path}: could not be read on the host: {state.error}")
        refused = _refusal("file", path, declared_path)
        if refused:
            notes.append(refused)
            continue
        names = [(key, value) for key in ("owner", "group") if (value := getattr(state, key))]
        notes += [f"file {path}: {no}" for k, value in names if (no := _refusal(k, value, text))]
        found.setdefault(declared_path(path), _file_checks(state))
    return found, notes


def _file_checks(state: FileState) -> Mapping[str, str] | None:
    if not state.exists:
        return None
    checks = {"sha256": state.sha256} if state.type == "file" and state.sha256 else {}
    names = {k: v for k in ("mode", "owner", "group") if (v := getattr(state, k))}
    return checks | {k: v for k, v in names.items() if not _refusal(k, v, text)}
