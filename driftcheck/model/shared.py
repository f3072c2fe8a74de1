"""One copy of what hosts built from one image share.

A run keeps every audited host's peer values and file times until the fleet stage: thousands of
entries a host, almost all of them the same on every host of an image. `Sharing.share` keeps the
first such mapping whole (a base) and every later one as an Overlay on it: the entries that
differ and the names it lacks. Strings are interned, so equal names and values are one object.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, ItemsView, Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class Overlay(Mapping[str, V], Generic[V]):
    """`base`, but `own` where it differs and without `gone`; read-only like the dicts it
    stands for."""

    __slots__ = ("_base", "_gone", "_len", "_own")

    def __init__(self, base: Mapping[str, V], own: dict[str, V], gone: frozenset[str]) -> None:
        self._base, self._own, self._gone = base, own, gone
        self._len = len(base) - len(gone) + sum(1 for key in own if key not in base)

    def __getitem__(self, key: str) -> V:
        found = self._own.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        if key in self._gone:
            raise KeyError(key)
        return self._base[key]

    def __iter__(self) -> Iterator[str]:
        own, gone = self._own, self._gone
        yield from (key for key in self._base if key not in own and key not in gone)
        yield from own

    def __len__(self) -> int:
        return self._len

    # What it shares and what it has of its own, for work done once per base (fleet/since.py,
    # fleet/majority.py): the base, the entries that differ from it, the base's names it lacks.
    @property
    def base(self) -> Mapping[str, V]:
        return self._base

    @property
    def own(self) -> Mapping[str, V]:
        return self._own

    @property
    def gone(self) -> frozenset[str]:
        return self._gone

    def items(self) -> ItemsView[str, V]:
        return _Items(self)


class _Items(ItemsView[str, V]):
    _mapping: Overlay[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        overlay = self._mapping
        own, gone = overlay._own, overlay._gone
        for key, value in overlay._base.items():
            if key not in own and key not in gone:
                yield key, value
        yield from own.items()


class Sharing(Generic[V]):
    """Keeps up to BASES mappings whole; any later mapping that differs from one of them in at
    most 1/MOST_DIFFERENT of its entries becomes an Overlay on it. What is kept is interned:
    names always, values by `keep` (sys.intern for strings); what an Overlay does not keep is
    never interned."""

    BASES = 4
    MOST_DIFFERENT = 8

    def __init__(self, keep: Callable[[V], V]) -> None:
        self._bases: list[Mapping[str, V]] = []
        self._lock = threading.Lock()
        self._keep = keep

    def share(self, found: dict[str, V]) -> Mapping[str, V]:
        for base in list(self._bases):
            overlay = _overlay(base, found, len(found) // self.MOST_DIFFERENT, self._keep)
            if overlay is not None:
                return overlay
        whole = {intern(key): self._keep(value) for key, value in found.items()}
        with self._lock:
            if len(self._bases) < self.BASES:
                self._bases.append(whole)
        return whole


def _overlay(
    base: Mapping[str, V], found: dict[str, V], most: int, keep: Callable[[V], V]
) -> Overlay[V] | None:
    own: dict[str, V] = {}
    for key, value in found.items():
        if base.get(key, _MISSING) != value:
            own[intern(key)] = keep(value)
            if len(own) > most:
                return None
    gone = [key for key in base if key not in found]
    if len(own) + len(gone) > most:
        return None
    return Overlay(base, own, frozenset(gone))


class Memo(Generic[K, V]):
    """A pure function's results by argument, kept for every host and thread: hosts built from
    one image print the same lines, and each such line is parsed once and its record shared.
    Bounded: past `size` arguments it starts over (a fleet with nothing in common costs what it
    cost without); a memo of whole sections keeps a few."""

    def __init__(self, make: Callable[[K], V], size: int = 1 << 15) -> None:
        self._make, self._size = make, size
        self._found: dict[K, V] = {}

    def __call__(self, key: K) -> V:
        found = self._found.get(key, _MISSING)
        if found is _MISSING:
            found = self._make(key)
            if len(self._found) >= self._size:
                self._found = {}  # another thread may still fill the old one: no matter
            self._found[key] = found
        return found  # type: ignore[return-value]


def intern(text: str) -> str:
    """One object for every equal name or value (sys.intern: the interpreter's own table)."""
    return sys.intern(text)
