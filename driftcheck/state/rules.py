"""What a declared state can hold, one rule each, in one place: the schema applies them to what a
state file says (and names the file and line), `driftcheck capture` to what a host reports, so
that what capture writes is what `validate` accepts. A rule returns the value as the state
keeps it, or raises `Refused` with the reason, worded to follow "NAME 'VALUE': ".
"""

from __future__ import annotations

import re

UNIT_SUFFIXES = (
    ".service", ".socket", ".target", ".timer", ".path", ".mount",
    ".automount", ".swap", ".slice", ".scope", ".device",
)  # fmt: skip
_UNIT = re.compile(r"[A-Za-z0-9:_.\\@-]+")
_VERSION_SPEC = re.compile(r"(<=|>=|<|>|=)\s*([^\s<>=]\S*)")
# A key type word (ssh-ed25519, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com, their -cert
# forms) followed by a base64 word, outside the options (which come first).
_KEY = re.compile(
    r"(?:^|[ \t])(?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+[ \t]+[A-Za-z0-9+/]+={0,3}(?:[ \t]|$)"
)
_OPERATORS = "expected present, absent, a version, or '<op> version' with op one of < <= = >= >"


class Refused(ValueError):
    """A value a declared state cannot hold; the message says why."""


def text(value: str) -> str:
    """A non-empty string without NUL bytes (every name, version, owner and path)."""
    if not value:
        raise Refused("must not be empty")
    if "\x00" in value:
        raise Refused("contains a NUL byte")
    return value


def declared_path(path: str) -> str:
    """The one spelling a declared path is kept under: `/a//b/./c/` is `/a/b/c`, so that two
    spellings are one entry. A path with a `..` component is refused: what it names depends
    on symlinks on the target. A leading `//` is `/` too: POSIX leaves it to the system, and
    on Linux, which driftcheck audits, it is the root."""
    text(path)
    if not path.startswith("/"):
        raise Refused("the path must be absolute")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Refused("'..' is not allowed in a declared path")
    return "/" + "/".join(parts)


def entry_name(name: str) -> str:
    """A directory entry's name: one path component."""
    text(name)
    if "/" in name or name in (".", ".."):
        raise Refused("not an entry name (one path component, no '/')")
    return name


def package_spec(spec: str) -> tuple[str, str | None]:
    """(op, version) of a package's declared value: `present`, `absent`, a version (op `=`)
    or `<op> version`."""
    text(spec)
    if spec in ("present", "absent"):
        return spec, None
    if spec == "latest":
        raise Refused("'latest' cannot be audited: declare a version or present")
    match = _VERSION_SPEC.fullmatch(spec.strip())
    if match:
        return match[1], match[2]
    if any(c.isspace() or c in "<>=" for c in spec):
        raise Refused(f"cannot read {spec!r}: {_OPERATORS}")
    return "=", spec


def exact_version(version: str) -> str:
    """A version that a state reads back as exactly that version (`= version`)."""
    try:
        exact = package_spec(version) == ("=", version)
    except Refused:
        exact = False
    if not exact:
        raise Refused("a state would not read it back as that version")
    return version


def unit(name: str) -> str:
    """The unit a declared service name stands for (`nginx` is `nginx.service`)."""
    text(name)
    if not _UNIT.fullmatch(name):
        raise Refused("not a systemd unit name")
    return name if name.endswith(UNIT_SUFFIXES) else f"{name}.service"


def one_line(line: str) -> str:
    """An entry of `lines:` or `keys:`."""
    text(line)
    if "\n" in line or "\r" in line:
        raise Refused("one line each (no line break)")
    return line


def key_line(line: str) -> str:
    """An entry of `keys:`, stripped: `[options] type base64-key [comment]`. Only its form is
    checked; the fingerprint is taken where it is compared (compare/keysets.py)."""
    line = one_line(line).strip()
    if line.startswith("#") or not _KEY.search(line):
        raise Refused(
            "not an authorized_keys line ([options] type base64-key [comment], as ssh-keygen"
            " writes it)"
        )
    return line
