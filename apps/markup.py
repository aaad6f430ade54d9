"""The one place where text that people typed becomes HTML, Markdown or JavaScript in a page.

Names come from members (field labels, import headers, select options, display names, fund,
view and request names) and are shown to everyone, admins included, so each must reach the
browser as the text that was typed, never as markup or code. The browser treats these as HTML:

* ``pn.pane.HTML`` and the save state of the grid: build the HTML with :func:`escape_text`.
* ``pn.pane.Markdown`` and ``pn.pane.Alert`` (Markdown passes raw HTML through):
  :func:`escape_markdown`.
* Panel's notifications (Notyf sets the message as ``innerHTML``): :func:`escape_text`.
* Tabulator column titles (and their tooltips): :func:`column_titles`.
* ``MultiChoice`` labels (Bokeh leaves Choices.js at ``allowHTML: true``): :func:`html_labels`.
  ``Select`` is safe: Bokeh writes its options as text.

Tabulator's configuration (editor and header-filter lists, formatters) is worse than HTML: Panel
compiles and *runs* any string in it shaped ``--x_x--0_0--code--x_x--0_0--`` (the form
``JSCode`` takes on the wire; ``transformJsPlaceholders`` in panel/models/util.ts). So names never
go into it as strings: :func:`list_params` ships a list as one JS literal of our own making and
draws each item as text, and :func:`js_literal` makes data safe to embed in JS code (no quote,
``</script>`` or line separator can end it). Cell values are not affected: they travel in the
data source and Bokeh's formatters write them as text. Never use Tabulator's ``html`` formatter:
a link column uses :func:`link_formatter`, and our own formatters build DOM nodes.

Nothing here renders rich text: notes and descriptions are shown as plain text, so no sanitiser
is needed (if rich text is ever shown, sanitise it here with a maintained library such as nh3).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from panel.io.model import JSCode

V = TypeVar("V")

#: Every ASCII punctuation character: CommonMark lets each be backslash-escaped to stand for
#: itself, which keeps emphasis, links, headings and raw HTML from forming.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: What would let JSON text end a <script> element or an HTML comment when the code is embedded
#: in a page. JSON never needs these characters outside strings, so escaping them is lossless.
_JS_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}

#: Tabulator list item formatter: the label as a text node (Tabulator would set it as HTML);
#: a blank item keeps its height with a no-break space.
TEXT_ITEM = JSCode(
    "function(label){var s=document.createElement('span');"
    "s.textContent=(label===null||label===undefined||label==='')?'\\u00a0':String(label);"
    "return s;}"
)


def escape_text(value: Any) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and both quotes escaped (safe in element
    content and in quoted attributes). ``None`` is the empty string."""
    return "" if value is None else html.escape(str(value), quote=True)


def escape_markdown(value: Any) -> str:
    """``value`` as Markdown that renders exactly this text: every ASCII punctuation character
    is backslash-escaped, so neither HTML nor Markdown syntax (links, emphasis) can form."""
    return "" if value is None else _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(value))


def html_labels(options: Mapping[str, V]) -> dict[str, V]:
    """Options of a widget that renders its labels as HTML (``MultiChoice``), with escaped
    labels. Values stay as they are, so what is chosen is still the raw name or key; escaping
    is one-to-one, so distinct labels stay distinct."""
    return {escape_text(label): value for label, value in options.items()}


def js_literal(value: Any) -> str:
    """``value`` (JSON-serialisable data) as a JavaScript expression that evaluates to it, safe
    to embed in code and in an HTML page: non-ASCII (U+2028, U+2029 included) and ``<``, ``>``,
    ``&`` are written as ``\\u`` escapes, so a name holding ``</script>`` or a line separator
    cannot end the string or the script."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    for char, escaped in _JS_UNSAFE.items():
        text = text.replace(char, escaped)
    return text


def js_value(value: Any) -> JSCode:
    """``value`` for a Tabulator configuration entry: Panel evaluates our literal, so no name in
    it is ever read as a placeholder of code (see the module docstring)."""
    return JSCode(js_literal(value))


def list_params(values: Iterable[Any], **params: Any) -> dict[str, Any]:
    """Parameters of a Tabulator ``list`` editor or header filter offering ``values``: each item
    keeps its raw value (a pick stores the exact name) and is drawn as text."""
    return {"values": js_value(list(values)), "itemFormatter": TEXT_ITEM, **params}


def column_titles(labels: Mapping[str, Any]) -> dict[str, str]:
    """Tabulator column titles (``key -> label``), escaped: Tabulator sets titles as HTML."""
    return {key: escape_text(label) for key, label in labels.items()}


def link_formatter(href: str, label: str, *, new_tab: bool = False) -> JSCode:
    """A Tabulator formatter drawing a cell's value (an id; blank cells stay blank) as a link to
    ``href`` with ``{}`` replaced by the URL-encoded value, labelled ``label``. The link is built
    as DOM nodes, so nothing in a cell is ever parsed as HTML (unlike Tabulator's "html")."""
    before, _, after = href.partition("{}")
    target = "a.target='_blank';a.rel='noopener';" if new_tab else ""
    return JSCode(
        "function(cell){var v=cell.getValue();if(v===null||v===undefined||v==='')return '';"
        f"var a=document.createElement('a');a.href={js_literal(before)}"
        f"+encodeURIComponent(String(v))+{js_literal(after)};{target}"
        f"a.textContent={js_literal(label)};return a;}}"
    )


#: Browser helpers shared by the project's components (prefixed to their ``_esm``): ``text``
#: makes an element holding a value as text (never parsed as HTML), ``focusedId`` is the
#: ``data-id`` of the focused element of class ``cls`` in the component (a redraw puts it back).
ESM_HELPERS = """
function text(tag, cls, value) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.textContent = value == null ? "" : String(value);
  return node;
}

function focusedId(el, cls) {
  const active = el.getRootNode().activeElement;
  return active && active.classList && active.classList.contains(cls) ? active.dataset.id : null;
}
"""
