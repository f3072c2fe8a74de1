"""Vault as Ansible has it: files and values encrypted here by the real `ansible-vault`.

Without secrets a vaulted value is opaque and only its use fails (naming variable and file);
a whole vaulted file is refused with Ansible's words. With `--vault-password-file` or
`--vault-id` ansible-core's own VaultLib opens them. No secret ever reaches an output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import VaultError
from driftcheck.inventory import load_inventory
from driftcheck.model import Vaulted
from tests.inventory.conftest import MAGIC, ansible_tool, normalize, run_json

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
SECRET = "s3cr3t-db-pa55"  # the plain text that must never be printed
HOST_SECRET = "10.9.8.7"


def vault(*args: str, stdin: str = "") -> str:
    tool = str(ansible_tool("ansible-vault"))
    proc = subprocess.run([tool, *args], input=stdin, capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def driftcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftcheck", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=ROOT)  # fmt: skip


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An inventory with inline vaulted values (YAML and JSON vars files), plus whole vaulted
    files kept aside to be dropped in by each test."""
    base = tmp_path_factory.mktemp("vault")
    pw = base / "pw.txt"
    pw.write_text(PASSWORD + "\n")
    inline = vault("encrypt_string", "--vault-password-file", str(pw), SECRET,
                   "--name", "db_password")  # fmt: skip
    inv = base / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.ini").write_text("[web]\nweb1 ansible_connection=local\nweb2\n")
    (inv / "group_vars" / "all" / "vault.yml").write_text(inline)
    (inv / "group_vars" / "all" / "plain.yml").write_text("ntp_server: ntp.example.com\n")
    cipher = _cipher(vault("encrypt_string", "--vault-password-file", str(pw), HOST_SECRET))
    (inv / "host_vars").mkdir()
    (inv / "host_vars" / "web2.json").write_text(
        json.dumps({"api_token": {"__ansible_vault": cipher}})
    )
    (inv / "states").mkdir()
    (inv / "states" / "all.yml").write_text("packages:\n  dpkg: present\n")
    whole = base / "whole.yml"
    whole.write_text(f"db_user: admin\nansible_host: {HOST_SECRET}\n")
    vault("encrypt", "--vault-password-file", str(pw), str(whole))
    whole_inv = base / "whole.ini"
    whole_inv.write_text(f"[db]\ndb1 ansible_host={HOST_SECRET}\n")
    vault("encrypt", "--vault-password-file", str(pw), str(whole_inv))
    return {"base": base, "inv": inv, "pw": pw, "whole": whole, "whole_inv": whole_inv}


def _cipher(encrypted: str) -> str:
    """The ciphertext from encrypt_string's `!vault |` block."""
    return "\n".join(line.strip() for line in encrypted.splitlines()[1:] if line.strip()) + "\n"


def _no_secret(proc: subprocess.CompletedProcess[str]) -> None:
    for secret in (SECRET, HOST_SECRET, PASSWORD):
        assert secret not in proc.stdout + proc.stderr


def test_inline_vault_values_load_opaque(tree: dict[str, Path]) -> None:
    hosts = load_inventory(tree["inv"] / "hosts.ini").hosts
    value = hosts["web1"].vars["db_password"]
    assert isinstance(value, Vaulted)
    assert SECRET not in repr(value)
    with pytest.raises(VaultError, match=r"vault\.yml:1: variable 'db_password' is vault"):
        str(value)
    assert isinstance(hosts["web2"].vars["api_token"], Vaulted)


def test_ansible_lists_the_same_variables(
    tree: dict[str, Path], ansible_env: dict[str, Any]
) -> None:
    tool = str(ansible_tool("ansible-inventory"))
    source = tree["inv"] / "hosts.ini"
    theirs = run_json([tool, "-i", str(source), "--list"], ansible_env)["_meta"]["hostvars"]
    for name, host in load_inventory(source).hosts.items():
        mine = {k: _as_listed(v) for k, v in host.vars.raw.items() if k not in MAGIC}  # type: ignore[attr-defined]
        assert normalize(mine) == normalize(theirs[name]), name


