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
        parts = line.split(" ", 6)
        if len(parts) != 7 or not _STAT_LINE.match(line):
            continue
        raw_mode, owner, group, size, mtime, ctime, path = parts
        mode = int(raw_mode, 16)
        kind = _TYPES.get(mode & 0o170000) or file_type(mode)
        entries[path] = TreeEntry(
            path, kind, _MODES[mode & 0o7777], owner, group, int(size), int(mtime), int(ctime),
            digests.get(path) if kind == "file" else None,
            targets.get(path) if kind == "symlink" else None,
        )  # fmt: skip
    cut = _cut(entries, roots)
    if cut is not None:  # a hostile or broken tree: what is below was not seen
        raise LimitError(f"a config tree deeper than {cut} levels: the entries below not listed")
    return ConfigTrees(entries, _keys(keys), odd)


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
        if entry.type == "directory" and _depth(entry.path, roots) >= MAX_TREE_DEPTH:
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
    trees = parse_trees(stats, sums, links, keys, state.peer_trees)
    kept = {p: e for p, e in trees.entries.items() if not ignored(p, state.peer_ignore)}
    return Section(Outcome.COLLECTED, replace(trees, entries=kept))


def ignored(path: str, patterns: Sequence[str]) -> bool:
    """A pattern leaves out the path it names, what is below it, and what its `*` match."""
    return any(
        path == p or path.startswith(p + "/") or fnmatch.fnmatchcase(path, p) for p in patterns
    )
