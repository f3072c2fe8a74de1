"""A state file without Jinja2 markup is returned as read: exactly what Jinja2 would render."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.state.render import Renderer, environment, is_plain

PLAIN = [
    "packages:\n  dpkg: present\n",
    "files:\n  /etc/passwd: {mode: '0644', owner: root}\n\n\n",  # flow mappings, blank lines
    "services: {}\n# a } and a { alone, {} and %} and #}\n",
    "no trailing newline",
    "",
    "unicode: \u00e9t\u00e9 \u2603\n",
    "  leading spaces\n\ttab\n",
]
TEMPLATED = ["a: {{ x }}\n", "{% if true %}a: 1{% endif %}\n", "{# c #}\n", "a: 1\r\nb: 2\r\n"]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_renders_to_itself_as_jinja2_would(tmp_path: Path, text: str) -> None:
    (tmp_path / "s.yml").write_text(text, encoding="utf-8", newline="")
    assert is_plain(text)
    jinja = environment(str(tmp_path)).get_template("s.yml").render({})
    assert Renderer(tmp_path, {}).render(tmp_path / "s.yml") == jinja == text


@pytest.mark.parametrize("text", TEMPLATED)
def test_markup_goes_through_jinja2(tmp_path: Path, text: str) -> None:
    (tmp_path / "s.yml").write_text(text, encoding="utf-8", newline="")
    assert not is_plain(text)
    rendered = Renderer(tmp_path, {"x": 5}).render(tmp_path / "s.yml")
    assert rendered == environment(str(tmp_path)).get_template("s.yml").render({"x": 5})
