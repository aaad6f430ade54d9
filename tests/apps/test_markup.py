"""apps/markup.py, the one place typed text becomes HTML, Markdown or JS: each form shows the exact
text and nothing else, and the pages use it instead of escaping on their own."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import panel as pn
import pytest

from apps.markup import (
    TEXT_ITEM,
    column_titles,
    escape_markdown,
    escape_text,
    html_labels,
    js_literal,
    link_formatter,
    list_params,
)
from tests.apps.hostile import IMG, JS_MARK, SCRIPT, SVG

APPS = Path(__file__).resolve().parents[2] / "apps"
TEXTS = [
    IMG,
    SCRIPT,
    SVG,
    JS_MARK,
    "*bold* _it_ `code` [link](javascript:alert(1)) ![i](x) <https://x.example>",
    "# heading\n1. list\n---\n| a | b |",
    'Tom & Jerry\'s "fund" \\ 100% $5 $x$',
    "Ünïcödé\u2028line\u2029para",
]


@pytest.mark.parametrize("text", TEXTS)
def test_escaped_html_is_the_text(text: str) -> None:
    escaped = escape_text(text)
    assert "<" not in escaped and '"' not in escaped and "'" not in escaped
    assert html.unescape(escaped) == text


@pytest.mark.parametrize("text", TEXTS)
def test_escaped_markdown_renders_as_the_text_in_panes_and_alerts(text: str) -> None:
    for pane in (pn.pane.Markdown(escape_markdown(text)), pn.pane.Alert(escape_markdown(text))):
        rendered = html.unescape(pane.get_root().text)  # the HTML the browser is given
        assert re.search(r"<(?!/?(p|br)\b)", rendered) is None, rendered  # only paragraphs
        shown = html.unescape(re.sub(r"</?p>|<br ?/?>", "", rendered))
        assert shown.split() == text.split()  # the same words; line breaks may fold


@pytest.mark.parametrize("value", [TEXTS, {"a": TEXTS, "</script>": "<!--"}, "", [None, 1.5]])
def test_js_literals_round_trip_and_cannot_end_a_script(value: object) -> None:
    literal = js_literal(value)
    assert json.loads(literal) == value
    assert not set(literal) & {"<", ">", "&", "\u2028", "\u2029"}
    assert literal.isascii()


def test_list_params_keep_raw_values_and_draw_items_as_text() -> None:
    params = list_params([IMG, JS_MARK], multiselect=True)
    assert json.loads(params["values"].js_code) == [IMG, JS_MARK]
    assert params["itemFormatter"] is TEXT_ITEM and "textContent" in TEXT_ITEM.js_code
    assert params["multiselect"] is True


def test_a_link_column_is_built_from_the_cell_as_dom_nodes() -> None:
    code = link_formatter("/api/runs/{}/notebook", "open", new_tab=True).js_code
    assert '"/api/runs/"+encodeURIComponent(String(v))+"/notebook"' in code
    assert "a.textContent=" in code and "innerHTML" not in code and "noopener" in code


def test_labels_and_titles_are_escaped_and_stay_distinct() -> None:
    labels = html_labels({IMG: "a", escape_text(IMG): "b", SVG: "c"})
    assert list(labels.values()) == ["a", "b", "c"]  # one-to-one: nothing merged
    assert all("<" not in label for label in labels)
    assert column_titles({"fund_1": SVG}) == {"fund_1": escape_text(SVG)}


def test_pages_escape_names_only_through_apps_markup() -> None:
    """One helper: a page escaping by hand (or using Tabulator's "html" formatter) is a place
    the next reader cannot find, and the one most likely to be forgotten."""
    offenders = []
    for path in sorted(APPS.rglob("*.py")):
        if path.name == "markup.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bhtml\.escape\(|^import html\b|[\"']type[\"']: *[\"']html[\"']", line):
                offenders.append(f"{path.relative_to(APPS.parent)}:{number}: {line.strip()}")
    assert offenders == []
