"""A captured declared state as text: deterministic YAML in which every string is
double-quoted, validated as `driftcheck validate` validates a state before it is written.

The file is read back through Jinja2 and YAML; every string reads back as exactly what the host
reported (`q`), a key of any length included (`key`).
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from driftcheck.capture import Captured
from driftcheck.errors import StateError
from driftcheck.model import Host
from driftcheck.state import load_declared_state
from driftcheck.version import __version__

IMPLICIT_KEY = 1024  # characters, quotes included: YAML's limit on a key written without `?`


def validated(text: str) -> str:
    """`text`, once the state validator has accepted it as a states directory's all.yml: what
    capture writes always passes `driftcheck validate`. A refusal here is driftcheck's own
    defect, reported as a state error naming the line, and nothing is written."""
    with tempfile.TemporaryDirectory(prefix="driftcheck-capture-") as states:
        (Path(states) / "all.yml").write_text(text, encoding="utf-8")
        try:
            load_declared_state(Path(states), Host("capture"))
        except StateError as exc:
            message = f"{exc.message} (the captured state does not validate: nothing written)"
            raise StateError("captured state", exc.line, message) from None
    return text


def render_yaml(captured: Captured, when: float) -> str:
    stamp = datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
    lines = [
        f"# Declared state captured from {_comment(captured.host)} at {stamp}"
        f" by driftcheck {__version__}.",
        "# Every string is quoted: YAML would read 1.10 as a number and no as false.",
        *(f"# Not captured: {_comment(note)}" for note in captured.notes),
        "packages:" + ("" if captured.packages else " {}"),
        *(f"{key(name)} {q(spec)}" for name, spec in captured.packages.items()),
        "unexpected_packages: report",
        "services:" + ("" if captured.services else " {}"),
        *(
            f"{key(unit)} {{running: {_bool(run)}, enabled: {_bool(on)}}}"
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
            f"{key(path)} {{exactly: [{', '.join(q(name) for name in names)}]}}"
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
        return [f"{key(path)} {_file_yaml(checks)}"]
    block = [key(path), "    keys:" + ("" if keys else " []")]
    block += [f"      - {q(line)}" for line in keys]
    return block + [f"    {name}: {q(value)}" for name, value in checks.items()]


def _file_yaml(checks: Mapping[str, str] | None) -> str:
    if checks is None:
        return q("absent")
    return "{" + ", ".join(f"{name}: {q(value)}" for name, value in checks.items()) + "}"


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


def key(text: str) -> str:
    """A key of a section's mapping, with its `:`. YAML reads a key written plainly only up to
    1,024 characters (a real path can be longer, a host's name anything): a longer one is
    written in YAML's explicit form, `? KEY` and the `:` on the next line."""
    quoted = q(text)
    return f"  {quoted}:" if len(quoted) < IMPLICIT_KEY else f"  ? {quoted}\n  :"


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
