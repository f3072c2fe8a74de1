"""Declared units from one `systemctl show -p Id,LoadState,ActiveState,UnitFileState -- UNIT...`:
one block of KEY=VALUE lines (in whatever order systemd prints them) per unit, in argument
order, blocks separated by a blank line."""

from __future__ import annotations

from driftcheck.collectors.sections import ParseError, text
from driftcheck.models import ServiceState

_REQUIRED = ("LoadState", "ActiveState")


def parse_systemctl_show(raw: bytes, name: str) -> ServiceState:
    """`name` is the declared unit: systemd's Id may be the alias's target (sshd -> ssh)."""
    props: dict[str, str] = {}
    for line in text(raw).splitlines():
        key, eq, value = line.partition("=")
        if eq and key.isidentifier():
            props.setdefault(key, value.strip())
        elif line.strip():
            raise ParseError(f"not a systemctl property line: {line[:80]!r}")
    missing = [k for k in _REQUIRED if not props.get(k)]
    if missing:
        raise ParseError(f"systemctl show did not report {', '.join(missing)}")
    return ServiceState(
        name, props["LoadState"], props["ActiveState"], props.get("UnitFileState", "")
    )


def split_blocks(raw: bytes) -> list[bytes]:
    """The per-unit blocks of a multi-unit `systemctl show`, in order."""
    blocks = raw.replace(b"\r\n", b"\n").split(b"\n\n")
    return [block for block in blocks if block.strip()]
