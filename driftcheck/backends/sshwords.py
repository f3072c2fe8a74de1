"""ssh_config lines split as OpenSSH's misc.c splits them (strdelim, argv_split), and the
keywords OpenSSH knows.

A line is `Keyword value`, `Keyword=value` or `Keyword = value`; the keyword is
case-insensitive. Values are split on blanks with double or single quotes and backslash
escapes, a word starting with `#` ends the line; `Match` criteria are split by strdelim (double
quotes only), and ProxyCommand, ProxyJump and KnownHostsCommand take the raw rest of the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck.errors import TransportError

_BLANK = " \t\r\n"
_KEYWORD = re.compile(r"([^\s=\"]+)(?:\s*=\s*|\s+|$)(.*)", re.DOTALL)

# Every keyword of OpenSSH's readconf.c (10.x), including the deprecated and unsupported ones
# it accepts. A keyword outside this set is an error, as it is for ssh.
KNOWN = frozenset(
    """protocol cipher fallbacktorsh globalknownhostsfile2 rhostsauthentication userknownhostsfile2
    useroaming usersh useprivilegedport afstokenpassing kerberosauthentication kerberostgtpassing
    rsaauthentication rhostsrsaauthentication compressionlevel gssapiauthentication
    gssapidelegatecredentials pkcs11provider smartcarddevice forwardagent forwardx11
    forwardx11trusted forwardx11timeout exitonforwardfailure xauthlocation gatewayports
    passwordauthentication kbdinteractiveauthentication kbdinteractivedevices
    challengeresponseauthentication skeyauthentication tisauthentication pubkeyauthentication
    dsaauthentication hostbasedauthentication identityfile identityfile2 identitiesonly
    certificatefile addkeystoagent identityagent hostname hostkeyalias proxycommand port ciphers
    macs remoteforward localforward permitremoteopen user host match tag escapechar
    globalknownhostsfile userknownhostsfile connectionattempts batchmode checkhostip
    stricthostkeychecking compression tcpkeepalive keepalive numberofpasswordprompts
    syslogfacility loglevel logverbose dynamicforward preferredauthentications hostkeyalgorithms
    casignaturealgorithms bindaddress bindinterface clearallforwardings enablesshkeysign
    verifyhostkeydns nohostauthenticationforlocalhost rekeylimit connecttimeout addressfamily
    serveraliveinterval serveralivecountmax sendenv setenv controlpath controlmaster
    controlpersist hashknownhosts include tunnel tunneldevice localcommand permitlocalcommand
    remotecommand visualhostkey kexalgorithms ipqos requesttty sessiontype stdinnull
    forkafterauthentication proxyusefdpass canonicaldomains canonicalizefallbacklocal
    canonicalizehostname canonicalizemaxdots canonicalizepermittedcnames streamlocalbindmask
    streamlocalbindunlink revokedhostkeys fingerprinthash updatehostkeys
    hostbasedacceptedalgorithms hostbasedkeytypes pubkeyacceptedalgorithms
    pubkeyacceptedkeytypes ignoreunknown proxyjump securitykeyprovider knownhostscommand
    requiredrsasize enableescapecommandline obscurekeystroketiming channeltimeout
    versionaddendum refuseconnection warnweakcrypto""".split()  # noqa: SIM905  # one line per many
)
ALIASES = {"identityfile2": "identityfile"}
RAW = frozenset({"proxycommand", "proxyjump", "knownhostscommand", "localcommand", "match"})


@dataclass(frozen=True)
class Line:
    """One directive: its keyword (lowercased), its words, the raw rest, and where it is."""

    keyword: str
    words: tuple[str, ...]
    rest: str
    origin: str  # "FILE line N", or the inventory variable it came from


def split_line(text: str, origin: str) -> Line | None:
    """A directive, or None for a blank or comment line."""
    text = text.rstrip(_BLANK + "\f")
    stripped = text.lstrip(_BLANK)
    if not stripped or stripped.startswith("#"):
        return None
    keyword, rest = _keyword(stripped)
    if not rest:
        raise TransportError(f"{origin}: no argument after keyword {keyword!r}")
    keyword = ALIASES.get(keyword.lower(), keyword.lower())
    words = () if keyword in RAW else tuple(argv_split(rest, origin))
    return Line(keyword, words, rest, origin)


def _keyword(text: str) -> tuple[str, str]:
    """strdelim: the keyword ends at a blank or one '=' (with blanks around either)."""
    found = _KEYWORD.match(text)
    if found is None:
        return text, ""
    return found[1], found[2]


def argv_split(text: str, origin: str) -> list[str]:
    """misc.c argv_split: blanks separate words, quotes group, `\\` escapes a quote, a backslash
    or (outside quotes) a blank; a word starting with `#` ends the line."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        if text[i] == "#":
            break
        word: list[str] = []
        quote = ""
        while i < n:
            c = text[i]
            if (
                c == "\\"
                and i + 1 < n
                and (text[i + 1] in "'\"\\" or (not quote and text[i + 1] == " "))
            ):
                word.append(text[i + 1])
                i += 2
                continue
            if not quote and c in " \t":
                break
            if not quote and c in "'\"":
                quote = c
            elif quote and c == quote:
                quote = ""
            else:
                word.append(c)
            i += 1
        if quote:
            raise TransportError(f"{origin}: invalid quotes")
        words.append("".join(word))
    return words


def strdelim_words(text: str, origin: str) -> list[str]:
    """misc.c strdelim, word after word (Match criteria): blanks or one '=' separate words, a
    double-quoted word keeps its blanks; stops at a word starting with `#`."""
    words: list[str] = []
    rest = text.strip(_BLANK)
    while rest:
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                raise TransportError(f"{origin}: no matching quote")
            word, rest = rest[1:end], rest[end + 1 :]
        else:
            end = next((i for i, c in enumerate(rest) if c in _BLANK or c in '="'), len(rest))
            word, rest = rest[:end], rest[end:]
            if rest.startswith("="):
                rest = rest[1:]
        if word.startswith("#"):
            break
        words.append(word)
        rest = rest.lstrip(_BLANK)
    return words
