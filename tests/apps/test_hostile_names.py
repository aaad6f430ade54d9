"""Names a member typed never become markup or code in another user's page.

Every page is built as the admin over a database where a member planted ``<img onerror>``,
``"><script>``, ``<svg onload>`` and Panel's JS placeholder marker in every name she can set
(tests/apps/hostile.py). The test then walks each page's Bokeh models and reads every string the
browser parses as HTML or compiles as code (HTML/Markdown panes, notifications, Choices.js labels,
Tabulator column titles and its configuration, which holds editor and header-filter lists and
formatters): no planted tag may be there raw, and no payload may sit outside a JS string literal.
The browser test (tests/browser/test_hostile_names.py) checks the same pages in Chromium.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import panel as pn
import pytest
from argon2 import profiles
from bokeh.models import Model, MultiChoice
from panel.io.model import JSCode
from panel.models.markup import HTML
from panel.models.tabulator import DataTabulator
from panel.viewable import Viewable

from apps.account.page import AccountPage
from apps.activity.page import ActivityPage
from apps.admin.page import AdminPage
from apps.chrome import UserPage
from apps.contacts.page import ContactsPage
from apps.funds.page import FundsPage
from apps.grid.page import GridPage
from apps.home.page import HomePage
from apps.requests.page import RequestsPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of
from tests.apps.hostile import (
    ADMIN_EMAIL,
    IMG,
    IMPORT_HEADER,
    JS_MARK,
    PAYLOADS,
    SCRIPT,
    SVG,
    Planted,
    plant,
)

#: A planted element, opening or closing, as an HTML parser would see it.
TAG = re.compile(r"<\s*/?\s*(img|svg|script)\b", re.IGNORECASE)
#: Panel's placeholder for JS code inside a model's JSON (panel/models/util.ts).
MARK = "--x_x--0_0--"
CONFIGURATION = "Tabulator configuration"
#: JS string literals (double or single quoted), to look at the code around them.
JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')


@pytest.fixture(scope="module")  # planting imports a file: once for the module's read-mostly tests
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Planted]:
    data_dir = tmp_path_factory.mktemp("hostile") / "data"
    return data_dir, plant(data_dir)


@pytest.fixture
def runtime(hostile_db: tuple[Path, Planted]) -> Runtime:
    settings = Settings(data_dir=hostile_db[0], password_hashing=profiles.CHEAPEST)
    return Runtime(settings, secret_key="k" * 48)


@pytest.fixture
def planted(hostile_db: tuple[Path, Planted]) -> Planted:
    return hostile_db[1]


def _strings(value: Any) -> Iterator[str]:
    """The strings of a configuration as they go on the wire (JSCode as Panel's placeholder)."""
    if isinstance(value, JSCode):
        yield f"{MARK}{value.js_code}{MARK}"
    elif isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def markup_sinks(root: Model) -> Iterator[tuple[str, str]]:
    """(where, text) for every string of the tree a browser renders as HTML or runs as code."""
    for model in root.references():
        kind = type(model).__name__
        if isinstance(model, HTML):  # Markdown, HTML and Alert panes: the text is the HTML
            yield f"{kind}.text", html.unescape(model.text)
        elif isinstance(model, MultiChoice):  # Choices.js sets labels as innerHTML
            for option in model.options:
                yield "MultiChoice label", option if isinstance(option, str) else option[1]
        elif isinstance(model, DataTabulator):
            for column in model.columns:
                yield f"Tabulator title of {column.field}", column.title
            for text in _strings(model.configuration):
                yield CONFIGURATION, text


def hostile_markup(root: Model) -> list[tuple[str, str]]:
    """The sinks where a planted payload would be parsed as a tag or run as code (Panel compiles
    and calls placeholder-shaped strings of a Tabulator configuration, and nothing else)."""
    found = []
    for where, text in markup_sinks(root):
        if TAG.search(text):
            found.append((where, text))
        elif where == CONFIGURATION and text.startswith(MARK) and text.endswith(MARK):
            code = JS_STRING.sub('""', text[len(MARK) : -len(MARK)])
            if "__xss" in code:  # a name compiled as code, not quoted as data
                found.append((where, text))
    return found


def root_of(viewable: Any) -> Model:
    return (viewable if isinstance(viewable, Viewable) else pn.panel(viewable)).get_root()


def grid(runtime: Runtime) -> GridPage:
    return GridPage(runtime, session=session_of(runtime, ADMIN_EMAIL))


def test_the_grid_shows_planted_labels_and_options_only_as_text(
    runtime: Runtime, planted: Planted
) -> None:
    page = grid(runtime)
    page.list_tabs.value = "all"
    assert not page.failed, page.message
    assert hostile_markup(root_of(page)) == []
    titles = {c.field: c.title for c in page.table.get_root().columns}
    assert titles[planted.text_key] == html.escape(IMG)
    assert titles[planted.import_key] == html.escape(IMPORT_HEADER)


def test_every_side_panel_of_the_grid_is_free_of_planted_markup(
    runtime: Runtime, planted: Planted
) -> None:
    page = grid(runtime)
    page.open_record(planted.investor_id)
    assert hostile_markup(root_of(page.record.layout)) == []
    page.show_side(page.fields_panel)
    for key in (planted.single_key, planted.multi_key):
        page.fields_panel.choice.value = key
        assert hostile_markup(root_of(page.fields_panel.layout)) == []
    builder = page.view_builder
    page.show_side(builder)
    builder.spec["filters"]["conditions"] = [
        {"field": planted.multi_key, "operator": "has_any_of", "value": [SVG]},
        {"field": "owner_id", "operator": "has_any_of", "value": []},
    ]
    builder.render()
    assert hostile_markup(root_of(builder.layout)) == []
    page.import_button.clicks += 1
    content = f"Name,{IMPORT_HEADER.replace(chr(34), '')}\nX,{SCRIPT.replace(chr(34), '')}\n"
    page.import_panel.file_input.param.update(filename=f"{SVG}.csv", value=content.encode())
    assert hostile_markup(root_of(page.import_panel.layout)) == []


def test_a_view_builder_pick_by_a_hostile_label_keeps_the_raw_value(
    runtime: Runtime, planted: Planted
) -> None:
    page = grid(runtime)
    builder = page.view_builder
    page.show_side(builder)
    assert planted.text_key in builder.hidden.options.values()
    builder.hidden.value = [planted.text_key]
    assert builder.current()["hidden_fields"] == [planted.text_key]


def test_saving_under_a_hostile_label_reports_it_as_text(
    runtime: Runtime, planted: Planted
) -> None:
    page = grid(runtime)
    page.list_tabs.value = "all"
    position = list(page.table.value["id"]).index(planted.investor_id)
    page.edit_cell(position, planted.text_key, SVG)
    assert not page.failed, page.message
    assert TAG.search(html.unescape(page.summary.get_root().text)) is None
    assert html.escape(IMG) in page.summary.object
    page.edit_cell(position, planted.single_key, JS_MARK)
    with runtime.context() as ctx:
        record = services.get_investor(ctx, planted.investor_id)["investor"]
    assert record[planted.text_key] == SVG and record[planted.single_key] == JS_MARK


def test_messages_and_notifications_show_names_as_text(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []

    class Notifications:
        def success(self, message: str, duration: int = 0) -> None:
            shown.append(message)

        error = success

    monkeypatch.setattr(type(pn.state), "notifications", property(lambda _: Notifications()))
    page = RequestsPage(runtime, session=session_of(runtime, ADMIN_EMAIL))
    for failed in (False, True):
        page._report(f"Saved {IMG} and {SVG}", failed=failed)
        assert hostile_markup(page.status.get_root()) == []
        assert TAG.search(shown[-1]) is None and html.escape(IMG) in shown[-1]
    assert page.message == f"Saved {IMG} and {SVG}"  # what happened, as plain text


def test_the_funds_page_titles_funds_by_escaped_name_not_by_field(
    runtime: Runtime, planted: Planted
) -> None:
    page = FundsPage(runtime, session=session_of(runtime, ADMIN_EMAIL))
    assert not page.failed, page.message
    assert hostile_markup(root_of(page)) == []
    columns = page.matrix_table.get_root().columns
    fields = [c.field for c in columns]
    assert not any(name in fields for name in (SVG, JS_MARK, "Fund 2.5"))
    assert html.escape(SVG) in [c.title for c in columns]
    assert "Fund 2.5" in [c.title for c in columns]
    assert html.escape(SVG) in html.unescape(page.matrix_info.get_root().text)


@pytest.mark.parametrize(
    "page_class", [AdminPage, ActivityPage, AccountPage, ContactsPage, RequestsPage]
)
def test_the_other_pages_are_free_of_planted_markup(
    runtime: Runtime, page_class: type[UserPage]
) -> None:
    page = page_class(runtime, session=session_of(runtime, ADMIN_EMAIL))
    assert not page.failed, page.message
    assert hostile_markup(root_of(page)) == []


def test_the_home_page_is_free_of_planted_markup(runtime: Runtime) -> None:
    assert hostile_markup(root_of(HomePage(runtime))) == []


def test_no_tabulator_formatter_renders_a_cell_as_html(runtime: Runtime) -> None:
    """Tabulator's "html" formatter sets the cell value as innerHTML: no page may use it."""
    session = session_of(runtime, ADMIN_EMAIL)
    pages = [
        ContactsPage(runtime, session=session),
        FundsPage(runtime, session=session),
        grid(runtime),
    ]
    for page in pages:
        for model in root_of(page).references():
            if isinstance(model, DataTabulator):
                formatters = [c.get("formatter") for c in model.configuration["columns"]]
                assert "html" not in formatters, type(page).__name__


def test_the_contacts_link_column_opens_the_investor(runtime: Runtime, planted: Planted) -> None:
    page = ContactsPage(runtime, session=session_of(runtime, ADMIN_EMAIL))
    assert planted.investor_id in list(page.table.value["Open"])


def test_payloads_are_json_quoted_where_the_grid_embeds_them_in_code(
    runtime: Runtime, planted: Planted
) -> None:
    """Editor lists travel as JS literals: parsing them back gives the exact names (so a pick
    stores the raw name), and no ``<`` or line separator is left to break out of a script."""
    page = grid(runtime)
    config = page.table.get_root().configuration
    column = next(c for c in config["columns"] if c.get("field") == planted.single_key)
    literal = column["editorParams"]["values"].js_code
    assert "<" not in literal and "\u2028" not in literal
    assert json.loads(literal) == [*PAYLOADS, "Plain"]


def test_the_record_page_shows_planted_names_only_as_text(
    runtime: Runtime, planted: Planted
) -> None:
    """The record page of the planted investor: its name, fields labelled and filled with
    payloads, select options and tags, a person, funds and a member's display name in the
    history (the record page: apps/record)."""
    from apps.record.page import RecordPage

    page = RecordPage(
        runtime, session=session_of(runtime, ADMIN_EMAIL), investor_id=planted.investor_id
    )
    assert not page.failed and page.store.found, page.message
    assert hostile_markup(root_of(page)) == []
    shown = html.unescape(page.title.object)
    assert IMG in shown  # the name itself, as text
    assert SVG in html.unescape("".join(r.objects[0].object for r in page.people_rows.objects))
