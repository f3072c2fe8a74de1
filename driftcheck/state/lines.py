"""Map lines of a rendered state file back to the lines of its Jinja2 source.

YAML marks count lines of the rendered text; a `{% for %}` block changes how many there are.
Errors must name the line the user wrote, so rendered lines are matched to source lines.
"""

from __future__ import annotations

import difflib


class LineMap:
    """Rendered line number (1-based) -> source line number (1-based)."""

    def __init__(self, source: str, rendered: str) -> None:
        self._source = source.splitlines()
        self._map: dict[int, int] = {}
        self._build(rendered.splitlines())

    def __call__(self, rendered_line: int) -> int:
        return self._map.get(rendered_line, min(rendered_line, max(len(self._source), 1)))

    def _build(self, rendered: list[str]) -> None:
        matcher = difflib.SequenceMatcher(None, self._source, rendered, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal" or (tag == "replace" and self._in_place(i1, i2, j2 - j1)):
                self._map.update({j1 + k + 1: i1 + k + 1 for k in range(j2 - j1)})
            elif tag in ("replace", "insert"):
                self._map.update({j + 1: self._closest(rendered[j], i1, i2) for j in range(j1, j2)})

    def _in_place(self, i1: int, i2: int, rendered_count: int) -> bool:
        """Lines whose `{{ }}` were substituted where they stand: no block tag moved lines."""
        return i2 - i1 == rendered_count and not any("{%" in self._source[i] for i in range(i1, i2))

    def _closest(self, line: str, i1: int, i2: int) -> int:
        """The source line in [i1, i2) that looks most like `line` (a loop body, usually)."""
        if i1 == i2:  # pure insertion: blame the line before it, where the tag that made it ends
            return max(i1, 1)
        scores = [
            (difflib.SequenceMatcher(None, self._source[i], line).ratio(), -i)
            for i in range(i1, i2)
        ]
        return -max(scores)[1] + 1
