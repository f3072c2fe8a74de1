"""ssh_config resolved as OpenSSH resolves it: every case is checked against `ssh -G` run with the
command line Ansible builds for the host (user, port, HostName, IdentityFile, CertificateFile,
UserKnownHostsFile, ProxyJump). The config files are written here, one per kind of setup."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from driftcheck.backends.sshtokens import local_account, tilde
from driftcheck.backends.target import Route, resolve
from driftcheck.model import Host
from tests.sshd import Sshd
from tests.tools import require_tools

HOME = local_account().pw_dir


@dataclass(frozen=True)
class Case:
    config: str  # {d} is the case's directory
    files: dict[str, str]  # more files under {d}: relative path -> text
    hosts: tuple[tuple[str, dict[str, Any]], ...]  # (inventory address, host vars)


def _hosts(*names: str, **hostvars: Any) -> tuple[tuple[str, dict[str, Any]], ...]:
    return tuple((name, dict(hostvars)) for name in names)


CASES = {
    "include_absolute_glob": Case(
        "Include {d}/conf.d/*.conf\n"
        "Host bastion\n  User jumper\n"
        "Host *\n  User fallback\n  Port 2200\n",
        {
            "conf.d/10-web.conf": "Host web-*\n  HostName %h.web.example\n  Port 2201\n"
            "  User www\n",
            "conf.d/20-db.conf": "Match originalhost db?\n  HostName %h.db.internal\n  User pg\n"
            "Host db1\n  Port 5022\n",
            "conf.d/readme.txt": "Host *\n  User never-read\n",
        },
        _hosts("web-1", "db1", "db2", "other", "bastion"),
    ),
    "include_inside_a_block_applies_only_with_it": Case(
        "Host staging-*\n  Include {d}/staging.conf\nHost *\n  Include {d}/all.conf\n",
        {
            # top lines of an included file belong to the block that included it
            "staging.conf": "User stage\nPort 2022\nHost staging-db\n  HostName 10.0.9.9\n",
            # a Match inside an include does not clobber the including file's state
            "all.conf": "Match user nobody\n  Port 1\n",
        },
        _hosts("staging-app", "staging-db", "prod-app"),
    ),
    "include_nested_and_missing": Case(
        "Include {d}/none-here/*.conf {d}/level1.conf\nHost *\n  IdentityFile {d}/keys/last\n",
        {
            "level1.conf": "Include {d}/level2.conf\nHost nest\n  User one\n",
            "level2.conf": "Host nest\n  User two\n  IdentityFile {d}/keys/nested\n",
        },
        _hosts("nest", "flat"),
    ),
    "host_patterns_and_case": Case(
        "Host Web1 !web1.internal *.Example.COM\n  User upper\n"
        "Host web1 web?.lab\n  User lower\n  Port 2301\n"
        "Host *\n  Port 2399\n",
        {},
        _hosts("web1", "WEB1", "Web1", "web7.lab", "a.Example.COM", "a.example.com"),
    ),
    "match_host_ignores_case": Case(
        "Host gw\n  HostName GW.Example.NET\n"
        "Match host *.example.net,!bad.example.net\n  User mh\n"
        "Match originalhost APP*\n  Port 2401\n",
        {},
        _hosts("gw", "app1", "APP2", "bad.example.net"),
    ),
    "match_user_from_the_inventory": Case(
        "Match user deploy,ops\n  IdentityFile {d}/keys/team\n"
        "Match !user root localuser *\n  Port 2501\n"
        "Host *\n  User default-user\n",
        {},
        (
            ("m1", {"ansible_user": "deploy"}),
            ("m2", {"ansible_user": "root"}),
            ("m3", {}),
            ("m4", {"ansible_ssh_common_args": "-l ops"}),
        ),
    ),
    "match_exec_runs_through_the_shell": Case(
        'Match exec "true; false"\n  User list-status\n'
        'Match exec "! test -e {d}/flag"\n  Port 2601\n'
        'Match exec "test -n %h && test %p = 2601 && test %n = %h"\n  User chained\n'
        'Match host ex2 exec "exit 3"\n  Port 2602\n'
        "Match exec \"test '%r' = root -o '%r' != root\"\n  IdentityFile {d}/keys/%r-%h\n",
        {"flag-absent": ""},
        _hosts("ex1", "ex2"),
    ),
    "match_exec_picks_the_route": Case(
        'Match host *.corp exec "test -e {d}/on-vpn"\n  ProxyJump none\n'
        "Host *.corp\n  ProxyJump ops@bastion.corp:2200\n"
        'Match host *.lab,!gw.lab !exec "test -e {d}/in-lab"\n  ProxyJump gw.lab\n'
        "Host bastion.corp\n  HostName 192.0.2.10\n",
        {"on-vpn": ""},
        _hosts("db.corp", "db.lab"),
    ),
    "match_final_sees_the_resolved_name": Case(
        "Host short\n  HostName Short.Corp.Example\n"
        "Match final host *.corp.example\n  User final-user\n  Port 2701\n"
        "Host *.corp.example\n  IdentityFile {d}/keys/corp\n"
        "Match canonical\n  UserKnownHostsFile {d}/kh/canonical\n",
        {},
        _hosts("short", "other"),
    ),
    "first_value_wins_lists_accumulate": Case(
        "Host multi\n  User first\n  IdentityFile {d}/keys/a\n  CertificateFile {d}/certs/a\n"
        "  UserKnownHostsFile {d}/kh/1 {d}/kh/2\n"
        "Host multi *\n  User second\n  IdentityFile {d}/keys/b\n  IdentityFile {d}/keys/a\n"
        "  CertificateFile {d}/certs/b\n  UserKnownHostsFile {d}/kh/never\n",
        {},
        _hosts("multi", "single"),
    ),
    "syntax_quotes_equals_comments": Case(
        'Host "quoted one" plain\n  User=equal # a comment\n  Port = 2801\n'
        '  IdentityFile "{d}/keys/with space"\n'
        "  CertificateFile {d}/certs/back\\ slash\n"
        "# Host plain\n  \t\n"
        "HOST upper-keyword\n  HOSTNAME 10.8.0.1\n",
        {},
        _hosts("plain", "upper-keyword"),
    ),
    "proxy_jump_and_command_exclude_each_other": Case(
        "Host pc-first\n  ProxyCommand nc %h %p\nHost *-first pj-first\n  ProxyJump gw1\n"
        "Host pj-first\n  ProxyJump ops@gw2:2222,gw3\nHost pj-none\n  ProxyJump none\n"
        "Host pj-*\n  ProxyJump gw4\n",
        {},
        _hosts("pc-first", "pj-first", "pj-none", "pj-other"),
    ),
    "inventory_options_win": Case(
        "Host inv\n  User file-user\n  Port 2901\n  IdentityFile {d}/keys/file\n"
        "  ProxyJump file-gw\n",
        {},
        (
            (
                "inv",
                {
                    "ansible_user": "inv-user",
                    "ansible_port": 2902,
                    "ansible_ssh_private_key_file": "{d}/keys/inv",
                    "ansible_ssh_common_args": "-o ProxyJump=inv-gw -o StrictHostKeyChecking=no",
                    "ansible_ssh_extra_args": "-o User=extra-user -p 2903",
                },
            ),
            ("inv", {"ansible_ssh_extra_args": "-o 'CertificateFile {d}/certs/extra' -q"}),
        ),
    ),
    "dash_f_in_the_inventory_args": Case(
        "Host *\n  User from-default-file\n",
        {"other.conf": "Host fhost\n  User from-other\n  Port 3001\n"},
        (("fhost", {"ansible_ssh_common_args": "-F {d}/other.conf"}),),
    ),
    "tokens_and_environment": Case(
        "Host tok\n  HostName tok.%h.example\n"
        "  UserKnownHostsFile %d/known/%h-%p ${{DC_TEST_KH}}/kh %d/%r@%n %C\n"
        "  IdentityFile ${{DC_TEST_KH}}/id_%r\n  CertificateFile %d/certs/%h-cert.pub\n",
        {},
        _hosts("tok"),
    ),
    "ignore_unknown": Case(
        "IgnoreUnknown UseKeychain,AddKeysToAgnt\nHost *\n  UseKeychain yes\n  User ig\n",
        {},
        _hosts("ig"),
    ),
    "match_all_and_negation": Case(
        "Match !host nope*\n  Port 3101\nMatch all\n  User everyone\nHost nope1\n  User never\n",
        {},
        _hosts("yes1", "nope1"),
    ),
}


def _write_case(case: Case, where: Path) -> Path:
    for name, text in case.files.items():
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(d=where))
    config = where / "config"
    config.write_text(case.config.format(d=where))
    return config


def _render(hostvars: dict[str, Any], where: Path) -> dict[str, Any]:
    return {k: v.format(d=where) if isinstance(v, str) else v for k, v in hostvars.items()}


def ansible_command_line(hostvars: dict[str, Any]) -> list[str]:
    """The options Ansible's ssh connection puts before the host, in its order."""
    args: list[str] = []
    if "ansible_port" in hostvars:
        args += ["-o", f"Port={hostvars['ansible_port']}"]
    if "ansible_ssh_private_key_file" in hostvars:
        args += ["-o", f'IdentityFile="{hostvars["ansible_ssh_private_key_file"]}"']
    if "ansible_user" in hostvars:
        args += ["-o", f'User="{hostvars["ansible_user"]}"']
    for var in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        args += shlex.split(hostvars.get(var, ""))
    return args


