"""A state file without Jinja2 markup is returned as read (without Jinja2): exactly what Jinja2
would render, read by the same rules as Jinja2's loader."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from jinja2.loaders import split_template_path

from driftcheck.state import containment
from driftcheck.state.render import environment
from driftcheck.state.sources import Renderer, is_plain

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


NAMES = [
    "s.yml",
    "./s.yml",
    "a//s.yml",
    "a/./s.yml",
    "../s.yml",
    "a/../s.yml",
    "a/..",
    "..",
    "",
    ".",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_are_split_as_jinja2_splits_them(name: str) -> None:
    """The path the old loader built, os.path.join(root, *split_template_path(name))."""
    try:
        expected: object = os.path.join("/r", *split_template_path(name))
    except jinja2.TemplateNotFound:
        expected = containment.SourceMissing
    try:
        got: object = containment.shown_path("/r", name)
    except containment.SourceMissing:
        got = containment.SourceMissing
    assert got == expected


@pytest.mark.parametrize("link", ["file", "directory"])
def test_a_plain_file_outside_the_directory_is_refused_as_a_template_is(
    tmp_path: Path, link: str
) -> None:
    """A plain file reached through a symlink leading out (the file itself, or a directory on
    its way) is not returned as read: Jinja2's loader refuses it, with its message."""
    states, outside = tmp_path / "states", tmp_path / "outside"
    states.mkdir()
    outside.mkdir()
    (outside / "s.yml").write_text("plain: text\n")
    if link == "file":
        (states / "s.yml").symlink_to(outside / "s.yml")
        path = states / "s.yml"
    else:
        (states / "sub").symlink_to(outside)
        path = states / "sub" / "s.yml"
    with pytest.raises(Exception, match="outside the states directory"):
        Renderer(states, {}).render(path)