def _as_listed(value: Any) -> Any:
    return {"__ansible_vault": value.ciphertext} if isinstance(value, Vaulted) else value


def test_inventory_works_until_the_plain_text_is_needed(tree: dict[str, Path]) -> None:
    source = str(tree["inv"] / "hosts.ini")
    listed = driftcheck("inventory", "-i", source, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert driftcheck("validate", "-i", source).returncode == 0
    shown = driftcheck("inventory", "-i", source, "--vars")
    assert shown.returncode == 3
    assert "variable 'db_password' is vault-encrypted and no vault secret was given" in shown.stderr
    assert "group_vars/all/vault.yml:1" in shown.stderr
    _no_secret(shown)


def test_a_state_template_using_a_vaulted_value_fails_naming_it(tree: dict[str, Path]) -> None:
    source = str(tree["inv"] / "hosts.ini")
    states = tree["base"] / "states"
    states.mkdir(exist_ok=True)
    (states / "all.yml").write_text('files:\n  /etc/app.conf:\n    content: "{{ db_password }}"\n')
    proc = driftcheck("validate", "-i", source, "--states", str(states))
    assert proc.returncode == 3
    assert "all.yml:3" in proc.stderr
    assert "'db_password'" in proc.stderr
    assert "vault.yml" in proc.stderr
    _no_secret(proc)
    opened = driftcheck("validate", "-i", source, "--states", str(states),
                        "--vault-password-file", str(tree["pw"]))  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    _no_secret(opened)


def test_secrets_open_every_value(tree: dict[str, Path]) -> None:
    for option in (f"--vault-password-file={tree['pw']}", f"--vault-id=prod@{tree['pw']}"):
        proc = driftcheck("inventory", "-i", str(tree["inv"] / "hosts.ini"), "--vars",
                          "--format", "json", option)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        rows = {row["name"]: row["vars"] for row in json.loads(proc.stdout)}
        assert rows["web1"]["db_password"] == SECRET
        assert rows["web2"]["api_token"] == HOST_SECRET


def test_a_wrong_password_fails_only_where_used(tree: dict[str, Path]) -> None:
    wrong = tree["base"] / "wrong.txt"
    wrong.write_text("not it\n")
    source = str(tree["inv"] / "hosts.ini")
    assert (
        driftcheck("inventory", "-i", source, "--vault-password-file", str(wrong)).returncode == 0
    )
    proc = driftcheck("inventory", "-i", source, "--vars", "--vault-password-file", str(wrong))
    assert proc.returncode == 3
    assert "'db_password' is vault-encrypted and no vault secret given decrypts it" in proc.stderr


@pytest.mark.parametrize("where", ["group_vars", "inventory"])
def test_a_whole_vaulted_file_is_refused_without_secrets(tree: dict[str, Path], where: str) -> None:
    inv = tree["base"] / f"whole-{where}"
    inv.mkdir(exist_ok=True)
    if where == "group_vars":
        (inv / "hosts.ini").write_text("[db]\ndb1\n")
        (inv / "group_vars").mkdir(exist_ok=True)
        vaulted = inv / "group_vars" / "db.yml"
        vaulted.write_bytes(tree["whole"].read_bytes())
    else:
        vaulted = inv / "hosts.ini"
        vaulted.write_bytes(tree["whole_inv"].read_bytes())
    proc = driftcheck("inventory", "-i", str(inv / "hosts.ini"))
    assert proc.returncode == 3
    assert f"{vaulted}:1: Attempting to decrypt but no vault secrets found" in proc.stderr
    _no_secret(proc)
    opened = driftcheck("inventory", "-i", str(inv / "hosts.ini"), "--format", "json",
                        "--vault-password-file", str(tree["pw"]))  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)[0]["address"] == HOST_SECRET


