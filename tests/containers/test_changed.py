"""What changed in a running container, parsed from real `podman diff` output captured on this
machine (tests/containers/diff/, `python -m tests.containers.diffcapture`): the JSON podman is
asked for and the `A /path` lines docker prints, each read through collect.sh's own awk filter
(mawk and busybox awk) and then the parser. Writable paths are left out on the host, directories
that only hold what changed are not counted, a name cannot forge a line, and a diff of any size
is cut at the limit with every path still counted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from driftcheck.collectors.changes import WRITABLE, changed_calls, parse_changes
from driftcheck.collectors.script import build_script
from driftcheck.collectors.sections import RawSection
from driftcheck.limits import MAX_CHANGED_PATHS
from driftcheck.model import ContainerChanges, ContainerSpec, DeclaredState

HERE = Path(__file__).parent / "diff"
COLLECT = (Path(__file__).parents[2] / "driftcheck" / "collectors" / "collect.sh").read_text()
AWKS = [a for a in ("mawk", "busybox awk", "gawk") if shutil.which(a.split()[0])]
ENGINE = {"json": "podman", "lines": "docker"}


def rules_for(state: DeclaredState, form: str) -> list[str]:
    """The RULE words build_script gives dc_changed for this engine format."""
    engine = ENGINE[form]
    (call,) = [c for c in changed_calls(state) if c.startswith(f"dc_changed {engine} ")]
    script = COLLECT + f'\ndc_changed() {{ shift 4; printf "%s\\n" "$@"; }}\n{call}\n'
    out = subprocess.run(["sh", "-c", script], capture_output=True, check=True)
    return out.stdout.decode().splitlines()


def filtered(
    body: bytes, form: str, state: DeclaredState, awk: str = "awk", most: int = 0
) -> bytes:
    """What the host sends for container `web`: the diff through collect.sh's awk filter."""
    script = COLLECT + f'\nprintf "container web\\n"; {awk} "$dc_changed_awk" web "$@"\n'
    args = [form, str(most or MAX_CHANGED_PATHS), *rules_for(state, form)]
    out = subprocess.run(
        ["sh", "-c", script, "sh", *args], input=body + b"\nrc=0\n", capture_output=True,
        check=True,
    )  # fmt: skip
    return out.stdout


def parsed(
    body: bytes, form: str, state: DeclaredState, awk: str = "awk", most: int = 0
) -> ContainerChanges:
    raw = RawSection("0", filtered(body, form, state, awk, most))
    (changes,) = parse_changes(raw, ENGINE[form])
    return changes


WEB = DeclaredState(containers={"web": ContainerSpec("web")})
# What the capture changed by hand, as both formats say it (the line break only as JSON can).
BY_HAND = [
    ("D", "/bin/stat"),
    ("A", '/etc/a<b>&"c\\d'),
    ("C", "/etc/app.conf"),
    ("A", "/etc/new.conf"),
    ("A", "/etc/nl\nA x"),
    ("A", "/etc/unié.conf"),
    ("A", "/srv/data/a/b/f"),
]


@pytest.mark.parametrize("awk", AWKS)
def test_podman_json(awk: str) -> None:
    """/var/log and /var/cache (and /var on the way) are left out; /srv, /srv/data... only
    hold the added file; `C /etc` (podman's mount points) and `C /bin` (holds /bin/stat) too."""
    got = parsed((HERE / "podman.json").read_bytes(), "json", WEB, awk=awk)
    assert got == ContainerChanges("web", "podman", tuple(BY_HAND), 5, 1, 1)


@pytest.mark.parametrize("awk", AWKS)
def test_lines_as_docker_prints_them(awk: str) -> None:
    """A name with a line break is read up to it, and what follows it (`A x`, no absolute
    path) is no entry of its own."""
    got = parsed((HERE / "podman.txt").read_bytes(), "lines", WEB, awk=awk)
    want = [(k, "/etc/nl" if p == "/etc/nl\nA x" else p) for k, p in BY_HAND]
    assert got == ContainerChanges("web", "docker", tuple(want), 5, 1, 1)


def test_a_fresh_podman_container_has_no_changes() -> None:
    got = parsed((HERE / "podman_fresh.json").read_bytes(), "json", WEB)
    assert got == ContainerChanges("web", "podman")


@pytest.mark.parametrize("form", ["json", "lines"])
def test_writable_paths_from_the_state_match_as_the_engine_writes_them(form: str) -> None:
    """A writable path holding JSON-escaped characters matches podman's escaped text."""
    state = DeclaredState(
        containers={"web": ContainerSpec("web", writable=("/srv/data",))},
        container_writable=('/etc/a<b>&"c\\d', "/bin"),
    )
    body = (HERE / ("podman.json" if form == "json" else "podman.txt")).read_bytes()
    got = parsed(body, form, state)
    left = {p for _, p in got.paths}
    assert not left & {'/etc/a<b>&"c\\d', "/srv/data/a/b/f", "/bin/stat"}
    assert (got.added, got.changed, got.deleted) == (3, 1, 0)


def test_other_containers_writable_paths_do_not_apply() -> None:
    state = DeclaredState(
        containers={"web": ContainerSpec("web"), "db": ContainerSpec("db", writable=("/etc",))}
    )
    got = parsed((HERE / "podman.json").read_bytes(), "json", state)
    assert got.total == 7


def test_a_huge_diff_is_cut_and_counted() -> None:
    """A million added paths: the host sends the first MAX, counts them all; memory stays
    bounded on both sides (awk streams; the parser reads MAX lines)."""
    count = 1_000_000
    body = "".join(f"A /srv/f{i}\n" for i in range(count)).encode()
    got = parsed(body, "lines", WEB)
    assert len(got.paths) == MAX_CHANGED_PATHS
    assert (got.added, got.cut) == (count, True)


def test_failures_and_forgeries() -> None:
    said = RawSection(
        "0",
        b"container a\n= 0 0 0 125\n"  # the diff failed
        b'container b\nA "/x"\n'  # never finished (killed, or awk missing)
        b"container c\n= 1 x 0 0\n",  # garbled counts
        b'Error: no container with name or ID "a" found\n',
    )
    got = {c.name: c.error for c in parse_changes(said, "podman")}
    assert got == {
        "a": 'podman diff exited 125: Error: no container with name or ID "a" found',
        "b": 'podman diff did not finish: Error: no container with name or ID "a" found',
        "c": "podman diff: garbled counts",
    }


def test_calls_only_where_the_state_asks() -> None:
    assert changed_calls(DeclaredState()) == []
    assert (
        changed_calls(DeclaredState(containers={"web": ContainerSpec("web", changed="ignore")}))
        == []
    )
    assert len(changed_calls(DeclaredState(peers=True))) == 2
    script = build_script(WEB, "n0nce123")
    assert "dc_changed podman json 1000 0 +web" in script
    for path in WRITABLE:
        assert f"'*={path}'" in script
