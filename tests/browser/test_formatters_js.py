"""The Tabulator formatters of apps/formatting.py, run in Chromium on a stand-in cell: a number
drawn in the browser reads exactly as the Python function writes it, blanks (null, NaN) stay
blank, and names arrive as text, never as markup."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page

from apps import formatting as fmt

pytestmark = pytest.mark.browser

#: Runs a formatter (its JS source) on a cell holding ``value`` in a row holding ``row``; returns
#: what the cell shows and whether any element other than a span was made.
RUN = """([code, value, row]) => {
  const formatter = new Function("return (" + code + ")")();
  const cell = {getValue: () => value, getRow: () => ({getData: () => row || {}})};
  const out = formatter(cell, {}, () => {});
  if (out === null || out === undefined || out === "") return ["", true];
  if (typeof out === "string") return ["HTML:" + out, false];
  const plain = [...out.querySelectorAll("*")].every((e) => e.tagName === "SPAN");
  return [out.textContent, plain && out.tagName === "SPAN"];
}"""


def shown(page: Page, code: str, value: object, row: dict | None = None) -> str:
    text, plain = page.evaluate(RUN, [code, value, row])
    assert plain, text
    return text


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (1_500_000, "USD"),
        (75_000.5, "EUR"),
        (-2_000, "GBP"),
        (-0.001, "USD"),
        (1234.56, "JPY"),
        (99.5, "SEK"),
        (0, "USD"),
    ],
)
def test_money_in_the_browser_reads_as_in_python(page: Page, amount: float, currency: str) -> None:
    assert shown(page, fmt.money_formatter(currency).js_code, amount) == fmt.money(amount, currency)


def test_money_takes_the_rows_currency_and_blanks_stay_blank(page: Page) -> None:
    code = fmt.money_formatter(currency_field="Currency").js_code
    assert shown(page, code, 1500, {"Currency": "eur"}) == "€1,500"
    assert shown(page, code, 1500, {}) == "$1,500"
    for blank in (None, "", math.nan):
        assert shown(page, code, blank) == ""
    assert shown(page, code, "<b>x</b>") == "<b>x</b>"  # as text, not markup


@pytest.mark.parametrize("value", [0.125, 0.5, 1, 0, -0.0001, 1.04])
def test_percent_in_the_browser_reads_as_in_python(page: Page, value: float) -> None:
    assert shown(page, fmt.percent_formatter().js_code, value) == fmt.percent(value)
    assert shown(page, fmt.percent_formatter(scale=1).js_code, value * 100) == fmt.percent(value)


def test_numbers_and_plain_numbers(page: Page) -> None:
    assert shown(page, fmt.NUMBER_FORMATTER.js_code, 1500) == fmt.number(1500) == "1,500"
    assert shown(page, fmt.NUMBER_FORMATTER.js_code, 2.5) == "2.5"
    assert shown(page, fmt.PLAIN_FORMATTER.js_code, 2017) == "2017"
    assert shown(page, fmt.PLAIN_FORMATTER.js_code, math.nan) == ""


def test_pills_show_labels_as_text_with_colours(page: Page) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    code = fmt.pills_formatter({"main": "#dbeafe"}, {"main": "Main", "x": hostile}).js_code
    assert shown(page, code, "main") == "Main"
    assert shown(page, code, ["main", "x"]) == f"Main {hostile}"
    assert shown(page, code, '["main", "other"]') == "Main other"
    assert shown(page, code, None) == "" and shown(page, code, []) == ""
    background = page.evaluate(
        """(code) => new Function("return (" + code + ")")()(
             {getValue: () => "main"}).firstChild.style.background""",
        code,
    )
    assert background == "rgb(219, 234, 254)"  # #dbeafe


def test_pills_take_a_token_pair_or_a_typed_colour_with_readable_text(page: Page) -> None:
    code = fmt.pills_formatter({"a": "red", "b": "#1e3a8a"}).js_code
    styles = page.evaluate(
        """(code) => ["a", "b"].map((v) => {
             const s = new Function("return (" + code + ")")()({getValue: () => v}).firstChild.style;
             return [s.background, s.color];
           })""",
        code,
    )
    assert styles == [
        ["var(--crm-pill-red-bg)", "var(--crm-pill-red-fg)"],
        ["rgb(30, 58, 138)", "var(--crm-pill-text-inverse)"],
    ]
