"""What changed in running containers since they started: the calls that ask for it
(collect.sh's dc_changed, after discovery) and the parser of its sections (changed.ENGINE).

podman is asked for `podman diff --format json` (a path is a JSON string: no name can forge a
line); docker has only `docker diff` (`A /path` lines; a name holding a line break is read up to
it). The host leaves out, while it reads the diff, the paths a container may write, so that a
container that writes a million files there costs nothing; at most MAX_CHANGED_PATHS of the
rest are sent, all of them counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from driftcheck.collectors.sections import RawSection, lines, text
from driftcheck.limits import MAX_CHANGED_PATHS, MAX_CONTAINERS
from driftcheck.model import ContainerChanges, DeclaredState, Outcome, Section, uncollected
from driftcheck.shell import quote

# Paths every container is expected to write, and everything under them (paths inside the
# containers, never opened here).
WRITABLE = ("/tmp", "/run", "/var/tmp", "/var/log", "/var/cache")  # noqa: S108
FORMATS = {"podman": "json", "docker": "lines"}
MAX_PATH = 4096  # characters of one path kept (PATH_MAX)


def watches_all(state: DeclaredState) -> bool:
    """Every running container is looked at, declared or not (with peers or when unexpected
    containers are reported); otherwise only the declared ones."""
    return bool(state.peers) or state.unexpected_containers == "report"


def checked(state: DeclaredState) -> list[str]:
    """The declared containers whose changes are looked at."""
    return [
        spec.name
        for spec in state.containers.values()
        if not spec.absent and spec.changed == "report"
    ]


def wants_changes(state: DeclaredState) -> bool:
    return watches_all(state) or bool(checked(state))


def changed_calls(state: DeclaredState) -> list[str]:
    """One dc_changed per engine (it runs only where discovery saw containers running)."""
    if not wants_changes(state):
        return []
    calls = []
    for engine, form in FORMATS.items():
        words = [engine, form, str(MAX_CHANGED_PATHS), "1" if watches_all(state) else "0"]
        words += _rules(state, form)
        calls.append("dc_changed " + " ".join(quote(word) for word in words))
    return calls


def _rules(state: DeclaredState, form: str) -> list[str]:
    rules = []
    for spec in state.containers.values():
        if spec.absent or spec.changed != "report":
            rules.append(f"-{spec.name}")
            continue
        rules.append(f"+{spec.name}")
        rules += [f"{spec.name}={_as_engine_writes(path, form)}" for path in spec.writable]
    everyone = dict.fromkeys((*WRITABLE, *state.container_writable))
    return rules + [f"*={_as_engine_writes(path, form)}" for path in everyone]


def _as_engine_writes(path: str, form: str) -> str:
    """A path as the engine prints it, for the host to compare as text: podman's JSON string
    (Go's encoder: HTML characters and U+2028/U+2029 escaped too) without its quotes."""
    if form != "json":
        return path
    return "".join(_GO_ESCAPES.get(char, char) for char in path)


def _go_escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if ord(char) < 0x20 or char in "<>&\u2028\u2029":
        return f"\\u{ord(char):04x}"
    return char


_GO_ESCAPES = {chr(i): _go_escape(chr(i)) for i in [*range(0x20), *map(ord, '"\\<>&\u2028\u2029')]}


# --- parsing --------------------------------------------------------------------------------


def changes_section(
    raws: Mapping[str, RawSection | None], missing: str
) -> Section[Mapping[str, ContainerChanges]]:
    """Every engine's containers, by name (the first engine that reports a name keeps it)."""
    found: dict[str, ContainerChanges] = {}
    for engine in FORMATS:
        raw = raws.get(engine)
        if raw is None:
            return uncollected(Outcome.FAILED, missing)
        if raw.rc != 0:
            return uncollected(Outcome.FAILED, raw.failure(f"{engine} diff"))
        for changes in parse_changes(raw, engine):
            found.setdefault(changes.name, changes)
    return Section(Outcome.COLLECTED, found)


def parse_changes(raw: RawSection, engine: str) -> Iterator[ContainerChanges]:
    """The blocks of one changed.ENGINE section: `container NAME`, paths, `= A C D RC`.
    A block that did not end (the diff was killed, awk is missing) says so."""
    said = text(raw.stderr).strip().splitlines()
    why = f": {said[-1][:200]}" if said else ""
    name: str | None = None
    paths: list[tuple[str, str]] = []
    seen = 0
    limit = (MAX_CHANGED_PATHS + 2) * MAX_CONTAINERS
    for line in lines(raw.body, limit, f"{engine} diff"):
        if line.startswith("container "):
            if name is not None:
                yield ContainerChanges(name, engine, error=f"{engine} diff did not finish{why}")
            seen += 1
            name, paths = (line[10:], []) if seen <= MAX_CONTAINERS else (None, [])
        elif name is None:
            continue
        elif line[:2] in ("A ", "C ", "D ") and len(paths) < MAX_CHANGED_PATHS:
            paths.append((line[0], _path(line[2:], engine)))
        elif line.startswith("= "):
            yield _finish(name, engine, paths, line[2:].split(), why)
            name = None
    if name is not None:
        yield ContainerChanges(name, engine, error=f"{engine} diff did not finish{why}")


def _path(said: str, engine: str) -> str:
    if FORMATS[engine] == "json":
        try:
            decoded = json.loads(said)
        except ValueError:
            decoded = None
        said = decoded if isinstance(decoded, str) else said
    return said[:MAX_PATH]


def _finish(
    name: str, engine: str, paths: list[tuple[str, str]], counts: list[str], why: str
) -> ContainerChanges:
    if len(counts) != 4 or not all(c.isdigit() and len(c) < 12 for c in counts):
        return ContainerChanges(name, engine, error=f"{engine} diff: garbled counts")
    added, changed, deleted, rc = (int(c) for c in counts)
    if rc != 0:
        return ContainerChanges(name, engine, error=f"{engine} diff exited {rc}{why}")
    kept = sorted(implied_dropped(paths), key=lambda entry: (entry[1], entry[0]))
    gone = [kind for kind, _ in paths]
    for kind, _ in kept:
        gone.remove(kind)
    added -= gone.count("A")
    changed -= gone.count("C")
    return ContainerChanges(name, engine, tuple(kept), max(added, 0), max(changed, 0), deleted)


def implied_dropped(paths: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Without the directories added or changed only because of what changed inside them: a
    file added as /etc/d/e/f brings `A /etc/d`, `A /etc/d/e` and `C /etc` with it."""
    parents = set()
    for _kind, path in paths:
        at = path.rfind("/")
        while at > 0:
            parents.add(path[:at])
            at = path.rfind("/", 0, at)
    return [(kind, path) for kind, path in paths if kind == "D" or path not in parents]