def test_a_vaulted_connection_variable_stops_before_any_connection(tree: dict[str, Path]) -> None:
    inv = tree["base"] / "conn"
    (inv / "host_vars").mkdir(parents=True, exist_ok=True)
    (inv / "hosts.ini").write_text("db1\n")
    inline = vault("encrypt_string", "--vault-password-file", str(tree["pw"]), HOST_SECRET,
                   "--name", "ansible_host")  # fmt: skip
    (inv / "host_vars" / "db1.yml").write_text(inline)
    for command in ("inventory", "scan"):
        proc = driftcheck(command, "-i", str(inv / "hosts.ini"))
        assert proc.returncode == 3, proc.stderr
        assert "db1.yml:1: variable 'ansible_host' is vault-encrypted" in proc.stderr
        _no_secret(proc)


def test_without_ansible_core_the_error_says_what_to_install(tree: dict[str, Path]) -> None:
    # A fake, said so: ansible-core is a test dependency, so its absence is simulated by
    # making its import fail in a child interpreter.
    code = ("import sys; sys.modules['ansible'] = None\n"
            "from driftcheck.cli import main\n"
            f"main(['inventory', '-i', {str(tree['inv'] / 'hosts.ini')!r},"
            f" '--vault-password-file', {str(tree['pw'])!r}])\n")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 3
    assert "pip install 'driftcheck[vault]'" in proc.stderr


def test_a_scan_never_shows_a_decrypted_secret(tree: dict[str, Path]) -> None:
    """A real local scan: the declared content holds the secret, the file on disk differs;
    every report format must show the drift and none the secret."""
    inv = tree["base"] / "scan"
    (inv / "group_vars").mkdir(parents=True, exist_ok=True)
    (inv / "states").mkdir(exist_ok=True)
    (inv / "hosts.ini").write_text("[app]\nlocalhost ansible_connection=local\n")
    (inv / "group_vars" / "app.yml").write_text(
        (tree["inv"] / "group_vars" / "all" / "vault.yml").read_text()
    )
    target = inv / "app.conf"
    target.write_text("password = old\n")
    (inv / "states" / "all.yml").write_text(
        f'files:\n  {target}:\n    content: "password = {{{{ db_password }}}}\\n"\n'
    )
    outputs = []
    for fmt in ("text", "json", "html", "junit", "prometheus"):
        proc = driftcheck("scan", "-i", str(inv / "hosts.ini"), "--format", fmt,
                          "--vault-password-file", str(tree["pw"]))  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        outputs.append(proc.stdout)
        _no_secret(proc)
    assert "sensitive" in outputs[0]
    assert str(target) in outputs[0]


