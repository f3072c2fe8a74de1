"""Hostile state files: alias bombs, impossible scalars and deep nesting end as file:line errors,
fast, with messages of bounded size."""

from __future__ import annotations

import time

import pytest
from statedir import States

from driftcheck.yamlsafe import MAX_DEPTH, excerpt


def bomb_yaml(levels: int = 9, width: int = 9) -> str:
    """Billion laughs as the value of host.max_age, which wants a duration: item N of the list
    is `width` aliases of item N-1, so the value expands to width**levels leaves."""
    items = [f"    - &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        items.append(f"    - &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "host:\n  max_age:\n" + "\n".join(items) + "\n"


def test_alias_bomb_in_a_wrong_type_is_refused_fast_with_its_line(states: States) -> None:
    states.write("all.yml", bomb_yaml())
    started = time.monotonic()
    message = states.error("all.yml", 9, "alias bomb")
    assert time.monotonic() - started < 2
    assert len(message) < 300, message


def test_modest_aliases_still_load_and_wrong_types_show_an_excerpt(states: States) -> None:
    # 3**6 = 729 leaves: under the budget, so the type error is reported, in bounded words
    states.write("all.yml", bomb_yaml(levels=6, width=3))
    message = states.error("all.yml", 2, "host: max_age: expected a duration", "[['lol'")
    assert len(message) < 300, message


def test_an_alias_inside_itself_is_refused(states: States) -> None:
    states.write("all.yml", "packages: &p\n  a: present\n  b: *p\n")
    states.error("all.yml", 1, "refers to the collection that contains it")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("packages:\n  a: present\n  b: 2099-13-45\n", 3, "'2099-13-45' is not a valid date"),
        ("host:\n  max_age: 2099-02-30\n", 2, "not a valid date"),
        ("host:\n  max_zombies: 1" + "0" * 5000 + "\n", 2, "not a usable integer"),
    ],
)
def test_impossible_scalars_are_errors_at_their_line(
    states: States, text: str, line: int, words: str
) -> None:
    states.write("all.yml", text)
    states.error("all.yml", line, words)


def test_deep_nesting_is_refused_before_libyaml_recurses(states: States) -> None:
    # 200,000 levels crash libyaml's composer (a segfault, not an exception) without the guard
    depth = 200_000
    states.write("all.yml", "host:\n  x: " + "[" * depth + "]" * depth + "\n")
    states.error("all.yml", 2, "invalid YAML")


def test_nesting_up_to_the_limit_loads(states: States) -> None:
    deep = "{a: " * (MAX_DEPTH - 3) + "1" + "}" * (MAX_DEPTH - 3)
    states.write("all.yml", f"packages: {{}}\nx-deep: {deep}\n")
    states.error("all.yml", 2, "unknown key 'x-deep'")


def test_excerpt_walks_no_more_than_it_shows() -> None:
    value: list[object] = ["lol"]
    for _ in range(100):  # 2**100 leaves if walked whole
        value = [value, value]
    started = time.monotonic()
    text = excerpt(value)
    assert time.monotonic() - started < 0.1
    assert len(text) == 80
    assert text.endswith("...")
    assert excerpt({"a": [1, "x"], "b": None}) == "{'a': [1, 'x'], 'b': None}"
    assert excerpt("y" * 10_000).startswith("'yyy")
    assert len(excerpt("y" * 10_000)) == 80
