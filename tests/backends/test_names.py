"""Host and user names as OpenSSH 9.6 accepts them (ssh.c valid_hostname / valid_ruser), and its
one-pass %-expansion. The cases follow the C functions character class by character class."""

from __future__ import annotations

import pytest

from driftcheck.backends.names import percent_expand, valid_hostname, valid_ruser
from driftcheck.errors import TransportError


@pytest.mark.parametrize(
    "name",
    ["web1", "web1.example.com", "10.0.0.1", "fe80::1%eth0", "[::1]", "a_b-c", "user@host:22", "ü"],
)
def test_hostnames_accepted(name: str) -> None:
    assert valid_hostname(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-oProxyCommand=id",
        "x;touch /tmp/PWNED",
        "a b",
        "a\tb",
        "a\nb",
        "a\x7fb",
        "$(id)",
        "`id`",
        "a|b",
        "a&b",
        "a>b",
        "a<b",
        "a'b",
        'a"b',
        "a\\b",
        "a{b}",
        "(a)",
    ],
)
def test_hostnames_refused(name: str) -> None:
    assert not valid_hostname(name)


@pytest.mark.parametrize("name", ["root", "first.last", "a b", "DOMAIN\\user", "$USER", "a-b"])
def test_users_accepted(name: str) -> None:
    # valid_ruser allows `$`, `\\` and blanks (Windows and LDAP names), unlike valid_hostname
    assert valid_ruser(name)


@pytest.mark.parametrize("name", ["", "-l", "a -oProxyCommand", "a;b", "`id`", "a|b", "trail\\"])
def test_users_refused(name: str) -> None:
    assert not valid_ruser(name)


def test_percent_expand_is_one_pass() -> None:
    tokens = {"h": "%r", "r": "root", "p": "22"}
    assert percent_expand("nc %h %p 100%%", tokens) == "nc %r 22 100%"


@pytest.mark.parametrize("template", ["nc %x", "nc %"])
def test_percent_expand_refuses_unknown_tokens(template: str) -> None:
    with pytest.raises(TransportError, match="unsupported token"):
        percent_expand(template, {"h": "x"})
