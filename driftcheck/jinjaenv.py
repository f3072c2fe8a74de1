"""Jinja2's side of templating (templating.py): the sandbox, lazy contexts, and rendering
templated values. Imported only when a value or a state file holds template markup, so a run
without templates never loads Jinja2.

Variables render as ansible-core (2.19) renders them: a template that is one expression keeps
its value's type; one newline at the end is left out of the template and given back to a text
result; backslashes in a string constant inside `{{ }}` are the YAML's, not escapes again
(`regex_replace('(\\d+)', '\\1')` written in a double-quoted YAML string). State files and
their templates render as Ansible's template module renders a file: none of this.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2.lexer import Lexer
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from driftcheck.errors import DriftcheckError
from driftcheck.jinjafilters import Plugins, filters, refuse_lookup, tests
from driftcheck.model import VarsDict, Vaulted
from driftcheck.templated import Deferred, Variables, is_templated

# (whose, name) of the variables being rendered in this thread/context, to stop `a: "{{ a }}"`
# as Ansible does; whose: the host's variables (`hostvars[other].a` is another `a`), or 0
_RENDERING: contextvars.ContextVar[tuple[tuple[int, str], ...]] = contextvars.ContextVar(
    "rendering", default=()
)


class TemplateVarError(jinja2.TemplateError):
    """An inventory variable that cannot be rendered; its message names the variable."""


class LazyContext(Context):
    """Renders a templated variable when a template reads it, not before, and once per
    render (a loop reading `users` 3,000 times walks it once)."""

    def resolve_or_missing(self, key: str) -> Any:
        done: VarsDict = self.__dict__.setdefault("_rendered", {})  # name -> rendered value
        if key not in done:
            value = super().resolve_or_missing(key)
            if isinstance(value, Deferred):
                value = value.compute()
                value = jinja2.utils.missing if value is None else value
            if value is jinja2.utils.missing or isinstance(value, Vaulted):
                return value  # a Vaulted is `defined`, as in Ansible; only str() of it fails
            done[key] = render_value(value, key, self.get_all)
        return done[key]


class _VariableLexer(Lexer):
    """Ansible's AnsibleLexer: a string constant inside `{{ }}` keeps its backslashes."""

    def tokeniter(self, *args: Any, **kwargs: Any) -> Iterator[tuple[int, str, str]]:
        inside = False
        for line, kind, value in super().tokeniter(*args, **kwargs):
            inside = kind == "variable_begin" or (inside and kind != "variable_end")
            yield line, kind, value.replace("\\", "\\\\") if inside and kind == "string" else value


class _VariablesEnvironment(SandboxedEnvironment):
    """The sandbox variables render in."""

    @property
    def lexer(self) -> Lexer:
        found: Lexer | None = self.__dict__.get("_variable_lexer")
        if found is None:
            found = self.__dict__["_variable_lexer"] = _VariableLexer(self)
        return found


def sandbox(loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    """The sandbox state files and their templates render in."""
    return _setup(SandboxedEnvironment(loader=loader, **_OPTIONS))


_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "autoescape": False,  # renders YAML, config files and addresses, never HTML
}


def _setup(env: SandboxedEnvironment) -> SandboxedEnvironment:
    env.context_class = LazyContext
    env.globals.update(lookup=refuse_lookup, query=refuse_lookup, q=refuse_lookup)
    # Ansible's filters and tests join Jinja2's on the first name Jinja2 does not know
    env.filters = Plugins(env.filters, filters)
    env.tests = Plugins(env.tests, tests)
    return env


_VARIABLES_ENV = _setup(_VariablesEnvironment(**_OPTIONS))
_ONE_NEWLINE = re.compile(r"(?:\r\n|\r|\n)\Z")


def render_value(value: Any, name: str, variables: Variables, whose: object = None) -> Any:
    """A variable's value with its templates rendered (strings, and inside lists and dicts).
    A value without any template is returned as it is: a container without a copy."""
    if not is_templated(value):
        return value
    if isinstance(value, str):
        return render_text(value, name, variables, whose)
    if isinstance(value, list):
        return [render_value(item, name, variables, whose) for item in value]
    return {k: render_value(item, name, variables, whose) for k, item in value.items()}


def render_text(text: str, name: str, variables: Variables, whose: object = None) -> Any:
    """A templated string rendered with `variables`. As Ansible renders a variable: one
    newline at its end is left out of the template, so a folded `>` scalar holding one
    expression keeps its value's type too; a text result gets back the newlines it lost."""
    stack = _RENDERING.get()  # a variable a template reads is the same host's as the template
    key = (id(whose) if whose is not None else stack[-1][0] if stack else 0, name)
    rendered = _render(_ONE_NEWLINE.sub("", text, count=1), key, variables)
    if isinstance(rendered, str):
        lost = _newlines_at_end(text) - _newlines_at_end(rendered)
        return rendered + "\n" * lost if lost > 0 else rendered
    return rendered


def _newlines_at_end(text: str) -> int:
    return len(text) - len(text.rstrip("\n"))


def _render(text: str, key: tuple[int, str], variables: Variables) -> Any:
    stack, name = _RENDERING.get(), key[1]
    if key in stack:
        path = " -> ".join(n for _whose, n in stack)
        raise TemplateVarError(f"variable {name!r}: recursive loop ({path})")
    token = _RENDERING.set((*stack, key))
    env = _VARIABLES_ENV
    try:
        expression = _single_expression(text)
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


def _single_expression(text: str) -> str | None:
    """The expression of a template that is one `{{ ... }}` and nothing else: Ansible (2.19)
    keeps its value's type (`"{{ 2200 + 22 }}"` is the int 2222), as jinja2 native does.
    Comments around it do not count. Its string constants come back escaped as the lexer
    escapes them (an expression alone is lexed without `{{`, so never escaped twice)."""
    tokens = [(k, v) for _line, k, v in _VARIABLES_ENV.lex(text) if k not in _COMMENT]
    kinds = [kind for kind, _value in tokens]
    if kinds[:1] != ["variable_begin"] or kinds[-1:] != ["variable_end"]:
        return None
    if kinds.count("variable_begin") != 1 or {"data", "block_begin"} & set(kinds):
        return None
    return "".join(value for _kind, value in tokens[1:-1])


_COMMENT = frozenset(("comment_begin", "comment", "comment_end"))


def _native(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined: raises UndefinedError naming what is missing
    return value


def _why(exc: Exception) -> str:
    if isinstance(exc, DriftcheckError):  # a vaulted value, another host's variable
        return str(exc)
    if isinstance(exc, jinja2.TemplateError) and exc.message:
        return exc.message
    return f"{type(exc).__name__}: {exc}"