def ssh_g(config: Path, name: str, hostvars: dict[str, Any]) -> dict[str, list[str]]:
    """OpenSSH's own answer, keyword -> values (a keyword may come several times)."""
    argv = ["ssh", "-G", "-F", str(config), *ansible_command_line(hostvars), name]
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL
    ).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        found.setdefault(key, []).append(value)
    return found


def _hops(config: Path, spec: str) -> list[tuple[str, str, int]]:
    """Each ProxyJump hop as ssh reaches it: `ssh -l USER -p PORT HOST` with the same -F."""
    hops = []
    for hop in spec.split(","):
        user, _, rest = hop.rpartition("@")
        host, _, port = rest.replace("[", "").replace("]", "").partition(":")
        args = (["-l", user] if user else []) + (["-p", port] if port else [])
        found = ssh_g(config, host, {"ansible_ssh_common_args": shlex.join(args)})
        hops.append((found["user"][0], found["hostname"][0], int(found["port"][0])))
    return hops


def expected(config: Path, ssh: dict[str, list[str]]) -> dict[str, Any]:
    ids = [tilde(v) for v in ssh.get("identityfile", [])]
    if "identityfile" not in ssh or all(i.startswith(f"{HOME}/.ssh/id_") for i in ids):
        ids = []  # ssh's defaults (driftcheck has its own list of default key names)
    known = ssh.get("userknownhostsfile", [""])[0].split()
    jump = ssh.get("proxyjump", [""])[0]
    return {
        "user": ssh["user"][0],
        "port": int(ssh["port"][0]),
        "hostname": ssh["hostname"][0],
        "identityfile": ids,
        "certificatefile": [tilde(v) for v in ssh.get("certificatefile", [])],
        "userknownhostsfile": [] if known == _DEFAULT_KNOWN else known,
        "proxyjump": _hops(config, jump) if jump else [],
        "proxycommand": ssh.get("proxycommand", ["none"])[0] != "none",
    }


