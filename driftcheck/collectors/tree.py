"""The config trees (peers): dc_tree's sections tree.stat, tree.sum and tree.links, and dc_keys's
tree.key.I, into one ConfigTrees.

tree.stat lines are `RAWMODE OWNER GROUP SIZE MTIME CTIME PATH` (stat -c, never following a
symlink); a name with a newline never reaches them (find prunes it and prints `N` instead), so
no name can forge a line. md5sum escapes a name with a backslash (a leading `\\`); such names are
rare in config trees and their entries stay without a digest (`not read`), as an unreadable
file does.
"""

from __future__ import annotations

import fnmatch
import re
import stat as st
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from driftcheck.collectors.authkeys import parse_authorized_keys
from driftcheck.collectors.files import file_type
from driftcheck.collectors.sections import RawSection, lines, text
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_TREE_DEPTH, MAX_TREE_ENTRIES
from driftcheck.model import (
    AuthorizedKey,
    ConfigTrees,
    DeclaredState,
    Outcome,
    Section,
    TreeEntry,
    uncollected,
)
from driftcheck.model.shared import Memo, intern
from driftcheck.shell import quote

ODD_NAME = "N"  # find's line for a pruned name with a newline
# RAWMODE OWNER GROUP SIZE MTIME CTIME /PATH (checked before its fields are converted)
_STAT_LINE = re.compile(r"[0-9a-f]{1,8} \S+ \S+ [0-9]+ [0-9]+ [0-9]+ /")
_MD5 = re.compile(r"[0-9a-f]{32}")
_TYPES = {st.S_IFREG: "file", st.S_IFDIR: "directory", st.S_IFLNK: "symlink"}
_MODES = [f"{m:04o}" for m in range(0o10000)]  # a mode's four octal digits, made once


def parse_trees(
    stats: bytes,
    sums: bytes,
    links: bytes,
    keys: Sequence[bytes],
    roots: Sequence[str],
) -> ConfigTrees:
    digests, targets = _digests(sums), _targets(links)
    entries: dict[str, TreeEntry] = {}
    odd = 0
    for line in lines(stats, MAX_TREE_ENTRIES, "the config trees' entries"):
        if line == ODD_NAME:
            odd += 1
            continue
        entry = _stat_entry(line)
        if entry is None:
            continue
        if entry.type == "file" and entry.path in digests:
            entry = _with_content((entry, digests[entry.path], None))
        elif entry.type == "symlink" and entry.path in targets:
            entry = _with_content((entry, None, targets[entry.path]))
        entries[entry.path] = entry
    cut = _cut(entries, roots)
    if cut is not None:  # a hostile or broken tree: what is below was not seen
        raise LimitError(f"a config tree deeper than {cut} levels: the entries below not listed")
    return ConfigTrees(entries, _keys(keys), odd)


def _parse_stat_line(line: str) -> TreeEntry | None:
    """`RAWMODE OWNER GROUP SIZE MTIME CTIME /PATH`, or None for anything else."""
    parts = line.split(" ", 6)
    if len(parts) != 7 or not _STAT_LINE.match(line):
        return None
    raw_mode, owner, group, size, mtime, ctime, path = parts
    mode = int(raw_mode, 16)
    kind = _TYPES.get(mode & 0o170000) or file_type(mode)
    return TreeEntry(
        intern(path), kind, _MODES[mode & 0o7777], intern(owner), intern(group), int(size),
        int(mtime), int(ctime),
    )  # fmt: skip


def _add_content(args: tuple[TreeEntry, str | None, str | None]) -> TreeEntry:
    entry, digest, target = args
    return entry._replace(digest=digest, target=target)


def _parse_sections(
    sections: tuple[bytes, bytes, bytes, tuple[bytes, ...], tuple[str, ...]],
) -> ConfigTrees:
    return parse_trees(*sections)


# Hosts of one image print the same lines, and hosts cloned from one image the same sections:
# each is parsed once, its record shared.
_stat_entry = Memo(_parse_stat_line)
_with_content = Memo(_add_content)
_trees_of = Memo(_parse_sections, size=16)


def _digests(sums: bytes) -> dict[str, str]:
    found = {}
    for line in lines(sums, MAX_TREE_ENTRIES, "the config trees' digests"):
        digest, sep, path = line.partition("  ")
        if sep and _MD5.fullmatch(digest):
            found[path] = digest
    return found


