"""contrib/: the Kubernetes manifests against the Kubernetes schemas (offline: the
kubernetes-validate package bundles them), and every driftcheck command line in contrib/ against
driftcheck's own parser, so an option renamed here breaks a test rather than a night's audit."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from driftcheck.cli import build_parser

CONTRIB = Path(__file__).resolve().parent.parent.parent / "contrib"
MANIFESTS = sorted((CONTRIB / "kubernetes").glob("*.yaml"))
# The oldest Kubernetes with the batch.kubernetes.io/job-name label, and the newest bundled.
VERSIONS = ("1.28.0", kubernetes_validate.latest_version())


def documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}#{i}", doc)
        for path in MANIFESTS
        for i, doc in enumerate(yaml.safe_load_all(path.read_text()))
        if doc
    ]


def test_the_manifests_are_there() -> None:
    kinds = sorted(doc["kind"] for _, doc in documents())
    assert kinds == ["ConfigMap", "ConfigMap", "CronJob", "CronJob", "PersistentVolumeClaim"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "doc"), documents(), ids=[n for n, _ in documents()])
def test_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_an_invalid_manifest_is_caught() -> None:
    # The check itself can fail: a misspelt field under strict validation.
    (_, scan) = next((n, d) for n, d in documents() if d["metadata"]["name"] == "driftcheck-scan")
    scan["spec"]["jobTemplate"]["spec"]["completionMod"] = "Indexed"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(scan, VERSIONS[-1], strict=True)


def pod(name: str) -> dict[str, Any]:
    doc = next(d for _, d in documents() if d["metadata"]["name"] == name)
    spec: dict[str, Any] = doc["spec"]["jobTemplate"]["spec"]
    return spec


def test_the_scan_is_an_indexed_job_whose_index_is_the_shard() -> None:
    job = pod("driftcheck-scan")
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == 4
    (container,) = job["template"]["spec"]["containers"]
    args = build_parser().parse_args(container["args"])
    assert args.shard_index == "$(JOB_COMPLETION_INDEX)/4"
    assert "$(JOB_COMPLETION_INDEX)" in args.report_dir
    assert args.known_hosts.startswith("/etc/driftcheck/ssh/")
    secret = next(v for v in job["template"]["spec"]["volumes"] if "secret" in v)
    keys = {item["key"] for item in secret["secret"]["items"]}
    assert keys == {"id_ed25519", "known_hosts"}


def test_the_merge_step_parses() -> None:
    (container,) = pod("driftcheck-merge")["template"]["spec"]["containers"]
    args = build_parser().parse_args([*container["args"], "shard.json"])
    assert args.command == "merge"
    assert args.allow_partial


@pytest.mark.parametrize(
    "unit", ["driftcheck.service", "driftcheck@.service", "driftcheck-merge.service"]
)
def test_systemd_units_run_valid_driftcheck_commands(unit: str) -> None:
    lines = (CONTRIB / unit).read_text().splitlines()
    (start,) = [line.split("=", 1)[1] for line in lines if line.startswith("ExecStart=")]
    argv = shlex.split(start.replace("%i", "eu"))
    assert argv[0].endswith("/driftcheck")
    build_parser().parse_args(argv[1:])
