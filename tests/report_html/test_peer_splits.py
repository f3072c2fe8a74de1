"""The HTML report's peer splits section (escaped like every value), the names of one machine,
and a host's peer findings strongest first (the order of its rows in the embedded data)."""

from __future__ import annotations

from typing import Any, cast

from driftcheck.limits import MAX_SAME_AS
from driftcheck.model.document import HostEntry
from driftcheck.render.html import HOSTS_SHOWN, page_data, render_html
from tests.report_text.test_peer_splits import SPLIT, report


def test_html_split_section_escaped_and_ranked_host_findings() -> None:
    doc = report([SPLIT])
    page = render_html(doc)
    assert 'id="peer-splits"' in page
    assert '<a href="#peer-splits">Peer splits</a>' in page
    assert "<script>alert(1)</script>" not in page
    assert "1.0\\x1b[2J&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="#host-web01">web01</a> = <a href="#host-web01-alias">web01-alias</a>' in page
    data = page_data(doc["hosts"], [], {}, doc)
    values, rows = cast(list[Any], data["values"]), cast(list[list[int]], data["findings"])
    hosts = cast(list[list[Any]], data["hosts"])
    columns = cast(tuple[str, ...], data["host_columns"])
    web02 = hosts[2]
    items = [values[rows[ref][2]] for ref in web02[columns.index("findings")]]
    assert items == ["declared", "strong", "weak"]
    assert web02[0] == "web02"
    assert hosts[0][columns.index("peers")] == (
        "web (4 audited hosts); the same machine as web01-alias (voted once)"
    )


def test_html_without_splits_has_no_section() -> None:
    doc = report([])
    doc["hosts"] = [h for h in doc["hosts"] if h["name"] != "web01-alias"]
    for h in doc["hosts"]:
        h["peers"] = {"group": "web", "voters": 3, "reason": ""}
    assert 'id="peer-splits"' not in render_html(doc)


def test_html_lists_a_bounded_few_names_of_a_machine_and_counts_the_rest() -> None:
    doc = report([])
    names = [f"clone{i:03}" for i in range(HOSTS_SHOWN + 5)]
    base = doc["hosts"][-1]
    doc["hosts"] = [
        cast(HostEntry, {**base, "name": name, "peers": {
            "group": "web", "voters": 3, "reason": "",
            "same_as": [n for n in names if n != name][:MAX_SAME_AS],
        }})
        for name in names
    ]  # fmt: skip
    page = render_html(doc)
    machines = page[page.index('<ul class="same-machine">') :]
    machines = machines[: machines.index("</ul>")]
    assert machines.count("<li>") == 1
    assert machines.count('<a href="#host-clone') == HOSTS_SHOWN
    assert "… and 5 more</li>" in machines
