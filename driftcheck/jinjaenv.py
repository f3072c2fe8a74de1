"""Jinja2's side of templating (templating.py): the sandbox, lazy contexts, and rendering
templated values. Imported only when a value or a state file holds template markup, so a run
without templates never loads Jinja2.
"""

from __future__ import annotations

import contextvars
from typing import Any

import jinja2
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from driftcheck.model import VarsDict, Vaulted
from driftcheck.templated import Variables, is_templated

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
        done: VarsDict = self.__dict__.setdefault("_rendered", {})  # name -> rendered value
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


def render_value(
    value: Any, name: str, variables: Variables, env: jinja2.Environment | None = None
) -> Any:
    """A variable's value with its templates rendered (strings, and inside lists and dicts).
    A value without any template is returned as it is: a container without a copy."""
    if not is_templated(value):
        return value
    if isinstance(value, str):
        return render_text(value, name, variables, env)
    if isinstance(value, list):
        return [render_value(item, name, variables, env) for item in value]
    return {k: render_value(item, name, variables, env) for k, item in value.items()}


def render_text(
    text: str, name: str, variables: Variables, env: jinja2.Environment | None = None
) -> Any:
    """A templated string rendered with `variables` (the inventory's sandbox unless `env`)."""
    env = env or _INVENTORY_ENV
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


def _single_expression(text: str, env: jinja2.Environment) -> str | None:
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