def _targets(links: bytes) -> dict[str, str]:
    """`PATH -> TARGET` (QUOTING_STYLE=escape: no quotes around either)."""
    found = {}
    for line in lines(links, MAX_TREE_ENTRIES, "the config trees' symlinks"):
        path, sep, target = line.partition(" -> ")
        if sep:
            found[path] = target
    return found


def _keys(sections: Sequence[bytes]) -> dict[str, tuple[AuthorizedKey, ...]]:
    found = {}
    for raw in sections:
        path, _, body = raw.partition(b"\n")
        found[text(path)] = tuple(parse_authorized_keys(body))
    return found


def _cut(entries: Mapping[str, TreeEntry], roots: Sequence[str]) -> int | None:
    """The depth limit, when a directory sits at it (what is below it was not listed)."""
    for entry in entries.values():
        if entry.type != "directory" or entry.path.count("/") < MAX_TREE_DEPTH:
            continue  # no deeper than its slashes
        if _depth(entry.path, roots) >= MAX_TREE_DEPTH:
            return MAX_TREE_DEPTH
    return None


def _depth(path: str, roots: Sequence[str]) -> int:
    """Levels below the root the path is under (0 for a root itself or no root)."""
    for root in roots:
        base = root.rstrip("/")
        if path.startswith(base + "/"):
            return path[len(base) :].count("/")
    return 0


# --- the script's calls and the section ---------------------------------------------------------

TREE_STAT, TREE_SUM, TREE_LINKS, TREE_KEY = "tree.stat", "tree.sum", "tree.links", "tree.key."


def wants_trees(state: DeclaredState) -> bool:
    return bool(state.peers)


def key_files(roots: Sequence[str]) -> list[str]:
    """The authorized_keys files among the trees: named, or in a `.ssh` directory named."""
    named = [r for r in roots if r.endswith("/authorized_keys")]
    return named + [f"{r}/authorized_keys" for r in roots if r.endswith("/.ssh")]


def tree_calls(state: DeclaredState) -> list[str]:
    if not wants_trees(state):
        return []
    roots = " ".join(_glob(r) for r in state.peer_trees)
    keys = " ".join(_glob(r) for r in key_files(state.peer_trees))
    return [f"dc_tree {MAX_TREE_DEPTH} {roots}"] + ([f"dc_keys {keys}"] if keys else [])


def _glob(path: str) -> str:
    """The path quoted, but for `*`, which the host's shell expands (a pattern that matches
    nothing stays as written, and dc_tree skips what is not there)."""
    return "*".join(quote(part) if part else "" for part in path.split("*"))


def trees_section(
    sections: Mapping[str, RawSection], missing: Callable[[str], str], state: DeclaredState
) -> Section[ConfigTrees]:
    raws = [sections.get(name) for name in (TREE_STAT, TREE_SUM, TREE_LINKS)]
    for name, raw in zip((TREE_STAT, TREE_SUM, TREE_LINKS), raws, strict=True):
        if raw is None:
            return uncollected(Outcome.FAILED, missing(name))
    stats, sums, links = (raw.body for raw in raws if raw is not None)
    keys = [raw.body for name, raw in sorted(sections.items()) if name.startswith(TREE_KEY)]
    trees = _trees_of((stats, sums, links, tuple(keys), state.peer_trees))
    if not state.peer_ignore:
        return Section(Outcome.COLLECTED, trees)
    ignore = _ignorer(tuple(state.peer_ignore))
    kept = {p: e for p, e in trees.entries.items() if not ignore(p)}
    return Section(Outcome.COLLECTED, replace(trees, entries=kept))


def ignored(path: str, patterns: Sequence[str]) -> bool:
    """A pattern leaves out the path it names, what is below it, and what its `*` match."""
    return _ignorer(tuple(patterns))(path)


def _make_ignorer(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """`ignored` for one set of patterns, made once: a set, a tuple of prefixes, one regex."""
    names, below = frozenset(patterns), tuple(p + "/" for p in patterns)
    globs = [fnmatch.translate(p) for p in patterns if any(c in p for c in "*?[")]
    matches = re.compile("|".join(globs)).match if globs else None

    def ignore(path: str) -> bool:
        return (
            path in names
            or path.startswith(below)
            or (matches is not None and matches(path) is not None)
        )

    return ignore


_ignorer = Memo(_make_ignorer, size=64)
