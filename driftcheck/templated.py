"""What makes a value a template, decided without Jinja2.

Both sides of templating need it: templating.py, to render a variable only when it holds
template markup (and to load Jinja2 only then), and jinjaenv.py, to render the templates inside
a list or dict and leave the rest as it is. It lives here, below both, so that neither imports
the other for it.
"""

from __future__ import annotations

from collections.abc import Callable

from driftcheck.model import Unsafe, Vars

MARKERS = ("{{", "{%", "{#")

Variables = Callable[[], Vars]  # called only when a template is rendered


class Deferred:
    """A magic variable worked out only when a template reads it (`ansible_version` imports
    ansible-core); None from `compute` leaves it undefined."""

    def __init__(self, compute: Callable[[], object]) -> None:
        self.compute = compute


# id -> (the container, whether it holds a template). Group variables are the same objects
# for every host: walked once, not once per host. The container is kept so its id stays its.
_TEMPLATED: dict[int, tuple[object, bool]] = {}


def is_templated(value: object) -> bool:
    """True when `value` is, or holds in its lists and dicts, a string with template markup
    (an `Unsafe` string is never a template)."""
    if isinstance(value, str):
        return not isinstance(value, Unsafe) and any(marker in value for marker in MARKERS)
    if not isinstance(value, (list, dict)):
        return False
    known = _TEMPLATED.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    items = value.values() if isinstance(value, dict) else value
    found = any(is_templated(item) for item in items)
    if len(_TEMPLATED) > 4096:
        _TEMPLATED.clear()
    _TEMPLATED[id(value)] = (value, found)
    return found
