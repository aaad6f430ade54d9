"""apps/formatting.py: every value a page shows, formatted once. Blanks never read "NaN" or
"None", times are relative with the exact time (in the user's zone) on hover, amounts carry
their currency, counts their plural, and whatever a member typed arrives escaped."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from apps import formatting as fmt
from apps.formatting import (
    blank,
    check,
    money,
    percent,
    pills_html,
    plural,
    text,
    when,
    when_html,
)
from crm_lib.grid.fields import FieldSpec

NOW = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
HOSTILE = "<img src=x onerror=alert(1)>&\"'"


@pytest.mark.parametrize(
    "value", [None, math.nan, np.nan, pd.NaT, pd.NA, "", "   ", [], (), np.float64("nan")]
)
def test_blank_values_are_blank(value: object) -> None:
    assert blank(value)
    assert text(value) == ""


@pytest.mark.parametrize("value", [0, 0.0, False, "0", "None", "nan", [None], "x"])
def test_values_that_mean_something_are_not_blank(value: object) -> None:
    assert not blank(value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3.0, "3"),
        (2.5, "2.5"),
        (np.int64(7), "7"),
        (np.float64(1500.0), "1500"),
        (True, "✓"),
        (False, ""),
        (["AI", None, "Climate"], "AI, Climate"),
        (datetime(2026, 12, 3, 14, 5, 9, tzinfo=UTC), "2026-12-03 14:05 UTC"),
        (math.inf, ""),
        ("None", "None"),  # a name someone typed stays what they typed
    ],
)
def test_text_shows_stored_values_as_people_read_them(value: object, shown: str) -> None:
    assert text(value) == shown


@pytest.mark.parametrize(
    ("stored", "relative"),
    [
        ("2026-12-06T14:04:50+00:00", "just now"),
        ("2026-12-06T13:55:00+00:00", "10 minutes ago"),
        ("2026-12-06T14:04:00+00:00", "1 minute ago"),
        ("2026-12-06T11:05:00+00:00", "3 hours ago"),
        ("2026-12-06T16:05:00+00:00", "in 2 hours"),
        ("2026-12-05T09:00:00+00:00", "yesterday"),
        ("2026-12-07T18:00:00+00:00", "tomorrow"),
        ("2026-12-03T14:05:00.123456+00:00", "3 days ago"),
        ("2026-12-16T14:05:00+00:00", "in 10 days"),
        ("2026-08-01T10:00:00+00:00", "Aug 1, 2026"),
        ("2027-03-01T10:00:00+00:00", "Mar 1, 2027"),
    ],
)
def test_when_is_relative_to_now(stored: str, relative: str) -> None:
    assert when(stored, now=NOW)[0] == relative


def test_when_gives_the_exact_time_in_the_users_zone() -> None:
    stored = "2026-12-03T14:05:09.123456+00:00"
    assert when(stored, now=NOW) == ("3 days ago", "2026-12-03 14:05 UTC")
    assert when(stored, zone="Europe/Berlin", now=NOW)[1] == "2026-12-03 15:05 CET"
    assert when(stored, zone="America/New_York", now=NOW)[1] == "2026-12-03 09:05 EST"
    # summer time is the zone's at that moment, not today's
    assert when("2026-07-01T12:00:00Z", zone="Europe/Berlin", now=NOW)[1] == (
        "2026-07-01 14:00 CEST"
    )


def test_when_counts_days_by_the_users_calendar() -> None:
    """23:30 UTC on the 4th is already the 5th in Tokyo: a day back there, two in UTC."""
    late = "2026-12-04T23:30:00+00:00"
    now = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
    assert when(late, now=now)[0] == "2 days ago"
    assert when(late, zone="Asia/Tokyo", now=now)[0] == "yesterday"


def test_a_long_day_is_still_hours_not_zero_days() -> None:
    now = datetime(2026, 12, 6, 23, 50, tzinfo=UTC)
    assert when("2026-12-06T00:10:00+00:00", now=now)[0] == "24 hours ago"
    assert when("2026-12-06T23:50:00+00:00", now=datetime(2026, 12, 6, 0, 10, tzinfo=UTC))[0] == (
        "in 24 hours"
    )


def test_when_reads_naive_times_as_utc_and_refuses_nothing() -> None:
    naive = datetime(2026, 12, 6, 12, 5)
    assert when(naive, now=NOW) == ("2 hours ago", "2026-12-06 12:05 UTC")
    assert when(pd.Timestamp("2026-12-06 12:05"), now=NOW.replace(tzinfo=None))[0] == (
        "2 hours ago"
    )
    assert when("2026-12-06T12:05", zone="Not/AZone", now=NOW)[1] == "2026-12-06 12:05 UTC"
    assert when("not a time", now=NOW) == ("not a time", "not a time")


def test_dates_without_a_time_have_no_ago() -> None:
    assert when("2026-12-03", now=NOW) == ("Dec 3, 2026", "2026-12-03")
    assert when(date(2026, 1, 15), zone="Pacific/Auckland") == ("Jan 15, 2026", "2026-01-15")


@pytest.mark.parametrize("value", [None, "", math.nan, pd.NaT, pd.NA])
def test_blank_times_are_blank(value: object) -> None:
    assert when(value, now=NOW) == ("", "")  # type: ignore[arg-type]
    assert when_html(value, now=NOW) == ""  # type: ignore[arg-type]


def test_when_html_puts_the_exact_time_on_hover() -> None:
    html = when_html("2026-12-03T14:05:00+00:00", zone="Europe/Berlin", now=NOW)
    assert html == (
        '<time datetime="2026-12-03T14:05:00+00:00" title="2026-12-03 15:05 CET">3 days ago</time>'
    )


def test_when_html_escapes_text_that_is_not_a_time() -> None:
    html = when_html(HOSTILE, now=NOW)
    assert "<img" not in html and "&lt;img" in html and "<time" not in html


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1_500_000, "USD", "$1,500,000"),
        (1_500_000.0, "USD", "$1,500,000"),
        (75_000.5, "EUR", "€75,000.50"),
        (0.004, "USD", "$0"),
        (-2_000, "GBP", "-£2,000"),
        (-0.001, "USD", "$0"),
        (1234.56, "jpy", "¥1,235"),
        (99.5, "SEK", "99.50 SEK"),
        ("250000", "USD", "$250,000"),
        (None, "USD", ""),
        (math.nan, "USD", ""),
        (pd.NA, "EUR", ""),
        ("abc", "USD", ""),
        (True, "USD", ""),
    ],
)
def test_money_has_currency_and_separators(amount: object, currency: str, shown: str) -> None:
    assert money(amount, currency) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.125, "12.5%"), (0.5, "50%"), (1, "100%"), (0, "0%"), (-0.0001, "0%"), (None, "")],
)
def test_percent(value: float | None, shown: str) -> None:
    assert percent(value) == shown


def test_number_has_separators_and_no_trailing_zero() -> None:
    assert fmt.number(1500) == "1,500"
    assert fmt.number(2.50) == "2.5"
    assert fmt.number(None) == "" and fmt.number(math.nan) == ""


@pytest.mark.parametrize(
    ("count", "args", "shown"),
    [
        (1, ("investor",), "1 investor"),
        (2, ("investor",), "2 investors"),
        (0, ("investor",), "0 investors"),
        (0, ("person", "people"), "0 people"),
        (1, ("person", "people"), "1 person"),
        (1200, ("row",), "1,200 rows"),
        (3, ("entry",), "3 entries"),
        (2, ("day",), "2 days"),
        (2, ("match",), "2 matches"),
        (2, ("box",), "2 boxes"),
        (-1, ("change",), "-1 changes"),
    ],
)
def test_plural(count: int, args: tuple[str, ...], shown: str) -> None:
    assert plural(count, *args) == shown


def test_pills_show_labels_escaped_and_coloured() -> None:
    html = pills_html(["Main", HOSTILE], {"Main": "#dbeafe"})
    assert html.count('class="crm-pill"') == 2
    assert 'style="background:#dbeafe;color:var(--crm-pill-text)">Main</span>' in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#x27;" in html
    assert pills_html("Solo") == pills_html(["Solo"])
    assert pills_html(None) == pills_html([]) == pills_html(["", None]) == ""  # type: ignore[list-item]


def test_pill_colours_are_stable_and_cannot_carry_markup() -> None:
    assert fmt.pill_color("Main") == fmt.pill_color("Main") in fmt.PILL_PALETTE
    html = pills_html(["x"], {"x": 'red" onmouseover="alert(1)'})
    assert 'onmouseover="' not in html
    styled = pills_html(["x"], {"x": "red;position:fixed;inset:0"})
    assert "position" not in styled and fmt.pill_color("x") in styled
    assert "background:#cfe2ff" in pills_html(["x"], {"x": "#cfe2ff"})
    assert "url(" not in pills_html(["x"], {"x": "url(https://example.com/a.png)"})


@pytest.mark.parametrize(
    ("color", "pair"),
    [
        ("red", ("var(--crm-pill-red-bg)", "var(--crm-pill-red-fg)")),
        ("var(--crm-pill-teal-bg)", ("var(--crm-pill-teal-bg)", "var(--crm-pill-teal-fg)")),
        ("#fef3c7", ("#fef3c7", "var(--crm-pill-text)")),  # a pale colour a member typed
        ("#1e3a8a", ("#1e3a8a", "var(--crm-pill-text-inverse)")),  # a dark one: light text
        ("#FFF", ("#FFF", "var(--crm-pill-text)")),
    ],
)
def test_pill_colours_are_token_pairs_and_typed_colours_pass_through(
    color: str, pair: tuple[str, str]
) -> None:
    assert fmt.pill_pair(color) == pair


@pytest.mark.parametrize(
    "color", ["", None, "magenta", "var(--crm-pill-nope-bg)", "#12345", "red;x"]
)
def test_unknown_pill_colours_fall_back_to_the_labels_own(color: str | None) -> None:
    assert fmt.pill_pair(color, "Main") == fmt.pill_pair(fmt.pill_color("Main"))
    assert fmt.pill_pair(color, "Main")[1].startswith("var(--crm-pill-")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "✓"),
        (1, "✓"),
        (np.bool_(True), "✓"),
        ("true", "✓"),
        ("Yes", "✓"),
        (False, ""),
        (0, ""),
        ("false", ""),
        (None, ""),
        (math.nan, ""),
    ],
)
def test_check(value: object, shown: str) -> None:
    assert check(value) == shown


def test_people_are_named_and_the_system_too() -> None:
    names = fmt.people_names([{"email": "Alice@Fund.example", "name": "Alice"}, {"email": "b@x"}])
    assert fmt.person("alice@fund.example", names) == "Alice"
    assert fmt.person("b@x", names) == "b@x"
    assert fmt.person("gone@fund.example", names) == "gone@fund.example"
    assert fmt.person("system:demo") == "Demo data"
    assert fmt.person("system:job:nightly_backup") == "The scheduler"
    assert fmt.person("system:whatever") == "The system"
    assert fmt.person(None) == ""


def test_stored_keys_read_as_labels() -> None:
    assert fmt.label("list", "follow_up") == "Follow-up"
    assert fmt.label("list", "graveyard") == "Graveyard"
    assert fmt.label("commitment_status", "soft_circled") == "Soft-circled"
    assert fmt.label("run_status", "ok") == "Succeeded"
    assert fmt.label("backup_kind", "brand_new_kind") == "Brand new kind"  # never hidden
    assert fmt.label("role", None) == ""
    assert fmt.choice_labels("list_membership")["main"] == "Main"
    assert fmt.choice_labels("status") == {}


def test_table_frame_shows_blanks_as_blank_never_nan() -> None:
    """The old frame came from ``pd.DataFrame(rows)``: None and missing keys became NaN."""
    rows = [
        {"name": "Acme", "phone": None, "amount": 1500.0, "when": "2026-12-03T14:05:00+00:00"},
        {"name": "Beta", "amount": None, "flag": True, "tags": ["a", "b"]},
        {"name": math.nan, "phone": pd.NA, "amount": np.nan, "flag": False, "when": pd.NaT},
    ]
    columns = {k: k.title() for k in ("name", "phone", "amount", "when", "flag", "tags")}
    frame = fmt.table_frame(rows, columns, zone="Europe/Berlin")
    assert list(frame.columns) == ["Name", "Phone", "Amount", "When", "Flag", "Tags"]
    assert frame.to_dict("records") == [
        {
            "Name": "Acme",
            "Phone": "",
            "Amount": 1500,
            "When": "2026-12-03 15:05",
            "Flag": "",
            "Tags": "",
        },
        {"Name": "Beta", "Phone": "", "Amount": "", "When": "", "Flag": "✓", "Tags": "a, b"},
        {"Name": "", "Phone": "", "Amount": "", "When": "", "Flag": "", "Tags": ""},
    ]
    assert {str(dtype) for dtype in frame.dtypes} == {"object"}
    assert fmt.table_frame([], columns).empty


def test_an_empty_read_only_table_says_what_to_do_next() -> None:
    columns = {"name": "Name"}
    plain = fmt.read_only_table(columns)
    assert "placeholder" not in plain._configuration  # the default is today's table, unchanged
    table = fmt.read_only_table(
        columns, empty="No funds yet. Add <the> first.", configuration={"movableColumns": False}
    )
    assert table._configuration == {
        "movableColumns": False,
        "placeholder": "No funds yet. Add &lt;the&gt; first.",  # Tabulator sets it as HTML
    }


def test_table_columns_format_by_kind() -> None:
    shows = {
        "amount": fmt.MONEY,
        "share": fmt.PERCENT,
        "list": fmt.pills("list"),
        "at": fmt.WHEN,
        "ok": fmt.CHECK,
        "by": fmt.people({"a@x": "Alice"}),
    }
    rows = [
        {"amount": "2500.0", "share": 0.5, "list": "follow_up", "at": None, "ok": 1, "by": "a@x"},
        {"amount": None, "share": math.nan, "list": ["main", "longshot"], "ok": 0},
    ]
    frame = fmt.table_frame(rows, {k: k for k in shows}, shows, zone="UTC")
    assert frame.to_dict("records") == [
        {"amount": 2500, "share": 0.5, "list": "Follow-up", "at": "", "ok": "✓", "by": "Alice"},
        {
            "amount": None,  # null: the formatter draws nothing
            "share": None,
            "list": ["Main", "Longshot"],
            "at": "",
            "ok": "",
            "by": "",
        },
    ]


def test_read_only_table_draws_each_column_by_its_kind() -> None:
    table = fmt.read_only_table(
        {"id": "Id", "amount": "Amount", "status": "Status", "name": "Name"},
        {"id": fmt.PLAIN, "amount": fmt.MONEY, "status": fmt.pills("run_status")},
        height=200,
    )
    assert table.disabled and not table.show_index and table.height == 200
    assert set(table.formatters) == {"Id", "Amount", "Status"}
    assert table.text_align == {"Id": "right", "Amount": "right"}
    assert fmt.PILL_CSS in table.stylesheets
    assert list(table.value.columns) == ["Id", "Amount", "Status", "Name"]


def test_formatters_carry_names_as_escaped_literals_never_as_code() -> None:
    """Panel runs strings shaped like its JS placeholders, and a name could end the script:
    labels and colours travel through :func:`apps.markup.js_literal`."""
    evil = "--x_x--0_0--alert(1)--x_x--0_0--</script>\u2028"
    code = fmt.pills_formatter({evil: "#fff"}, {evil: evil}).js_code
    assert "</script>" not in code and "\u2028" not in code and "--x_x--" in code
    assert evil not in code  # only its escaped form: "<" is "\\u003c"
    assert "textContent" in code and "innerHTML" not in code
    money_code = fmt.money_formatter(currency_field=evil).js_code
    assert "</script>" not in money_code and "textContent" in money_code


def test_table_time_sorts_and_follows_the_zone() -> None:
    assert fmt.table_time("2026-03-29T01:30:00+00:00", "Europe/London") == "2026-03-29 02:30"
    assert fmt.table_time("2026-03-29", "Europe/London") == "2026-03-29"
    assert fmt.table_time(None) == ""
    early, late = NOW - timedelta(days=400), NOW
    assert fmt.table_time(early) < fmt.table_time(late)


def _spec(key: str, kind: str, **options: object) -> FieldSpec:
    return FieldSpec(1, key, key.title(), kind, options, 0, False, True)


@pytest.mark.parametrize(
    ("spec", "value", "shown"),
    [
        (_spec("total", "currency", currency="EUR"), 75000.5, "€75,000.50"),
        (_spec("aum", "number"), 1500000, "1,500,000"),
        (_spec("share", "percent"), 0.125, "12.5%"),
        (_spec("done", "checkbox"), True, "✓"),
        (_spec("done", "checkbox"), False, ""),
        (_spec("notes", "long_text"), None, ""),
        (_spec("notes", "long_text"), math.nan, ""),
        (_spec("owner_id", "user"), 3, "Maya"),
        (_spec("name", "text"), HOSTILE, "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#x27;"),
    ],
)
def test_field_html_formats_by_field_type(spec: FieldSpec, value: object, shown: str) -> None:
    assert fmt.field_html(spec, value, users={3: "Maya"}, now=NOW) == shown


def test_field_html_shows_selects_as_pills_with_labels() -> None:
    lists = fmt.field_html(_spec("list_membership", "single_select"), "follow_up")
    assert ">Follow-up</span>" in lists and "follow_up" not in lists
    tags = fmt.field_html(_spec("tags", "multi_select"), '["AI", "<b>"]')
    assert ">AI</span>" in tags and "&lt;b&gt;" in tags and "<b>" not in tags
    dated = fmt.field_html(_spec("seen", "date"), "2026-12-03", now=NOW)
    assert dated.startswith('<time datetime="2026-12-03"') and "Dec 3, 2026" in dated
    error = fmt.field_html(
        FieldSpec(1, "f", "F", "formula", {}, 0, False, False, "1/0"), "#ERROR x"
    )
    assert ">#ERROR</span>" in error
