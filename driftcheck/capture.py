"""`driftcheck capture`: a declared state written from one "golden" host, which that host passes.

Over one connection: the main collection (the same collector script a `scan --peers` runs:
packages, every unit, every dpkg conffile), then one more exec for the digests, modes and
owners of the files to declare (config files that differ from their package, and `--file`
paths, whose globs the host expands). The state is built by pure functions and written as
deterministic YAML in which every string is double-quoted (no `1.10`, `0644` or `no` traps).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from driftcheck.backends import Backend, TransportOptions, open_backend
from driftcheck.compare.services import ENABLED_STATES
from driftcheck.errors import LimitError, TransportError
from driftcheck.model import DeclaredState, FileSpec, FileState, Host, Observed, Section
from driftcheck.model.vocab import Kind
from driftcheck.scan import run_collector, within_cap
from driftcheck.shell import bounded_sh, quote
from driftcheck.version import __version__

RUNNING = ("active", "reloading", "activating")  # as compare/services.py counts running
_UNIT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.\\@-")
_DIGEST = "0" * 64  # any digest: it only asks the collector for one


@dataclass(frozen=True)
class Captured:
    """What goes into the file, already decided: every value a string, int or bool."""

    host: str
    packages: Mapping[str, str]
    services: Mapping[str, tuple[bool, bool]]  # unit -> (running, enabled)
    files: Mapping[str, Mapping[str, str] | None]  # path -> checks; None: absent
    max_zombies: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- collection (I/O) -----------------------------------------------------------------------


def capture(
    host: Host, transport: TransportOptions, paths: Sequence[str], versions: str
) -> Captured:
    deadline = time.monotonic() + transport.timeout
    backend = open_backend(host, transport, deadline)
    try:
        everything = DeclaredState(peers=True, modified_config="report")
        observed = _run(backend, everything, deadline, transport.output_cap)
        targets = [*changed_conffiles(observed), *_expand(backend, paths, deadline)]
        files = (
            _run(backend, _files_state(targets), deadline, transport.output_cap)
            if targets
            else Observed()
        )
    finally:
        backend.close()
    return build_captured(host.name, observed, files, versions)


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


def build_captured(host: str, observed: Observed, files: Observed, versions: str) -> Captured:
    notes = [f"{name}: {section.reason}" for name, section in _sections(observed) if not section.ok]
    zombies = observed.facts.value.zombies if observed.facts.ok else 0
    return Captured(
        host=host,
        packages=dict(_packages(observed, versions)),
        services=dict(_services(observed)),
        files=dict(_files(observed, files)),
        max_zombies=zombies or 0,
        notes=tuple(notes),
    )


def _sections(observed: Observed) -> list[tuple[str, Section[Any]]]:
    return [("packages", observed.packages), ("services", observed.units)]


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
        *(f"  {q(path)}: {_file_yaml(checks)}" for path, checks in captured.files.items()),
        "host:",
        f"  max_zombies: {captured.max_zombies}",
    ]
    return "\n".join(lines) + "\n"


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
