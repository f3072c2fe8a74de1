"""Host facts from the facts.* sections: os-release, kernel, uptime, clock, provisioning time,
PID 1's command line (the zombie count: procs.py) and which machine it is. A fact that cannot
be read is left unknown (None or "")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from driftcheck import shell
from driftcheck.collectors.sections import lines, text
from driftcheck.model import HostFacts

_OS_RELEASE_LINES = 1000  # a real one has ~10-20; a hostile one is not parsed line by line beyond


def parse_os_release(raw: bytes) -> dict[str, str]:
    """KEY=value lines, values shell-quoted (os-release(5))."""
    values = {}
    for line in lines(raw, _OS_RELEASE_LINES, "os-release"):
        key, eq, value = line.partition("=")
        if not eq or not key.strip().isidentifier():
            continue
        values[key.strip()] = os_release_value(value)
    return values


def os_release_value(value: str) -> str:
    """A value as the shell reads it (shlex, its words joined by one space). The usual forms,
    bare or wholly in double quotes without a backslash or a quote inside, are read without
    shlex: the same result (tests compare them), a tenth of the time."""
    inner = value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"' and '"' not in inner and "\\" not in inner:
        return inner
    try:
        return " ".join(shell.split(value))
    except ValueError:
        return value.strip("\"'")


def parse_first_number(raw: bytes) -> float | None:
    """The first field of /proc/uptime or `date +%s`."""
    words = text(raw).split()
    try:
        return float(words[0]) if words else None
    except ValueError:
        return None


def parse_provisioned(raw: bytes) -> tuple[float | None, str]:
    """`machine-id BIRTH MTIME` and `root BIRTH` lines (dc_provisioned): the machine-id's birth,
    else its mtime, else the root filesystem's birth. Birth 0, `-` or `W` means unknown."""
    fields = {}
    for line in text(raw).splitlines():
        key, _, rest = line.partition(" ")
        fields[key] = rest.split()
    machine_id, root = fields.get("machine-id", []), fields.get("root", [])
    for value, source in (
        (machine_id[0:1], "machine-id birth"),
        (machine_id[1:2], "machine-id mtime"),
        (root[0:1], "rootfs birth"),
    ):
        seconds = _epoch(value)
        if seconds is not None:
            return seconds, source
    return None, ""


def _epoch(value: list[str]) -> float | None:
    if not value or not value[0].isdigit():
        return None
    return float(value[0]) if int(value[0]) > 0 else None


def parse_cmdline(raw: bytes) -> str:
    """/proc/1/cmdline: NUL-separated arguments, shown space-separated."""
    return " ".join(text(arg) for arg in raw.split(b"\0") if arg)


def host_facts(raws: Mapping[str, bytes], zombies: int | None) -> HostFacts:
    """The facts from the raw facts.NAME sections (script.FACTS), and the zombie count."""
    release = parse_os_release(raws["os-release"])
    provisioned, source = parse_provisioned(raws["provisioned"])
    return HostFacts(
        os=release.get("PRETTY_NAME") or " ".join(_words(release, "NAME", "VERSION")),
        os_id=release.get("ID", ""),
        os_version=release.get("VERSION_ID", ""),
        kernel=text(raws["kernel"]).strip(),
        uptime_seconds=parse_first_number(raws["uptime"]),
        provisioned=provisioned,
        provisioned_source=source,
        now=parse_first_number(raws["clock"]),
        zombies=zombies,
        pid1=parse_cmdline(raws["pid1"]),
        **parse_machine(raws.get("machine", b"")),
    )


_MACHINE = {
    "/etc/machine-id": "machine_id",
    "/proc/sys/kernel/random/boot_id": "boot_id",
    "/proc/sys/kernel/hostname": "hostname",
}


def parse_machine(raw: bytes) -> dict[str, str]:
    """dc_machine's `PATH value` lines: machine_id, boot_id, hostname; the first line of each
    path counts, an empty value is unknown."""
    found: dict[str, str] = {}
    for line in text(raw[:4096]).splitlines()[: 2 * len(_MACHINE)]:
        path, _, value = line.partition(" ")
        key = _MACHINE.get(path)
        if key is not None and key not in found:
            found[key] = value.strip()[:256]
    return {key: found.get(key, "") for key in _MACHINE.values()}


def _words(values: Mapping[str, str], *keys: str) -> Sequence[str]:
    return [values[k] for k in keys if values.get(k)]
