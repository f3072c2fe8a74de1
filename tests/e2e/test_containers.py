"""Containers in the lab: podman inside hosts (ctr01) and the docker command of podman-docker
(ctr02). The scan's exact findings for them are checked by test_scan.py with every other host;
here one audit of the container hosts must leave no process and no zombie behind in any
container, and exec exactly once into each running container that has a declared state,
counted in podman's own event log on the host (events_logger = "file")."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.test_scan import Scan, findings, run_scan
from tests.lab import scenario
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

HOSTS = [h.name for h in scenario.default().hosts if h.containers]
EVENTS_LOG = "/run/libpod/events/events.log"  # root's podman, events_logger = "file"
PROCESSES = """for c in $(podman ps --format '{{.Names}}'); do
  echo "C $c $(podman inspect --format '{{.State.Pid}}' "$c")"
done
ps -eo pid=,ppid=,stat=,comm=
"""
Processes = dict[str, list[tuple[int, str, str]]]  # container -> (pid, state, comm), host PIDs


def processes(lab: Lab, name: str) -> Processes:
    """Every process of every running container: its PID 1 and descendants, from the host's ps."""
    pid1s, table = {}, {}
    for line in lab.ssh(name, PROCESSES).stdout.decode().splitlines():
        fields = line.split()
        if fields[0] == "C":
            pid1s[fields[1]] = int(fields[2])
        else:
            table[int(fields[0])] = (int(fields[1]), fields[2][0], fields[3])
    out = {}
    for container, pid1 in pid1s.items():
        found, todo = [], [pid1]
        while todo:
            pid = todo.pop()
            found.append((pid, table[pid][1], table[pid][2]))
            todo += [p for p, (ppid, _, _) in table.items() if ppid == pid]
        out[container] = sorted(found)
    return out


def events_mark(lab: Lab, name: str) -> int:
    return int(lab.ssh(name, f"stat -c %s {EVENTS_LOG}").stdout)


def execs_since(lab: Lab, name: str, mark: int) -> list[str]:
    """Containers exec'd into since `mark`, once per exec, by podman's own account."""
    text = lab.ssh(name, f"tail -c +{mark + 1} {EVENTS_LOG}").stdout.decode()
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    return sorted(e["Name"] for e in events if e.get("Status") == "exec")


def per_host(lab: Lab, fn: object) -> dict[str, object]:
    assert callable(fn)
    with ThreadPoolExecutor(max_workers=len(HOSTS)) as pool:
        return dict(zip(HOSTS, pool.map(lambda n: fn(lab, n), HOSTS), strict=True))


@pytest.fixture(scope="module")
def audit(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Scan, dict[str, object], dict[str, object], dict[str, list[str]]]:
    known_hosts = tmp_path_factory.mktemp("kh") / "known_hosts"
    shutil.copy(lab.known_hosts, known_hosts)
    before = per_host(lab, processes)
    marks = per_host(lab, events_mark)
    scan = run_scan(lab, known_hosts, "--limit", ",".join(HOSTS))
    execs = {name: execs_since(lab, name, int(str(marks[name]))) for name in HOSTS}
    return scan, before, per_host(lab, processes), execs


def test_container_hosts_exact_findings(
    lab: Lab, audit: tuple[Scan, object, object, object]
) -> None:
    scan = audit[0]
    for name in HOSTS:
        host, expected = scan.host(name), lab.expected[name]
        assert (host["status"], findings(host)) == (expected.status, set(expected.findings)), host


def test_one_exec_per_audited_container(
    lab: Lab, audit: tuple[Scan, object, object, dict[str, list[str]]]
) -> None:
    execs = audit[3]
    assert execs == {name: sorted(lab.hosts[name].audited_containers) for name in HOSTS}


def test_no_process_or_zombie_left_in_any_container(
    audit: tuple[Scan, dict[str, object], dict[str, object], object],
) -> None:
    _, before, after, _ = audit
    assert after == before  # same PIDs, same states: nothing new, no new zombie
    leaky = before["ctr01"]["leaky"]  # type: ignore[index]
    assert [s for _, s, _ in leaky].count("Z") == 1  # the one zombie its PID 1 made itself


def test_zombie_finding_says_why(audit: tuple[Scan, object, object, object]) -> None:
    host = audit[0].host("ctr01")
    leaky = [f for f in host["findings"] if f["target"] == "container:leaky"]
    (zombies,) = [f for f in leaky if f["kind"] == "zombies"]
    assert "does not reap" in zombies["detail"], zombies


def test_busybox_checks_are_unknown_with_a_reason(
    audit: tuple[Scan, object, object, object],
) -> None:
    host = audit[0].host("ctr01")
    (unknown,) = [f for f in host["findings"] if f["kind"] == "unknown"]
    assert unknown["target"] == "container:leaky"
    assert unknown["detail"], unknown


def test_docker_command_is_podman_docker(lab: Lab) -> None:
    out = lab.ssh("ctr02", "docker --version").stdout.decode()
    assert out.startswith("podman"), out
