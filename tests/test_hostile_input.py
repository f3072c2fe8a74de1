"""Hostile states, waivers and vars files through the real CLI: exit 3 naming file:line, fast,
in bounded memory, and nothing secret in any report."""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli import driftcheck as run_cli
from tests.cli import write

ROOT = Path(__file__).resolve().parent.parent
SECRET = "hunter2-do-not-print\n"
MEMORY = 1 << 30  # address space for the CLI: an alias bomb expanded needs gigabytes


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def driftcheck(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=timeout, preexec_fn=_limit_memory)


def local_inventory(tmp_path: Path) -> Path:
    return write(tmp_path / "hosts.ini", "[web]\nlocalhost ansible_connection=local\n")


def bomb(indent: str) -> str:
    """Billion laughs as a block list: 9 levels of 9 aliases, the 7th over the budget."""
    return "".join(
        f"{indent}- &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 9)}]\n" for n in range(9)
    )


def assert_input_error(proc: subprocess.CompletedProcess[str], where: str) -> None:
    assert proc.returncode == 3, proc.stderr
    assert f" {where}: " in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


# --- templates stay inside states/ -----------------------------------------------------------


def test_symlinked_template_dir_is_refused_by_validate_and_scan(tmp_path: Path) -> None:
    keys = tmp_path / "dot-ssh"
    write(keys / "id_ed25519", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}")
    inv = local_inventory(tmp_path)
    state = write(tmp_path / "states" / "all.yml", "files:\n  /etc/hostname:\n"
                  "    template: templates/dirlink/id_ed25519\n")  # fmt: skip
    (tmp_path / "states" / "templates").mkdir()
    (tmp_path / "states" / "templates" / "dirlink").symlink_to(keys)
    for command in (("validate",), ("scan", "--format", "json")):
        proc = driftcheck(*command, "-i", str(inv))
        assert_input_error(proc, f"{state}:3")
        assert "outside the states directory" in proc.stderr
        assert "hunter2" not in proc.stdout + proc.stderr


# --- alias bombs, impossible dates -----------------------------------------------------------


def test_alias_bomb_of_the_wrong_type_is_exit_3_fast_in_bounded_memory(tmp_path: Path) -> None:
    inv = local_inventory(tmp_path)
    state = write(tmp_path / "states" / "all.yml", "host:\n  max_age:\n" + bomb("    "))
    started = time.monotonic()
    proc = driftcheck("validate", "-i", str(inv))
    assert time.monotonic() - started < 10  # the CLI's own start-up included; loading < 2 s
    assert_input_error(proc, f"{state}:9")
    assert "alias bomb" in proc.stderr


def test_alias_bomb_as_a_waiver_reason_is_exit_3(tmp_path: Path) -> None:
    inv = local_inventory(tmp_path)
    write(tmp_path / "states" / "all.yml", "")
    waivers = write(
        tmp_path / "waivers.yml",
        "- host: '*'\n  category: file\n  item: x\n  expires: 2030-01-01\n  reason:\n"
        + bomb("    "),
    )
    proc = driftcheck("scan", "-i", str(inv), "--waivers", str(waivers), "-q")
    assert_input_error(proc, f"{waivers}:12")


@pytest.mark.parametrize("where", ["state", "group_vars", "host_vars", "waiver"])
def test_impossible_dates_are_exit_3_with_file_and_line(tmp_path: Path, where: str) -> None:
    inv = local_inventory(tmp_path)
    files = {
        "state": ("states/all.yml", "packages:\n  bash: present\n  x: 2099-13-45\n", 3),
        "group_vars": ("group_vars/web.yml", "a: 1\nborn: 2099-13-45\n", 2),
        "host_vars": ("host_vars/localhost.yml", "born: 2026-02-30\n", 1),
        "waiver": ("waivers.yml", "- host: a\n  category: b\n  item: c\n  reason: d\n"
                   "  expires: 2099-13-45\n", 5),
    }  # fmt: skip
    name, text, line = files[where]
    path = write(tmp_path / name, text)
    if where != "state":
        write(tmp_path / "states" / "all.yml", "")
    waivers = ("--waivers", str(path)) if where == "waiver" else ()
    proc = driftcheck("scan", "-i", str(inv), *waivers, "-q")
    assert_input_error(proc, f"{path}:{line}")
    assert "not a valid date" in proc.stderr


# --- sensitive files -------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["//", "/./"])
def test_a_second_spelling_never_prints_a_sensitive_file(tmp_path: Path, spelling: str) -> None:
    secret = write(tmp_path / "x" / "secret", SECRET)
    inv = local_inventory(tmp_path)
    write(tmp_path / "states" / "all.yml", f"files:\n  {secret}:\n    sensitive: true\n")
    other = f"{tmp_path}/x{spelling}secret"
    write(tmp_path / "states" / "web.yml", f'files:\n  {other}:\n    content: "expected\\n"\n')
    reports = tmp_path / "reports"
    outputs = []
    for fmt in ("text", "json"):
        proc = driftcheck("scan", "-i", str(inv), "--format", fmt, "--report-dir", str(reports))
        assert proc.returncode == 1, proc.stderr
        outputs.append(proc.stdout)
    (run,) = [json.loads(outputs[1])]
    (finding,) = [f for f in run["hosts"][0]["findings"] if f["category"] == "file"]
    assert finding["item"] == str(secret)
    assert (finding["expected"], finding["diff"]) == ("(sensitive)", None)
    outputs += [p.read_text() for p in (reports / "runs").glob("*/report.*")]
    assert any(p.name == "report.html" for p in (reports / "runs").glob("*/*"))
    digests = [hashlib.sha256(t.encode()).hexdigest() for t in (SECRET, "expected\n")]
    for text in outputs:
        assert "hunter2" not in text
        assert "expected\n" not in text
        for digest in digests:
            assert digest not in text
