"""The one round trip: `build_script` writes the collector script for a declared state,
`parse_output` turns what it printed into an `Observed`.

The script is collect.sh (functions) followed by one call per declared item; every declared path
and unit name goes through `driftcheck.shell.quote`, and items come back by index only.
Parsing is total: missing, repeated or garbled sections become FAILED with a reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources

from driftcheck.collectors.changes import changed_calls, changes_section, wants_changes
from driftcheck.collectors.containers import ENGINES, containers_section, inner_nonce
from driftcheck.collectors.directories import directories_section, directory_calls
from driftcheck.collectors.facts import host_facts
from driftcheck.collectors.files import parse_file
from driftcheck.collectors.packages import installed, parse_apk, parse_dpkg, parse_rpm
from driftcheck.collectors.peerdata import (
    CONFFILES_DPKG,
    CONFFILES_RPM,
    STAT,
    SUM,
    UNIT_FILES,
    UNITS_LOADED,
    conffiles_section,
    merge_conffiles,
    units_section,
    wants_conffiles,
    wants_units,
)
from driftcheck.collectors.procs import (
    Proc,
    by_pid,
    lasting_zombies,
    parse_proc_lines,
    parse_procstat,
    zombies,
)
from driftcheck.collectors.records import SECTIONS as RECORDS
from driftcheck.collectors.records import records_calls, records_section
from driftcheck.collectors.sections import (
    UNSUPPORTED,
    ParseError,
    RawSection,
    split_sections,
    text,
)
from driftcheck.collectors.services import parse_systemctl_show, split_blocks
from driftcheck.collectors.tree import tree_calls, trees_section, wants_trees
from driftcheck.model import (
    CommandResult,
    ConfFile,
    ContainerChanges,
    ContainerSpec,
    ContainerState,
    DeclaredState,
    FileSpec,
    FileState,
    HostFacts,
    Observed,
    Outcome,
    Package,
    Section,
    ServiceState,
    Uncollected,
    uncollected,
)
from driftcheck.shell import bounded_sh, join, quote

_NONCE = re.compile(r"[A-Za-z0-9]{8,64}")
MANAGERS: dict[str, tuple[str, Callable[[bytes], list[Package]]]] = {
    "dpkg": ("dpkg-query", parse_dpkg),
    "rpm": ("rpm", parse_rpm),
    "apk": ("apk database", parse_apk),
}
PARSERS = {manager: parse for manager, (_tool, parse) in MANAGERS.items()}
FACTS = ("os-release", "kernel", "uptime", "clock", "provisioned", "pid1")
# The process table: sed-cut lines, or (a host without sed) the whole /proc/PID/stat records.
PROCS = {"facts.procs": parse_proc_lines, "facts.procstat": parse_procstat}
ZOMBIES_AGAIN = "facts.zombies"  # the zombies' facts.procs lines, read a second later


@functools.cache
def prelude() -> str:
    """collect.sh without its comment lines: they are for its readers, and they would be half
    of the bytes sent to every host. (collect.sh has no here-document or multi-line string
    with a line that starts with "#".)"""
    source = resources.files("driftcheck.collectors").joinpath("collect.sh").read_text()
    return "".join(line for line in source.splitlines(keepends=True) if not _comment(line))


def _comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def build_script(
    state: DeclaredState,
    nonce: str,
    *,
    content_cap: int = 1 << 20,
    time_limit: float = 0,
    records: bool = True,
) -> str:
    """One POSIX sh script for `sh -s`. `nonce`: 8-64 letters or digits, fresh for each run.
    `time_limit`: seconds the collection inside each container may take (0: no limit).
    `records`: the host's package logs and logins, for evidence, when the state can use them
    (not inside containers: evidence is the host's)."""
    if not _NONCE.fullmatch(nonce):
        raise ValueError("the nonce must be 8 to 64 letters or digits")
    calls = ["dc_facts", *_service_calls(state), "dc_packages"]
    calls += ["dc_conffiles", "dc_conffiles_rpm"] if wants_conffiles(state) else []
    calls += tree_calls(state)
    calls += _file_calls(state, max(0, int(content_cap)))
    calls += directory_calls(state)
    calls += _container_calls(state, nonce, max(0, int(content_cap)), time_limit)
    calls += records_calls(state) if records else []
    calls += ["dc_done", "exit 0"]
    return f"dc_m={quote('::driftcheck:' + nonce)}\n{prelude()}\n" + "\n".join(calls) + "\n"


def _service_calls(state: DeclaredState) -> list[str]:
    units = [quote(unit) for unit in _units(state) if _quotable(unit)]
    show = [f"\tdc_units {' '.join(units)}"] if units else []
    show += ["\tdc_all_units"] if wants_units(state) else []
    return ["if dc_systemd; then", *show, "\t:", "fi"]


def _file_calls(state: DeclaredState, cap: int) -> list[str]:
    """The two batches (one `stat`, one `sha256sum` for every file they can take), then one
    dc_file per declared file, which takes its lines from them in the same order."""
    files = [(i, spec) for i, spec in enumerate(_files(state)) if _quotable(spec.path)]
    hows = {i: _how(spec) for i, spec in files}
    stat_batch = [quote(spec.path) for i, spec in files if hows[i] in ("s", "h")]
    sum_batch = [quote(spec.path) for i, spec in files if hows[i] == "h"]
    calls = [f"dc_stat_batch {' '.join(stat_batch)}"] if stat_batch else []
    calls += [f"dc_sum_batch {' '.join(sum_batch)}"] if sum_batch else []
    return calls + [
        f"dc_file {i} {quote(spec.path)} {_what(spec)} {cap} {hows[i]}" for i, spec in files
    ]


def _how(spec: FileSpec) -> str:
    """How dc_file finds a file's facts: a declared-absent file (a) is usually not there, which
    the shell knows without a process; the others go through the stat batch (s), and through
    the digest batch too (h) unless sha256sum would have to escape the name it echoes."""
    if spec.absent:
        return "a"
    if _what(spec) == 0 or any(c in spec.path for c in "\n\r\\"):
        return "s"
    return "h"


def _container_calls(state: DeclaredState, nonce: str, cap: int, limit: float) -> list[str]:
    """Discovery, then one exec per running declared container with a state (dc_inner)."""
    if not audits_containers(state):
        return []
    argv = join(bounded_sh(limit) if limit > 0 else ["/bin/sh", "-s"])
    discovery = "dc_containers" if declares_containers(state) else "dc_containers running"
    return [discovery, *changed_calls(state)] + [
        f"dc_inner {i} {quote(spec.name)} "
        + quote(build_script(inner, inner_nonce(nonce, i), content_cap=cap, records=False))
        + f" {argv}"
        for i, (spec, inner) in enumerate(inner_states(state))
    ]


def audits_containers(state: DeclaredState) -> bool:
    """Discovery runs for declared containers, for unexpected ones, and (with peers) for what
    changed in running containers."""
    return bool(state.containers) or wants_changes(state)


def declares_containers(state: DeclaredState) -> bool:
    """Whether the state judges containers that are not running (declared, or unexpected ones):
    else only running ones matter (what changed in them, with peers)."""
    return bool(state.containers) or state.unexpected_containers == "report"


def inner_states(state: DeclaredState) -> list[tuple[ContainerSpec, DeclaredState]]:
    """The declared containers whose inside is audited, in section order (inner.INDEX)."""
    return [
        (spec, spec.state)
        for spec in state.containers.values()
        if spec.state is not None and not spec.absent
    ]


def _units(state: DeclaredState) -> list[str]:
    return [spec.name for spec in state.services.values()]


def _files(state: DeclaredState) -> list[FileSpec]:
    return list(state.files.values())


def _quotable(word: str) -> bool:
    return "\0" not in word


def _what(spec: FileSpec) -> int:
    """What dc_file collects: 0 stat only, 1 and the digest, 2 and the content too."""
    if _wants_content(spec):
        return 2
    return 1 if _needs_digest(spec) else 0


def _wants_content(spec: FileSpec) -> bool:
    if spec.absent:
        return False
    # keys and lines are compared on the client: their file's content must come back (a
    # sensitive one too; only key fingerprints, or that lines differ, reach a report)
    return (spec.content is not None and not spec.sensitive) or _keyset(spec)


def _needs_digest(spec: FileSpec) -> bool:
    return spec.sha256 is not None or spec.content is not None or _keyset(spec)


def _keyset(spec: FileSpec) -> bool:
    return spec.keys is not None or spec.lines is not None


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Output:
    """The split sections and why one would be missing."""

    sections: Mapping[str, RawSection]
    broken: str  # non-empty: the whole run is not to be trusted

    def get(self, name: str) -> RawSection | None:
        return None if self.broken else self.sections.get(name)

    def missing(self, name: str) -> str:
        return self.broken or self._absent_reason(name)

    def _absent_reason(self, name: str) -> str:
        if "done" not in self.sections:
            return f"the collector's output ended before section {name} was complete"
        return f"section {name} is missing or garbled in the collector's output"


def parse_output(result: CommandResult, state: DeclaredState, nonce: str) -> Observed:
    sections = split_sections(result.stdout, nonce)
    out = _Output(sections, _broken(result, sections))
    procs = _proc_table(out)
    observed = Observed(
        packages=_packages(out),
        files=_file_section(out, state),
        services=_service_section(out, state),
        facts=_facts(out, procs),
        truncated=result.truncated,
    )
    if wants_units(state) or wants_conffiles(state):
        observed = replace(
            observed,
            units=_all_units(out) if wants_units(state) else observed.units,
            conffiles=_conffiles(out) if wants_conffiles(state) else observed.conffiles,
        )
    if wants_trees(state):
        trees = trees_section(out.sections, out.missing, state) if not out.broken else None
        observed = replace(observed, trees=trees or uncollected(Outcome.FAILED, out.broken))
    if state.directories:
        observed = replace(observed, directories=directories_section(out.get, out.missing, state))
    if RECORDS[0] in out.sections:  # evidence: only the host's own script collects it
        observed = replace(observed, records=records_section({n: out.get(n) for n in RECORDS}))
    if not audits_containers(state):
        return observed
    observed = replace(observed, changed=_changed(out)) if wants_changes(state) else observed
    return replace(observed, containers=_containers(out, procs), inner=_inner(out, state, nonce))


def _changed(out: _Output) -> Section[Mapping[str, ContainerChanges]]:
    raws = {engine: out.get(f"changed.{engine}") for engine in ENGINES}
    missing = next((out.missing(f"changed.{e}") for e in ENGINES if raws[e] is None), "")
    return changes_section(raws, missing)


def _proc_table(out: _Output) -> Sequence[Proc] | None:
    """The host's processes, from whichever form the host sent; None when it sent neither.
    Its zombies are those still zombies when read again (ZOMBIES_AGAIN), where it was."""
    for name, parse in PROCS.items():
        raw = out.get(name)
        if raw is not None:
            procs = parse(raw.body)  # its status is not looked at: processes vanish mid-read
            again = out.get(ZOMBIES_AGAIN)
            return procs if again is None else lasting_zombies(procs, parse_proc_lines(again.body))
    return None


def _containers(
    out: _Output, procs: Sequence[Proc] | None
) -> Section[Mapping[str, ContainerState]]:
    raws = {engine: out.get(f"containers.{engine}") for engine in ENGINES}
    missing = next((out.missing(f"containers.{e}") for e in ENGINES if raws[e] is None), "")
    return containers_section(raws, by_pid(procs or ()), missing)


def _inner(out: _Output, state: DeclaredState, nonce: str) -> dict[str, Observed]:
    """What each exec'd inner script printed, parsed with that container's own nonce."""
    found = {}
    for i, (spec, inner) in enumerate(inner_states(state)):
        raw = out.get(f"inner.{i}")
        if raw is None:
            found[spec.name] = _not_audited(out.missing(f"inner.{i}"))
        elif raw.status == UNSUPPORTED:
            found[spec.name] = _not_audited(f"not audited inside: {text(raw.body).strip()}")
        else:
            found[spec.name] = _inner_output(raw, inner, inner_nonce(nonce, i))
    return found


def _inner_output(raw: RawSection, inner: DeclaredState, nonce: str) -> Observed:
    rc = raw.rc if raw.rc is not None else 1
    if rc in (126, 127) and not split_sections(raw.body, nonce):
        said = text(raw.stderr).strip().splitlines()
        why = f": {said[-1][:200]}" if said else ""
        return _not_audited(f"no usable /bin/sh in the container (exec exited {rc}){why}")
    return parse_output(CommandResult(rc, raw.body, raw.stderr), inner, nonce)


def _not_audited(reason: str) -> Observed:
    failed = _failed(reason)
    return Observed(packages=failed, files=failed, services=failed, facts=failed)


def _broken(result: CommandResult, sections: Mapping[str, RawSection]) -> str:
    if result.rc != 0:
        said = text(result.stderr).strip().splitlines()
        return f"the collector script exited {result.rc}" + (f": {said[0][:200]}" if said else "")
    if result.truncated and "done" not in sections:
        return "the collector's output was cut at the per-host size cap"
    if not sections:
        said = text(result.stderr).strip().splitlines()
        return "no collector output was recognised" + (f": {said[0][:200]}" if said else "")
    return ""


def _failed(reason: str) -> Uncollected:
    return uncollected(Outcome.FAILED, reason)


def _unsupported(reason: str) -> Uncollected:
    return uncollected(Outcome.UNSUPPORTED, reason)


def _packages(out: _Output) -> Section[Mapping[str, tuple[Package, ...]]]:
    outputs: list[tuple[str, bytes]] = []
    for manager, (tool, _parse) in MANAGERS.items():
        raw = out.get(f"packages.{manager}")
        if raw is None:
            return _failed(out.missing(f"packages.{manager}"))
        if raw.status == UNSUPPORTED:
            continue
        if raw.rc != 0:
            return _failed(raw.failure(tool))
        outputs.append((manager, raw.body))
    if not outputs:
        return _unsupported("no dpkg-query, rpm or apk database")
    try:
        return Section(Outcome.COLLECTED, installed(outputs, PARSERS))
    except ParseError as exc:
        return _failed(str(exc))


def _file_section(out: _Output, state: DeclaredState) -> Section[Mapping[str, FileState]]:
    files: dict[str, FileState] = {}
    for i, spec in enumerate(_files(state)):
        if not _quotable(spec.path):
            files[spec.path] = FileState(spec.path, False, error="a path with a NUL byte")
            continue
        raw = out.get(f"file.{i}")
        if raw is None:
            return _failed(out.missing(f"file.{i}"))
        files[spec.path] = _one_file(raw, spec)
    return Section(Outcome.COLLECTED, files)


def _one_file(raw: RawSection, spec: FileSpec) -> FileState:
    try:
        return parse_file(raw.body, spec.path, needs_digest=_needs_digest(spec))
    except ParseError as exc:
        return FileState(spec.path, False, error=f"garbled collector output: {exc}")


def _service_section(out: _Output, state: DeclaredState) -> Section[Mapping[str, ServiceState]]:
    gate = out.get("services")
    if gate is None:
        return _failed(out.missing("services"))
    if gate.status == UNSUPPORTED:
        return _unsupported(text(gate.body).strip() or "no systemd")
    units = [unit for unit in _units(state) if _quotable(unit)]
    if not units:
        return Section(Outcome.COLLECTED, {})
    raw = out.get("services.show")
    if raw is None:
        return _failed(out.missing("services.show"))
    blocks = split_blocks(raw.body, len(units))
    if len(blocks) != len(units):
        counts = f"{len(blocks)} unit blocks for {len(units)} units"
        return _failed(f"{raw.failure('systemctl show')} ({counts})")
    found = {unit: parsed for unit, block in zip(units, blocks, strict=True)
             if (parsed := _one_unit(block, unit)) is not None}  # fmt: skip
    return Section(Outcome.COLLECTED, found)


def _one_unit(block: bytes, unit: str) -> ServiceState | None:
    """None (systemd did not report it: unknown) for a garbled block."""
    try:
        return parse_systemctl_show(block, unit)
    except ParseError:
        return None


def _all_units(out: _Output) -> Section[Mapping[str, ServiceState]]:
    gate = out.get("services")
    if gate is None:
        return _failed(out.missing("services"))
    if gate.status == UNSUPPORTED:
        return _unsupported(text(gate.body).strip() or "no systemd")
    files, loaded = out.get(UNIT_FILES), out.get(UNITS_LOADED)
    if files is None or loaded is None:
        return _failed(out.missing(UNIT_FILES if files is None else UNITS_LOADED))
    return units_section(files, loaded)


def _conffiles(out: _Output) -> Section[Mapping[str, ConfFile]]:
    sections = []
    for manager, name in (("dpkg", CONFFILES_DPKG), ("rpm", CONFFILES_RPM)):
        listing = out.get(name)
        if listing is None:
            return _failed(out.missing(name))
        sections.append(
            conffiles_section(listing, out.get(name + SUM), out.get(name + STAT), manager)
        )
    return merge_conffiles(sections)


def _facts(out: _Output, procs: Sequence[Proc] | None) -> Section[HostFacts]:
    raws: dict[str, bytes] = {}
    for name in FACTS:
        raw = out.get(f"facts.{name}")
        if raw is None:
            return _failed(out.missing(f"facts.{name}"))
        raws[name] = raw.body if raw.rc == 0 else b""
    machine = out.get("facts.machine")  # optional: outputs captured before it was collected
    raws["machine"] = machine.body if machine is not None and machine.rc == 0 else b""
    if procs is None:
        return _failed(out.missing("facts.procs"))
    return Section(Outcome.COLLECTED, host_facts(raws, zombies(procs)))