def test_ansible_vault_password_file_in_the_environment_is_honoured(tree: dict[str, Path]) -> None:
    env = dict(os.environ, ANSIBLE_VAULT_PASSWORD_FILE=str(tree["pw"]))
    proc = subprocess.run([sys.executable, "-m", "driftcheck", "inventory", "-i",
                           str(tree["inv"] / "hosts.ini"), "--vars", "--format", "json"],
                          capture_output=True, text=True, check=False, timeout=120, cwd=ROOT,
                          env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["vars"]["db_password"] == SECRET


def test_inventory_digest_counts_a_vaulted_value_without_opening_it(tree: dict[str, Path]) -> None:
    from driftcheck.fleet.shard import inventory_digest  # noqa: PLC0415

    hosts = load_inventory(tree["inv"] / "hosts.ini").hosts.values()
    assert inventory_digest(hosts).startswith("sha256:")  # no VaultError: nothing was decrypted


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_a_hanging_password_script_is_killed_before_the_lock_is_taken(
    tree: dict[str, Path], tmp_path: Path
) -> None:
    pidfile = tmp_path / "child.pid"
    hang = _script(tmp_path / "pass.sh", f"sleep 60 &\necho $! > {pidfile}\nwait\n")
    started = time.monotonic()
    _stops_at_one_second(tree, tmp_path, hang, "vault password script still running after 1s")
    child = int(pidfile.read_text())
    while Path(f"/proc/{child}").exists() and "Z" not in _state(child):
        assert time.monotonic() - started < 30, "the script's child outlived the time limit"
        time.sleep(0.05)


def _stops_at_one_second(tree: dict[str, Path], tmp_path: Path, password: Path, said: str) -> None:
    """`scan --timeout 1` with this password file stops (exit 3, naming it) well within 30 s,
    before the report directory's lock is taken."""
    reports = tmp_path / "reports"
    started = time.monotonic()
    proc = driftcheck("scan", "-i", str(tree["inv"] / "hosts.ini"), "--report-dir", str(reports),
                      "--timeout", "1", "--vault-password-file", str(password))  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert f"{password}: {said}" in proc.stderr
    assert time.monotonic() - started < 30
    assert not reports.exists()  # no lock taken, no directory made


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_a_flooding_password_script_is_cut_at_64_kib(tree: dict[str, Path], tmp_path: Path) -> None:
    flood = _script(tmp_path / "pass.sh", "yes correct-horse\n")
    proc = driftcheck("inventory", "-i", str(tree["inv"] / "hosts.ini"),
                      "--vault-password-file", str(flood))  # fmt: skip
    assert proc.returncode == 3
    assert f"{flood}: vault password script printed more than 64 KiB (killed)" in proc.stderr


def test_a_password_script_and_a_client_script_still_open_the_vault(
    tree: dict[str, Path], tmp_path: Path
) -> None:
    plain = _script(tmp_path / "pass.sh", f"echo '{PASSWORD}'\n")
    answer = f'[ "$1 $2" = "--vault-id prod" ] && echo \'{PASSWORD}\' || exit 2\n'
    client = _script(tmp_path / "vault-client.sh", answer)
    for option in (f"--vault-password-file={plain}", f"--vault-id=prod@{client}"):
        proc = driftcheck("inventory", "-i", str(tree["inv"] / "hosts.ini"), "--vars",
                          "--format", "json", option)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["vars"]["db_password"] == SECRET
    failing = _script(tmp_path / "fail.sh", "echo nope >&2; exit 5\n")
    proc = driftcheck("inventory", "-i", str(tree["inv"] / "hosts.ini"),
                      "--vault-password-file", str(failing))  # fmt: skip
    assert proc.returncode == 3
    assert f"vault password script {failing} returned non-zero (5): nope" in proc.stderr


def test_a_password_file_over_64_kib_is_refused(tree: dict[str, Path], tmp_path: Path) -> None:
    big = tmp_path / "pass.txt"
    big.write_text("x" * (65 << 10))
    proc = driftcheck("inventory", "-i", str(tree["inv"] / "hosts.ini"),
                      "--vault-password-file", str(big))  # fmt: skip
    assert proc.returncode == 3
    assert f"{big}: vault password file larger than 64 KiB" in proc.stderr


def test_a_fifo_nobody_writes_to_fails_at_the_time_limit(
    tree: dict[str, Path], tmp_path: Path
) -> None:
    fifo = tmp_path / "pass.fifo"
    os.mkfifo(fifo)
    _stops_at_one_second(tree, tmp_path, fifo, "vault password file not read whole within 1s")


def test_an_endless_device_is_cut_at_64_kib(tree: dict[str, Path]) -> None:
    proc = driftcheck("inventory", "-i", str(tree["inv"] / "hosts.ini"),
                      "--vault-password-file", "/dev/zero")  # fmt: skip
    assert proc.returncode == 3
    assert "/dev/zero: vault password file larger than 64 KiB" in proc.stderr


def test_a_password_from_a_pipe_opens_the_vault(tree: dict[str, Path]) -> None:
    """`--vault-password-file <(pass show vault)`: the shell hands over /dev/fd/N, a pipe."""
    read, write = os.pipe()
    os.write(write, f"{PASSWORD}\n".encode())
    os.close(write)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "driftcheck", "inventory", "-i", str(tree["inv"] / "hosts.ini"),
             "--vars", "--format", "json", f"--vault-password-file=/dev/fd/{read}"],
            capture_output=True, text=True, check=False, timeout=120, cwd=ROOT, pass_fds=(read,),
        )  # fmt: skip
    finally:
        os.close(read)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["vars"]["db_password"] == SECRET
