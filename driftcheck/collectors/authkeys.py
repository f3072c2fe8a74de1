"""authorized_keys files as sshd reads them (sshd(8), AUTHORIZED_KEYS FILE FORMAT): each line
is `[options] keytype base64-key [comment]`; blank lines and `#` comments are ignored. A key is
named by its type, its SHA256 fingerprint (as `ssh-keygen -lf` prints it) and its comment, so a
report can say which key was added where, never the key itself.

Options may hold quoted strings with spaces (`command="a b"`): the key type is the first word
that names one, outside quotes. A line sshd could not use is kept as such (by a digest of the
line, not its text), so that a garbled or hostile line still differs from its peers'.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from driftcheck.collectors.sections import lines
from driftcheck.limits import MAX_AUTHORIZED_KEYS
from driftcheck.model.observed import AuthorizedKey

KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
_CERT = "-cert-v01@openssh.com"
UNUSABLE = "unusable"  # the type of a line sshd could not use


def parse_authorized_keys(raw: bytes) -> list[AuthorizedKey]:
    """Every key line, in file order; at most MAX_AUTHORIZED_KEYS lines are read (LimitError)."""
    keys = []
    for line in lines(raw, MAX_AUTHORIZED_KEYS, "authorized_keys"):
        text = line.strip()
        if text and not text.startswith("#"):
            keys.append(parse_key_line(text))
    return keys


def parse_key_line(text: str) -> AuthorizedKey:
    words = _words(text)
    for index, word in enumerate(words):
        if _is_key_type(word) and index + 1 < len(words):
            blob = _blob(words[index + 1])
            if blob is not None:
                options = text[: _offset(text, words, index)].strip()
                comment = " ".join(words[index + 2 :])
                return AuthorizedKey(word, fingerprint(blob), comment, options)
    digest = hashlib.sha256(text.encode()).digest()
    return AuthorizedKey(UNUSABLE, "SHA256:" + _b64(digest))


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint: base64 of the digest, without padding."""
    return "SHA256:" + _b64(hashlib.sha256(blob).digest())


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode().rstrip("=")


def _is_key_type(word: str) -> bool:
    return word in KEY_TYPES or (word.endswith(_CERT) and word.removesuffix(_CERT) in KEY_TYPES)


def _blob(word: str) -> bytes | None:
    try:
        return base64.b64decode(word, validate=True)
    except (binascii.Error, ValueError):
        return None


def _words(text: str) -> list[str]:
    """Blank-separated words, a double-quoted run (options) never split."""
    words: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char in " \t" and not quoted:
            if current:
                words.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        words.append("".join(current))
    return words


def _offset(text: str, words: list[str], index: int) -> int:
    """Where words[index] starts in text (options end there)."""
    at = 0
    for word in words[:index]:
        at = text.index(word, at) + len(word)
    return text.index(words[index], at)
