"""A running container changed by hand on a lab host (ctr01's podman): a config file added and
one deleted inside `web`, plus writes where containers are expected to write (/tmp, /var/log).
The scan reports exactly those two paths as one `changed` finding (target host, item web), on
top of the host's usual findings; the container is then made again as the scenario made it, and
a second scan finds the host as the scenario expects it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.test_scan import Scan, findings, run_scan
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

HOST = "ctr01"
CHANGE = """podman exec web sh -c '
echo added > /etc/added.conf
rm /etc/app-release
echo scratch > /tmp/scratch
mkdir -p /var/log/app && echo line > /var/log/app/app.log
'"""
# As scenario.ctr01_drift made it: a fresh container of the same image and command.
REMAKE = (
    "podman rm -f -t 0 web >/dev/null && "
    "podman run -d -q --network none --name web localhost/app:1.3 sleep 100000 >/dev/null"
)
FINDING = ("host", "container", "web", "changed")


def scan(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    known_hosts = tmp_path_factory.mktemp("kh") / "known_hosts"
    shutil.copy(lab.known_hosts, known_hosts)
    return run_scan(lab, known_hosts, "--limit", HOST)


@pytest.fixture
def changed_web(lab: Lab) -> Iterator[None]:
    lab.ssh(HOST, CHANGE)
    try:
        yield
    finally:
        lab.ssh(HOST, REMAKE)


def test_paths_changed_by_hand_are_one_finding(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory, changed_web: None
) -> None:
    host = scan(lab, tmp_path_factory).host(HOST)
    expected = lab.expected[HOST]
    assert findings(host) == set(expected.findings) | {FINDING}, host
    (finding,) = [
        f for f in host["findings"] if (f["target"], f["category"], f["item"], f["kind"]) == FINDING
    ]
    assert finding["actual"] == "1 added, 1 deleted: A /etc/added.conf, D /etc/app-release"
    assert finding["detail"].split("\n")[1:] == ["A /etc/added.conf", "D /etc/app-release"]


def test_undone_the_host_is_as_the_scenario_says(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Runs after the test above has made `web` again (its fixture's finally)."""
    host = scan(lab, tmp_path_factory).host(HOST)
    expected = lab.expected[HOST]
    assert (host["status"], findings(host)) == (expected.status, set(expected.findings)), host
