"""The ssh command line Ansible builds for a host, read as ssh reads its options.

Ansible runs `ssh -o Port=P -o IdentityFile="K" -o User="U" COMMON_ARGS EXTRA_ARGS HOST`
(ansible_port, ansible_ssh_private_key_file, ansible_user, ansible_ssh_common_args,
ansible_ssh_extra_args). Of those arguments driftcheck reads `-o Key=Value` (each parsed as a
config line), `-i`, `-l`, `-p`, `-J` and `-F`; other flags change nothing it does.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from driftcheck.backends.sshconfig import Options
from driftcheck.backends.sshtokens import tilde
from driftcheck.backends.sshwords import KNOWN, Line, split_line
from driftcheck.errors import TransportError

_FLAGS_WITH_VALUE = set("BbcDEeFIiJLlmOopQRSWw")
_NOT_ON_COMMAND_LINE = ("host", "match", "include")


@dataclass
class CommandLine:
    """ssh's options from its command line, and `-F` (the last one given wins, as in ssh)."""

    options: Options
    config: str | None = None


def command_line(parts: list[tuple[str, str]]) -> CommandLine:
    """`parts`: (where it comes from, the arguments as one shell-quoted string), in order."""
    result = CommandLine(Options())
    for origin, text in parts:
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise TransportError(f"{origin}: cannot split ssh arguments {text!r}: {exc}") from exc
        i = 0
        while i < len(words):
            flag, value, i = _next_option(words, i, origin)
            _apply(result, flag, value, origin)
    return result


def option(result: CommandLine, text: str, origin: str) -> None:
    """One `-o` option, as ssh's process_config_line reads it on the command line."""
    line = split_line(text, origin)
    if line is None:
        return
    if line.keyword in _NOT_ON_COMMAND_LINE:
        raise TransportError(f"{origin}: {line.keyword} is not supported as a command-line option")
    if line.keyword not in KNOWN:
        raise TransportError(f"{origin}: bad configuration option {line.keyword!r}")
    result.options.set(line)


def _apply(result: CommandLine, flag: str, value: str, origin: str) -> None:
    options = result.options
    if flag == "-o":
        option(result, value, origin)
    elif flag == "-F":
        result.config = value
    elif flag == "-i":
        options.set(Line("identityfile", (tilde(value),), value, origin))
    elif flag == "-l":
        options.set(Line("user", (value,), value, origin))
    elif flag == "-p":
        options.set(Line("port", (value,), value, origin))
    elif flag == "-J":
        if any(k in options.values for k in ("proxyjump", "proxycommand")):
            raise TransportError(f"{origin}: -J after a ProxyCommand or another -J")
        options.set(Line("proxyjump", (), value, origin))


def _next_option(words: list[str], i: int, origin: str) -> tuple[str, str, int]:
    word = words[i]
    if len(word) < 2 or word[0] != "-" or word[1] not in _FLAGS_WITH_VALUE:
        return word, "", i + 1  # a flag without a value (-q, -A...) or a stray word
    flag = word[:2]
    if len(word) > 2:
        return flag, word[2:], i + 1
    if i + 1 >= len(words):
        raise TransportError(f"{origin}: ssh option {flag} without a value")
    return flag, words[i + 1], i + 2
