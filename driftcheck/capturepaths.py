"""The paths `driftcheck capture` declares, each in its one spelling (state/rules.py): `//`, `.`
and a trailing `/` dropped, so that two spellings of one file are one entry; a path with `..`
declared by its lexical form only where the host confirms that both name one entry; a path no
state can hold (relative, with a NUL byte) left out, with a note.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from driftcheck.backends import Backend
from driftcheck.errors import LimitError, TransportError
from driftcheck.model.vocab import Kind
from driftcheck.shell import bounded_sh, quote
from driftcheck.state.rules import Refused, declared_path
from driftcheck.yamlsafe import excerpt

NOTE_WIDTH = 200  # characters of a value shown in a note (a real path can be 4,096)


def shown(value: str) -> str:
    """A value from the host, in a note: quoted, escaped, bounded."""
    return excerpt(value, NOTE_WIDTH)


def declarable(
    backend: Backend, paths: Sequence[str], deadline: float
) -> tuple[list[str], list[str]]:
    """The paths to declare, each in its one spelling, and notes on those left out. A path with
    `..` is declared by its lexical form only where the host says that both name one entry:
    the directories holding them are one directory (`test -ef`), not a symlink's other side."""
    plain, dotted, notes = spellings(paths)
    if dotted:
        same = _same_directories(backend, dotted, deadline)
        plain |= {lexical for i, (_path, lexical) in enumerate(dotted) if i in same}
        notes += [
            f"file {shown(path)}: with its '..' it is not {shown(lexical)} on the host"
            for i, (path, lexical) in enumerate(dotted)
            if i not in same
        ]
    return sorted(plain), notes


def spellings(paths: Sequence[str]) -> tuple[set[str], list[tuple[str, str]], list[str]]:
    """(the declarable paths in their one spelling, (path, its lexical form) for each path with
    `..` that the host must confirm, notes on the paths that cannot be declared)."""
    plain: set[str] = set()
    dotted: list[tuple[str, str]] = []
    notes = []
    for path in paths:
        try:
            plain.add(declared_path(path))
        except Refused as refused:
            lexical = _lexical(path)
            if lexical is None:
                notes.append(f"file {shown(path)}: {refused}")
            else:
                dotted.append((path, lexical))
    return plain, dotted, notes


def _lexical(path: str) -> str | None:
    """An absolute path with its `..` components resolved as text (`/etc/../etc/hosts` is
    `/etc/hosts`); None when that cannot name the same entry (the last component is `..`)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if "\0" in path or not path.startswith("/") or not parts or parts[-1] == "..":
        return None
    kept: list[str] = []
    for part in parts:
        if part != "..":
            kept.append(part)
        elif kept:
            kept.pop()
    return "/" + "/".join(kept)


def _same_directories(
    backend: Backend, dotted: Sequence[tuple[str, str]], deadline: float
) -> set[int]:
    """The indexes of the (path, lexical) pairs whose directories the host finds to be one."""
    lines = []
    for i, (path, lexical) in enumerate(dotted):
        held = "/" + "/".join(p for p in path.split("/") if p not in ("", "."))
        here, there = held.rsplit("/", 1)[0] or "/", lexical.rsplit("/", 1)[0] or "/"
        lines.append(f"if [ {quote(here)} -ef {quote(there)} ]; then echo {i}; fi")
    said = run_lines(backend, lines, deadline, "resolving '..' in paths")
    return {int(word) for word in said.split() if word.isdigit()}


def run_lines(backend: Backend, lines: Sequence[str], deadline: float, doing: str) -> bytes:
    """What the shell lines print on the host, within the deadline and the per-host cap; a cut
    or failed run is an error naming what it was `doing`."""
    limit = deadline - time.monotonic()
    result = backend.run(bounded_sh(limit), ("\n".join(lines) + "\n").encode(), deadline)
    if result.truncated:
        raise LimitError(f"{doing} passed the per-host output cap", Kind.TRUNCATED)
    if result.rc != 0:
        raise TransportError(f"{doing} failed (exit {result.rc})")
    return result.stdout
