"""One declared file from its section (dc_file in collect.sh): `stat MODEHEX UID GID SIZE USER
GROUP MTIME CTIME` (the times are evidence only) or `staterr STRERROR`, then `sha256 HEX` or
`readerr WHY`, then `content CAP` and the first CAP+1 bytes in base64."""

from __future__ import annotations

import base64
import binascii
import re
import stat as st
from dataclasses import replace

from driftcheck.collectors.sections import ParseError, lines
from driftcheck.model import FileState

# What stat says when the path is simply not there (a component that is a file: ENOTDIR).
_ABSENT = ("No such file or directory", "Not a directory")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEAD_LINES = 8  # a stat line and a digest line; many more is a hostile host


def parse_file(raw: bytes, path: str, *, needs_digest: bool = True) -> FileState:
    """`needs_digest`: whether the declared state compares content. An unreadable file is then
    an error (nothing is known of it); otherwise only its digest is unknown."""
    head, _, content = raw.partition(b"\ncontent ")
    found = list(lines(head, _HEAD_LINES, "a file section"))
    if not found or not found[0]:
        raise ParseError("empty file section")
    state = _stat_line(found[0], path)
    for line in found[1:]:
        state = _digest_line(line, state, needs_digest)
    if content:
        state = _content(content, state)
    if needs_digest and state.type == "file" and state.sha256 is None and not state.error:
        state = replace(state, error="no digest reported")
    return state


def _stat_line(line: str, path: str) -> FileState:
    key, _, rest = line.partition(" ")
    if key == "staterr":
        if rest.strip() in _ABSENT:
            return FileState(path, exists=False)
        return FileState(
            path, exists=False, error=f"cannot stat: {rest.strip() or 'unknown error'}"
        )
    fields = rest.split(" ")
    if key != "stat" or len(fields) not in (6, 8):
        raise ParseError(f"not a stat line: {line[:80]!r}")
    try:
        mode, uid, gid = int(fields[0], 16), int(fields[1]), int(fields[2])
    except ValueError:
        raise ParseError(f"not a stat line: {line[:80]!r}") from None
    mtime, ctime = (epoch(fields[6]), epoch(fields[7])) if len(fields) == 8 else (None, None)
    owner = fields[4] if fields[4] != "UNKNOWN" else str(uid)
    group = fields[5] if fields[5] != "UNKNOWN" else str(gid)
    return FileState(
        path,
        True,
        file_type(mode),
        mode=f"{st.S_IMODE(mode):04o}",
        owner=owner,
        group=group,
        mtime=mtime,
        ctime=ctime,
    )


def epoch(word: str) -> int | None:
    """A time stat printed (%Y, %Z: whole seconds); None for anything else."""
    return int(word) if word.isdigit() and len(word) <= 12 else None


_TYPES = {
    st.S_IFREG: "file",
    st.S_IFDIR: "directory",
    st.S_IFLNK: "symlink",
    st.S_IFIFO: "fifo",
    st.S_IFSOCK: "socket",
    st.S_IFCHR: "char device",
    st.S_IFBLK: "block device",
}


def file_type(mode: int) -> str:
    """What a raw st_mode (stat's %f) says the entry is; never opened unless a "file"."""
    return _TYPES.get(st.S_IFMT(mode), "other")


def _digest_line(line: str, state: FileState, needs_digest: bool) -> FileState:
    key, _, rest = line.partition(" ")
    if key == "sha256" and _SHA256.fullmatch(rest.strip().lower()):
        return replace(state, sha256=rest.strip().lower())
    if key == "readerr":
        return replace(state, error=f"cannot read: {rest.strip()}") if needs_digest else state
    raise ParseError(f"unexpected line in a file section: {line[:80]!r}")


def _content(section: bytes, state: FileState) -> FileState:
    """`content CAP` then base64 of up to CAP+1 bytes: the extra byte shows the file was cut."""
    cap_text, _, encoded = section.partition(b"\n")
    try:
        cap = int(cap_text)
        data = base64.b64decode(b"".join(encoded.split()), validate=True)
    except (ValueError, binascii.Error):
        raise ParseError("file content is not base64") from None
    return replace(state, content=data[:cap], content_truncated=len(data) > cap)
