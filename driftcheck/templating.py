"""Jinja2 as both the states and the inventory use it: sandboxed, StrictUndefined, and lazy.

Ansible renders an inventory variable when it is used, with the host's other variables (which
may be templates themselves). Here the same happens: `HostVars` renders a templated string
when it is read (a connection variable, `inventory --vars`), and `LazyContext` does it for
every variable a state template reads. `lookup()`/`query()` would reach outside the sandbox:
they are an error naming the variable. A `Vaulted` value without secrets stays unusable.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import jinja2
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from driftcheck.errors import InventoryError
from driftcheck.models import Unsafe, Vaulted, secrets_in

_MARKERS = ("{{", "{%", "{#")
# names being rendered in this thread/context, to stop `a: "{{ a }}"` as Ansible does
_RENDERING: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "rendering", default=()
)


class TemplateVarError(jinja2.TemplateError):
    """An inventory variable that cannot be rendered; its message names the variable."""


def _no_lookup(*_args: Any, **_kwargs: Any) -> Any:
    raise jinja2.TemplateError("lookup()/query() are not supported (nothing outside the sandbox)")


class LazyContext(Context):
    """Renders a templated variable when a template reads it, not before, and once per
    render (a loop reading `users` 3,000 times walks it once)."""

    def resolve_or_missing(self, key: str) -> Any:
        done: dict[str, Any] = self.__dict__.setdefault("_rendered", {})
        if key not in done:
            value = super().resolve_or_missing(key)
            if value is jinja2.utils.missing or isinstance(value, Vaulted):
                return value  # a Vaulted is `defined`, as in Ansible; only str() of it fails
            done[key] = render_value(value, key, self.get_all, self.environment)
        return done[key]


def sandbox(loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,  # renders YAML, config files and addresses, never HTML
    )
    env.context_class = LazyContext
    env.globals.update(lookup=_no_lookup, query=_no_lookup, q=_no_lookup)
    return env


_INVENTORY_ENV = sandbox()


Variables = Callable[[], Mapping[str, Any]]  # called only when a template is rendered


def render_value(value: Any, name: str, variables: Variables, env: Any = None) -> Any:
    """A variable's value with its templates rendered (strings, and inside lists and dicts).
    A container without any template is returned as it is, without a copy."""
    if isinstance(value, str) and not isinstance(value, Unsafe):
        if not any(marker in value for marker in _MARKERS):
            return value
        return _render(value, name, variables, env or _INVENTORY_ENV)
    if not isinstance(value, (list, dict)) or not _templated(value):
        return value
    if isinstance(value, list):
        return [render_value(item, name, variables, env) for item in value]
    return {k: render_value(item, name, variables, env) for k, item in value.items()}


# id -> (the container, whether it holds a template). Group variables are the same objects
# for every host: walked once, not once per host. The container is kept so its id stays its.
_TEMPLATED: dict[int, tuple[Any, bool]] = {}


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return not isinstance(value, Unsafe) and any(marker in value for marker in _MARKERS)
    if not isinstance(value, (list, dict)):
        return False
    known = _TEMPLATED.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    items = value.values() if isinstance(value, dict) else value
    found = any(_templated(item) for item in items)
    if len(_TEMPLATED) > 4096:
        _TEMPLATED.clear()
    _TEMPLATED[id(value)] = (value, found)
    return found


def _render(text: str, name: str, variables: Variables, env: Any) -> Any:
    stack = _RENDERING.get()
    if name in stack:
        raise TemplateVarError(f"variable {name!r}: recursive loop ({' -> '.join(stack)})")
    token = _RENDERING.set((*stack, name))
    try:
        expression = _single_expression(text, env)
        if expression is None:
            return env.from_string(text).render(variables())
        compiled = env.compile_expression(expression, undefined_to_none=False)
        return _native(compiled(variables()))
    except TemplateVarError:
        raise
    except Exception as exc:  # a user's template failing is an input error
        raise TemplateVarError(f"variable {name!r}: {_why(exc)}") from None
    finally:
        _RENDERING.reset(token)


def _single_expression(text: str, env: Any) -> str | None:
    """The expression of a template that is one `{{ ... }}` and nothing else: Ansible (2.19)
    keeps its value's type (`"{{ 2200 + 22 }}"` is the int 2222), as jinja2 native does."""
    tokens = [kind for _line, kind, _value in env.lex(text)]
    if tokens[:1] != ["variable_begin"] or tokens[-1:] != ["variable_end"]:
        return None
    if tokens.count("variable_begin") != 1 or {"data", "block_begin", "comment_begin"} & set(
        tokens
    ):
        return None
    start, end = text.index("{{") + 2, text.rindex("}}")
    return text[start:end].strip("-+ \t\n")


def _native(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined: raises UndefinedError naming what is missing
    return value


def _why(exc: Exception) -> str:
    if isinstance(exc, jinja2.TemplateError) and exc.message:
        return exc.message
    return f"{type(exc).__name__}: {exc}"


class HostVars(Mapping[str, Any]):
    """A host's merged variables; reading one renders it. `raw` is what the files say."""

    def __init__(self, raw: Mapping[str, Any], where: str, secrets: Collection[str] = ()) -> None:
        self.raw = dict(raw)
        self.secrets = secrets  # plain texts of the inventory's vaulted values (shared)
        self._where = where  # the inventory, for errors
        self._done: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._done:
            try:
                self._done[key] = render_value(self.raw[key], key, lambda: self.raw)
            except TemplateVarError as exc:
                raise InventoryError(self._where, None, exc.message or str(exc)) from None
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __eq__(self, other: object) -> bool:
        """Hosts compare by what their files say: comparing must never render (a lookup)."""
        if isinstance(other, HostVars):
            return self.raw == other.raw
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # a mapping, as the dict it replaces

    def __repr__(self) -> str:
        return f"HostVars({len(self.raw)} variables)"


def secrets_of(variables: Mapping[str, Any]) -> Collection[str]:
    """The vault plain texts a template may have put into declared content."""
    return variables.secrets if isinstance(variables, HostVars) else secrets_in(variables)


def raw_variables(variables: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a template context starts from: unrendered, so rendering stays lazy."""
    return variables.raw if isinstance(variables, HostVars) else variables