_DEFAULT_KNOWN = [f"{HOME}/.ssh/known_hosts", f"{HOME}/.ssh/known_hosts2"]


def ours(route: Route) -> dict[str, Any]:
    target = route.target
    ids = [str(p) for p in target.key_files]
    return {
        "user": target.user,
        "port": target.port,
        "hostname": target.address,
        "identityfile": [] if all(i.startswith(f"{HOME}/.ssh/id_") for i in ids) else ids,
        "certificatefile": [str(p) for p in target.cert_files],
        "userknownhostsfile": [str(p) for p in target.known_hosts_files],
        "proxyjump": [(hop.user, hop.address, hop.port) for hop in route.jumps],
        "proxycommand": target.proxy_command is not None,
    }


@pytest.mark.parametrize("kind", sorted(CASES))
def test_resolution_equals_ssh_g(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tools("ssh")
    monkeypatch.setenv("DC_TEST_KH", str(tmp_path / "env-kh"))
    case = CASES[kind]
    config = _write_case(case, tmp_path)
    for name, raw_vars in case.hosts:
        hostvars = _render(raw_vars, tmp_path)
        ssh = expected(config, ssh_g(config, name, hostvars))
        mine = ours(resolve(Host(name, (), hostvars), config))
        for key in ("identityfile", "certificatefile"):
            if any("%" in v or "${" in v for v in ssh[key]):
                # `ssh -G` prints these unexpanded: test_key_paths_expand_as_ssh_loads_them
                del ssh[key], mine[key]
        assert mine == ssh, f"{kind}: {name} {hostvars}"


def ssh_loads(config: Path, name: str) -> tuple[list[str], list[str]]:
    """The identity and certificate files `ssh -v` says it loads (after connecting)."""
    argv = ["ssh", "-v", "-F", str(config), "-o", "BatchMode=yes", name, "true"]
    run = subprocess.run
    log = run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30, check=False
    )
    ids = re.findall(r"^debug1: identity file (.+) type -?\d+$", log.stderr, re.M)
    certs = re.findall(r"^debug1: certificate file (.+) type -?\d+$", log.stderr, re.M)
    return [i for i in ids if not i.endswith("-cert")], certs


@pytest.mark.sshd
def test_key_paths_expand_as_ssh_loads_them(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`%d`, `%h`, `%r`, `%n`, `%p`, `%C`, `~` and `${ENV}` in IdentityFile and CertificateFile, as
    `ssh -v` names the files it loads once connected to a real sshd."""
    require_tools("ssh")
    monkeypatch.setenv("DC_TEST_KEYS", str(tmp_path / "env keys"))
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    config = tmp_path / "config"
    config.write_text(
        f"Host tok-*\n  HostName {sshd.address}\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  UserKnownHostsFile {known}\n"
        "  IdentityFile ${DC_TEST_KEYS}/id_%r\n  IdentityFile ~/.dc-none/%n-%p\n"
        "  IdentityFile %d/.dc-none/%C\n"
        "  CertificateFile %d/.dc-none/%h-%u-cert.pub\n  CertificateFile ${DC_TEST_KEYS}/%i%%\n"
    )
    ids, certs = ssh_loads(config, "tok-1")
    target = resolve(Host("tok-1"), config).target
    assert len(ids) == 3
    assert len(certs) == 2
    assert ([str(p) for p in target.key_files], [str(p) for p in target.cert_files]) == (ids, certs)


def test_match_exec_runs_as_often_as_ssh_runs_it(tmp_path: Path) -> None:
    """Each line's test runs, in both passes with `Match final`, unless a criterion before it
    on its line failed; as with ssh, a command with side effects sees each run."""
    require_tools("ssh")
    count = tmp_path / "count"
    config = tmp_path / "config"
    config.write_text(
        f'Match exec "echo >> {count}"\n  Port 2\nMatch exec "echo >> {count}"\n'
        f'Match host nomatch exec "echo >> {count}"\nMatch final\n'
        f"Host other\n  Include {tmp_path}/inc.conf\n",
    )
    # an Include under a block that does not apply is read for nothing, its tests run still
    (tmp_path / "inc.conf").write_text(f'Match exec "echo >> {count}"\n  Port 3\n')
    resolve(Host("web"), config)
    ours = count.read_text()
    count.unlink()
    ssh_g(config, "web", {})
    assert ours == count.read_text() == "\n" * 6
