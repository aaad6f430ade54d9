"""The one place where stored values become the text and HTML a person reads.

Every page shows the same kinds of values (timestamps, amounts, selects, booleans, counts), and
each used to format them on its own: pandas turned missing values into "NaN", ``str(None)``
leaked "None", timestamps came out as raw ISO strings with microseconds, select keys showed
instead of their labels and counts read "1 investors". Formatting here once keeps every page
consistent and lets one test suite pin the rules.

The functions are pure: the user's timezone and "now" are passed in (pages read the zone from
the browser, see :func:`browser_zone` and :func:`on_browser_zone`), so the tests need no clock
and no session. Everything that returns HTML escapes through :mod:`apps.markup`.

Three layers, each built on the one before:

* values: :func:`blank`, :func:`text`, :func:`when` / :func:`when_html`, :func:`money`,
  :func:`percent`, :func:`number`, :func:`plural`, :func:`pills_html`, :func:`check`, and
  :func:`person` / :func:`label` for actors and stored keys (people read names and labels);
* Tabulator formatters that draw cells the same way in the browser (:func:`money_formatter`,
  :func:`pills_formatter`, ...), for columns that must keep their numbers to sort by them;
* read-only tables: :func:`table_frame` and :func:`read_only_table`, where each column says
  how it shows (a :class:`Show`) and blanks are blank, never NaN.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import panel as pn
from panel.io.model import JSCode

from apps.markup import escape_text, js_literal
from crm_lib.services.activity import SYSTEM_ACTORS
from crm_lib.services.summary import FUND_STATUS_LABELS, LIST_LABELS

if TYPE_CHECKING:
    from crm_lib.grid.fields import FieldSpec

#: Symbols written before the amount; other currencies are written as a code after it.
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CHF": "CHF ",
    "CAD": "CA$",
    "AUD": "A$",
}
#: Currencies that have no minor unit, so their amounts never show decimals.
_NO_DECIMALS = {"JPY", "KRW"}


def blank(value: object) -> bool:
    """Whether ``value`` is "nothing to show": None, NaN, NaT, pd.NA or an empty or
    whitespace-only string. Lists are blank only when empty, so a multi select with no pick
    shows as blank too."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) == 0
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if isinstance(result, bool) else False


def text(value: object) -> str:
    """Any stored value as display text; blanks are "". Whole floats lose their ".0" (SQLite
    and pandas turn integers into floats once a column has a blank), lists join with ", ",
    booleans become a check, timestamps become "YYYY-MM-DD HH:MM" in UTC (use :func:`when`
    for the user's zone)."""
    if blank(value):
        return ""
    if isinstance(value, bool):
        return check(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(AttributeError, ValueError, TypeError):
            value = value.item()  # numpy scalars
    if isinstance(value, bool):
        return check(value)
    if isinstance(value, float):
        if math.isinf(value):
            return ""
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(part for part in (text(item) for item in value) if part)
    if isinstance(value, (datetime, date)):
        return _exact(value, "UTC")
    return str(value)


def when(
    value: str | datetime | date | None,
    *,
    zone: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """``(relative, exact)`` for a stored timestamp or date, in ``zone`` (default UTC):
    ``("3 days ago", "2026-12-03 14:05 UTC")`` or ``("in 2 hours", ...)``. A date without a
    time has no meaningful "ago", so it is ``("Dec 3, 2026", "2026-12-03")``. Blank or
    unreadable input is ``("", "")`` for blank and ``(text, text)`` for text that is not a
    time, so nothing is hidden. ``now`` defaults to the current time (pass it in tests)."""
    parsed = _parse_moment(value)
    if parsed is None:
        if blank(value):
            return ("", "")
        shown = text(value)
        return (shown, shown)
    if not isinstance(parsed, datetime):
        return (f"{parsed:%b} {parsed.day}, {parsed.year}", parsed.isoformat())
    tz = _zone(zone)
    local = parsed.astimezone(tz)
    reference = now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    current = reference.astimezone(tz)
    return (_relative(local, current), _exact(local, zone))


def when_html(
    value: str | datetime | date | None,
    *,
    zone: str | None = None,
    now: datetime | None = None,
) -> str:
    """:func:`when` as ``<time datetime="..." title="exact">relative</time>``: the relative text
    reads quickly, the exact time shows on hover. Blank is ""."""
    relative, exact = when(value, zone=zone, now=now)
    parsed = _parse_moment(value)
    if parsed is None:  # blank, or text that is not a time: shown as it is
        return escape_text(relative)
    return (
        f'<time datetime="{escape_text(parsed.isoformat())}" title="{escape_text(exact)}">'
        f"{escape_text(relative)}</time>"
    )


def money(amount: float | int | None, currency: str = "USD") -> str:
    """``amount`` with its currency and thousands separators: "$1,500,000", "€75,000.50",
    "-$2,000". Cents show only when there are cents. Blank (or non-numeric) is ""."""
    number = _number(amount)
    if number is None:
        return ""
    code = (currency or "USD").upper()
    decimals = 0 if code in _NO_DECIMALS or round(number, 2).is_integer() else 2
    digits = f"{abs(number):,.{decimals}f}"
    sign = "-" if number < 0 and float(digits.replace(",", "")) != 0 else ""
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {code}"


def percent(value: float | None) -> str:
    """A fraction as a percentage with at most one decimal: 0.125 -> "12.5%", 0.5 -> "50%".
    Blank is ""."""
    number = _number(value)
    if number is None:
        return ""
    shown = f"{number * 100:.1f}".removesuffix(".0")
    return "0%" if shown == "-0" else f"{shown}%"


def number(value: float | int | None) -> str:
    """A plain number with thousands separators and no trailing ".0": 1500 -> "1,500",
    2.5 -> "2.5". Blank is ""."""
    parsed = _number(value)
    if parsed is None:
        return ""
    if parsed.is_integer():
        return f"{int(parsed):,}"
    return f"{parsed:,.6f}".rstrip("0").rstrip(".")


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` with the noun in the right number: "1 investor", "2 investors",
    "0 people" (when ``plural="people"``), "1,200 investors"."""
    word = singular if count == 1 else (plural or _pluralise(singular))
    return f"{count:,} {word}"


def pills_html(
    values: list[str] | str | None,
    colors: Mapping[str, str] | None = None,
) -> str:
    """Single or multi select values as coloured pills, each showing its label (escaped).
    ``values`` are the labels to show (a list, or one string); ``colors`` maps a label to a
    palette name, its token or ``#rrggbb`` (:func:`pill_pair`), and labels without one get a
    stable colour of their own. Blank is ""."""
    items = _select_items(values)
    colors = colors or {}
    pills = []
    for item in items:
        background, text_color = pill_pair(colors.get(item), item)
        pills.append(
            f'<span class="crm-pill" style="background:{escape_text(background)};'
            f'color:{escape_text(text_color)}">{escape_text(item)}</span>'
        )
    return "".join(pills)


def check(value: object) -> str:
    """A boolean as "✓" when true and blank otherwise: a column of checks reads at a glance,
    and "False" in every other row is noise. Stored 0/1 and "true"/"false" count too."""
    if blank(value):
        return ""
    if isinstance(value, str):
        return "✓" if value.strip().lower() in {"1", "true", "yes", "y", "on", "✓"} else ""
    try:
        return "✓" if bool(value) else ""
    except (TypeError, ValueError):
        return ""


#: The named pill colours (design tokens in apps/theme/tokens.css: a background and a text
#: of the same hue for each). The first ten are the names a field's options may give a choice
#: (``crm_lib.services.fields.COLORS``); the order is the one labels without a colour get.
PILL_NAMES = (
    "blue", "green", "yellow", "pink", "purple", "cyan", "orange", "indigo", "gray", "red",
    "teal", "slate",
)  # fmt: skip
#: A colour a member may type for a choice; anything else could style more than the pill.
_HEX_COLOR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_PILL_TOKEN = re.compile(r"^var\(--crm-pill-([a-z]{3,12})-bg\)$")
#: Relative luminance of --crm-pill-text (#1f2937), to choose the text that reads on a typed colour.
_PILL_TEXT_LUMINANCE = 0.0215


def pill_token(name: str) -> str:
    """The background of a named pill colour ("blue" -> ``var(--crm-pill-blue-bg)``)."""
    return f"var(--crm-pill-{name}-bg)"


def _luminance(hex_color: str) -> float:
    """WCAG relative luminance of ``#rgb`` or ``#rrggbb``."""
    digits = hex_color[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def pill_pair(color: str | None, label: str = "") -> tuple[str, str]:
    """``(background, text)`` CSS colours of a pill: a palette name ("red") or its token gives
    the token pair (``var(--crm-pill-red-bg)``, ``var(--crm-pill-red-fg)``); a ``#rrggbb`` a
    member typed is kept, with the pill text (dark or light) that reads better on it; anything
    else (blank, unknown, an attempt to style more than the pill) gives ``label``'s stable
    colour (:func:`pill_color`)."""
    color = (color or "").strip()
    if color in PILL_NAMES:
        color = pill_token(color)
    if match := _PILL_TOKEN.match(color):
        if match[1] in PILL_NAMES:
            return color, f"var(--crm-pill-{match[1]}-fg)"
    elif _HEX_COLOR.match(color):
        light = _luminance(color)
        dark_contrast = (light + 0.05) / (_PILL_TEXT_LUMINANCE + 0.05)
        white_contrast = 1.05 / (light + 0.05)
        text = (
            "var(--crm-pill-text)"
            if dark_contrast >= white_contrast
            else "var(--crm-pill-text-inverse)"
        )
        return color, text
    return pill_pair(pill_color(label))


#: Soft pill backgrounds in the order labels without a colour of their own get them.
PILL_PALETTE: tuple[str, ...] = tuple(pill_token(name) for name in PILL_NAMES[:10])


def pill_color(label: str) -> str:
    """A stable palette colour for ``label`` (same label, same colour on every page and
    session; Python's ``hash`` is salted per process, so a simple sum is used)."""
    total = sum((index + 1) * ord(char) for index, char in enumerate(label))
    return PILL_PALETTE[total % len(PILL_PALETTE)]


def browser_zone() -> str | None:
    """The timezone the browser of the current Panel session reports, or None outside a
    session or before the browser has told the server (pages then show UTC)."""
    info = pn.state.browser_info
    zone = getattr(info, "timezone", None) if info is not None else None
    return zone if isinstance(zone, str) and zone else None


def _select_items(values: list[str] | str | None) -> list[str]:
    """The non-blank items of a select value: lists as they are, a string as one item."""
    if blank(values):
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, (list, tuple, set, frozenset)):
        return [text(item) for item in values if not blank(item)]
    return [text(values)]


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None when blank, boolean or not a number."""
    if blank(value) or isinstance(value, bool):
        return None
    try:
        parsed = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return parsed if math.isfinite(parsed) else None


def _pluralise(word: str) -> str:
    """The regular English plural of ``word`` (irregular ones are passed to :func:`plural`)."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2].lower() not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _zone(zone: str | None) -> ZoneInfo:
    """``zone`` as a ZoneInfo; unknown or missing zones fall back to UTC so a bad browser
    report never breaks a page."""
    if zone:
        try:
            return ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _parse_moment(value: object) -> datetime | date | None:
    """A stored timestamp or date as a datetime (aware, UTC when the text had no zone: the
    database stores UTC) or a date; None when blank or not a time."""
    if blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    raw = value.strip()
    if len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _exact(moment: datetime | date, zone: str | None) -> str:
    """The exact form: "2026-12-03 14:05 UTC" (zone abbreviation of the moment), or
    "2026-12-03" for a date."""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(_zone(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


def _relative(moment: datetime, now: datetime) -> str:
    """How far ``moment`` is from ``now`` in words: "just now", "5 minutes ago",
    "in 2 hours", "yesterday", "3 days ago"; beyond a month, the date ("Dec 3, 2026")."""
    delta = now - moment
    seconds = delta.total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    if seconds < 45 * 60:
        amount = plural(max(1, round(seconds / 60)), "minute")
    elif seconds < 22 * 3600:
        amount = plural(max(1, round(seconds / 3600)), "hour")
    else:
        days = abs((now.date() - moment.date()).days)
        if days == 0:  # 00:10 to 23:50 of one day: still hours
            return _relative_amount(plural(round(seconds / 3600), "hour"), future)
        if days == 1:
            return "tomorrow" if future else "yesterday"
        if days < 30:
            amount = plural(days, "day")
        else:
            return f"{moment:%b} {moment.day}, {moment.year}"
    return _relative_amount(amount, future)


def _relative_amount(amount: str, future: bool) -> str:
    return f"in {amount}" if future else f"{amount} ago"


# -- people and stored keys ---------------------------------------------------------------------
def people_names(users: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``email -> name`` of team members (``services.list_users``), for :func:`person`: the
    audit trail and every ``created_by`` hold the actor's email, and people read names."""
    return {
        str(user["email"]).lower(): str(user.get("name") or user["email"])
        for user in users
        if user.get("email")
    }


def member_choices(users: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Team members by name (with the address where two share a name), for a menu."""
    names = [u.get("name") or u["email"] for u in users]
    return {
        (name if names.count(name) == 1 else f"{name} <{u['email']}>"): u["id"]
        for name, u in zip(names, users, strict=True)
    }


def person(actor: object, names: Mapping[str, str] | None = None) -> str:
    """Who did something, as a person reads it: a team member's name (from
    :func:`people_names`), the system's named actors ("Demo data", "The scheduler") or "The
    system", else the stored text (an email of someone who left). Blank is ""."""
    if blank(actor):
        return ""
    raw = str(actor)
    if raw.startswith("system:"):
        if raw.startswith("system:job"):
            return SYSTEM_ACTORS.get("system:jobs", "The scheduler")
        return SYSTEM_ACTORS.get(raw, "The system")
    if raw.startswith("automation:"):
        return "An automation"  # the activity feed names the rule
    return (names or {}).get(raw.lower(), raw)


#: Labels of stored keys, by what the keys name. The keys (and which exist) are the library's;
#: how they read is the app's. Select fields of the grid get theirs from :func:`choice_labels`.
LABELS: dict[str, dict[str, str]] = {
    "list": {**LIST_LABELS, "all": "All"},
    "fund_status": dict(FUND_STATUS_LABELS),
    "commitment_status": {
        "soft_circled": "Soft-circled",
        "committed": "Committed",
        "closed": "Closed",
    },
    "request_status": {
        "open": "Open",
        "planned": "Planned",
        "done": "Done",
        "declined": "Declined",
    },
    "role": {"admin": "Admin", "member": "Member"},
    "invite_kind": {"setup": "First admin", "invite": "Invite", "reset": "Password reset"},
    "backup_kind": {
        "nightly": "Nightly",
        "manual": "Manual",
        "pre-restore": "Before a restore",
        "pre-migration": "Before an upgrade",
    },
    "run_status": {"running": "Running", "ok": "Succeeded", "failed": "Failed"},
    "verify_status": {"ok": "Verified", "failed": "Failed"},
    "import_action": {
        "create": "Create",
        "update": "Update",
        "restore": "Restore",
        "archive": "Archive",
        "unchanged": "Unchanged",
    },
    "severity": {"error": "Error", "warning": "Warning"},
}
#: Pill colours of labels that mean the same on every page: good, bad, under way.
TONES: dict[str, str] = {
    label: pill_token(name)
    for name, labels in {
        "green": ("Verified", "Succeeded", "Done", "Committed"),
        "slate": ("Closed",),
        "blue": ("Raising", "Running"),
        "purple": ("Planned",),
        "yellow": ("Open", "Soft-circled", "Warning"),
        "red": ("Failed", "Error", "Declined"),
        "indigo": ("Admin",),
        "gray": ("Member",),
    }.items()
    for label in labels
}


def label(kind: str, key: object) -> str:
    """How the stored ``key`` of ``kind`` (a key of :data:`LABELS`) reads: "follow_up" of
    "list" is "Follow-up". An unknown key reads as itself with underscores as spaces and a
    capital (never hidden: a newer library may add keys). Blank is ""."""
    if blank(key):
        return ""
    raw = str(key)
    known = LABELS.get(kind, {}).get(raw)
    if known is not None:
        return known
    spaced = raw.replace("_", " ")
    return spaced[:1].upper() + spaced[1:]


def choice_labels(field_key: str) -> dict[str, str]:
    """``stored choice -> label`` of a grid select field whose choices are keys (the built-in
    List field stores "follow_up" and reads "Follow-up"); empty for fields whose choices are
    the names members typed, which read as themselves."""
    return dict(LIST_LABELS) if field_key == "list_membership" else {}


# -- Tabulator formatters -------------------------------------------------------------------
#: JS: is ``v`` a blank cell? (null, undefined, "", NaN: what Panel sends for missing values)
_JS_BLANK = "(v===null||v===undefined||v===''||(typeof v==='number'&&isNaN(v)))"
#: JS: a text node in a span (a formatter's string result is HTML to Tabulator).
_JS_TEXT = "function t(x){var s=document.createElement('span');s.textContent=x;return s;}"


def money_formatter(currency: str = "USD", *, currency_field: str | None = None) -> JSCode:
    """A Tabulator formatter drawing a number as :func:`money` does ("$1,500,000",
    "€75,000.50"), in ``currency`` or in the currency held by the row's ``currency_field``.
    Cells keep the number, so the column sorts by amount; text that is not a number is shown
    as it is, as text."""
    symbols = js_literal(CURRENCY_SYMBOLS)
    whole = js_literal(sorted(_NO_DECIMALS))
    code = (
        f"String(cell.getRow().getData()[{js_literal(currency_field)}]||{js_literal(currency)})"
        if currency_field
        else js_literal(currency.upper())
    )
    return JSCode(
        f"function(cell){{{_JS_TEXT}var v=cell.getValue();if({_JS_BLANK})return '';"
        "var n=Number(v);if(typeof v==='boolean'||!isFinite(n))return t(String(v));"
        f"var c={code}.toUpperCase();var d=({whole}.indexOf(c)>=0||"
        "Math.round(n*100)%100===0)?0:2;"
        "var s=Math.abs(n).toLocaleString('en-US',{minimumFractionDigits:d,"
        "maximumFractionDigits:d});var sign=(n<0&&/[1-9]/.test(s))?'-':'';"
        f"var y={symbols}[c];return t(y!==undefined?sign+y+s:sign+s+' '+c);}}"
    )


def percent_formatter(*, scale: float = 100.0) -> JSCode:
    """A Tabulator formatter drawing a number as :func:`percent` does ("12.5%"): ``scale``
    100 for fractions (0.125), 1 for cells that already hold the percentage (the grid's
    percent columns edit 12.5)."""
    return JSCode(
        f"function(cell){{{_JS_TEXT}var v=cell.getValue();if({_JS_BLANK})return '';"
        "var n=Number(v);if(typeof v==='boolean'||!isFinite(n))return t(String(v));"
        f"var s=(n*{scale!r}).toFixed(1).replace(/\\.0$/,'');if(s==='-0')s='0';return t(s+'%');}}"
    )


#: Numbers with thousands separators and no trailing ".0" (:func:`number`).
NUMBER_FORMATTER = JSCode(
    f"function(cell){{{_JS_TEXT}var v=cell.getValue();if({_JS_BLANK})return '';"
    "var n=Number(v);if(typeof v==='boolean'||!isFinite(n))return t(String(v));"
    "return t(n.toLocaleString('en-US',{maximumFractionDigits:6}));}"
)
#: Counts and years: the number as it is (a vintage is "2017", not "2,017"), blanks blank.
PLAIN_FORMATTER = JSCode(
    f"function(cell){{{_JS_TEXT}var v=cell.getValue();if({_JS_BLANK})return '';"
    "return t(String(v));}"
)
#: Booleans as :func:`check` shows them: a check for true, nothing for false or blank.
CHECK_FORMATTER = {"type": "tickCross", "crossElement": False, "allowEmpty": True}


def pills_formatter(
    colors: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None
) -> JSCode:
    """A Tabulator formatter drawing a select value (one, a list, or a list stored as JSON
    text) as coloured pills, like :func:`pills_html`: each value shows its label from
    ``labels`` (stored keys never show), coloured by ``colors`` (by value, else by label, else
    the label's stable colour from :func:`pill_color`), each colour a background and text
    pair (:func:`pill_pair`). Built as DOM nodes with the labels as text, and both tables
    travel as JS literals (:func:`apps.markup.js_literal`): option names are members' text and
    never become markup or code."""
    palette = js_literal([list(pill_pair(color)) for color in PILL_PALETTE])
    pairs = {key: list(pill_pair(color, key)) for key, color in (colors or {}).items()}
    return JSCode(
        "function(cell){var v=cell.getValue();if(v===null||v===undefined||v==='')return '';"
        "if(!Array.isArray(v)){var s=String(v);if(s.length&&s[0]==='['){try{v=JSON.parse(s);}"
        "catch(e){v=[s];}}else{v=[s];}}"
        f"var c={js_literal(pairs)};var l={js_literal(dict(labels or {}))};"
        f"var p={palette};"
        "var has=function(o,k){return Object.prototype.hasOwnProperty.call(o,k);};"
        "var out=document.createElement('span');out.className='crm-pills';"
        "v.forEach(function(x,i){if(x===null||x===undefined||x==='')return;x=String(x);"
        "var name=has(l,x)?l[x]:x;var h=0;for(var j=0;j<name.length;j++){"
        "h+=(j+1)*name.charCodeAt(j);}"
        "var e=document.createElement('span');e.className='crm-pill';"
        "var k=has(c,x)?c[x]:(has(c,name)?c[name]:p[h%p.length]);"
        "e.style.background=k[0];e.style.color=k[1];"
        "e.textContent=name;"
        "if(out.childNodes.length){out.appendChild(document.createTextNode(' '));}"
        "out.appendChild(e);});return out;}"
    )


#: How pills look wherever they are drawn (a Tabulator or an HTML pane: each is its own shadow
#: root, so the rule travels with the component as one of its stylesheets).
PILL_CSS = (
    ".crm-pill{display:inline-block;border-radius:var(--crm-radius-pill,999px);"
    "padding:0 8px;margin:1px 4px 1px 0;font-size:var(--crm-font-size-xs,12px);line-height:18px;"
    "color:var(--crm-pill-text);"
    "white-space:nowrap;}"
)


# -- read-only tables -------------------------------------------------------------------------
@dataclass(frozen=True)
class Show:
    """How one column of a read-only table shows its values: ``cell`` turns a stored value
    (and the user's zone) into what the table holds, ``formatter`` draws it in the browser.
    Numbers stay numbers in the cell (the column sorts by value) and are drawn by a formatter;
    everything else becomes its display text here."""

    cell: Callable[[Any, str | None], Any]
    formatter: Any = None
    align: str | None = None


def _auto_cell(value: Any, zone: str | None) -> Any:
    """A value whose column says nothing about it: blanks blank, booleans checked, stored
    timestamps in the user's zone, lists joined, whole floats without ".0", numbers kept."""
    if blank(value):
        return ""
    if isinstance(value, bool):
        return check(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if isinstance(value, str) and _STAMP.match(value):
        return table_time(value, zone)
    if isinstance(value, (datetime, date)):
        return table_time(value, zone)
    if isinstance(value, dict):
        return ""
    return text(value)


def _number_cell(value: Any, _zone: str | None) -> float | int | None:
    parsed = _number(value)
    if parsed is None:
        return None
    return int(parsed) if parsed.is_integer() and abs(parsed) < 2**53 else parsed


def table_time(value: object, zone: str | None = None) -> str:
    """A timestamp for a table cell: "2026-12-03 14:05" in ``zone`` (sorts as text, reads at a
    glance; the column title names what it is). Dates stay "2026-12-03". Blank is ""."""
    parsed = _parse_moment(value)
    if parsed is None:
        return text(value)
    if not isinstance(parsed, datetime):
        return parsed.isoformat()
    return f"{parsed.astimezone(_zone(zone)):%Y-%m-%d %H:%M}"


AUTO = Show(_auto_cell)
TEXT = Show(lambda value, _zone: text(value))
WHEN = Show(table_time)
MONEY = Show(_number_cell, money_formatter(), "right")
PERCENT = Show(_number_cell, percent_formatter(), "right")
NUMBER = Show(_number_cell, NUMBER_FORMATTER, "right")
#: Ids, counts and years: numbers without separators.
PLAIN = Show(_number_cell, PLAIN_FORMATTER, "right")
CHECK = Show(lambda value, _zone: check(value), None, "center")


def money_in(currency: str = "USD", *, currency_field: str | None = None) -> Show:
    """Amounts in ``currency``, or in the currency of each row's ``currency_field`` (a title)."""
    return Show(_number_cell, money_formatter(currency, currency_field=currency_field), "right")


def pills(kind: str | None = None, colors: Mapping[str, str] | None = None) -> Show:
    """Stored keys of ``kind`` (see :data:`LABELS`) as pills with their labels; without a kind,
    the values are names and show as themselves. Cells hold the labels, so the column sorts
    and reads by label."""

    def cell(value: Any, _zone: str | None) -> Any:
        items = _select_items(value) if not isinstance(value, str) else [value]
        shown = [label(kind, item) if kind else text(item) for item in items if not blank(item)]
        if not shown:
            return ""
        return shown if isinstance(value, (list, tuple)) else shown[0]

    return Show(cell, pills_formatter({**TONES, **dict(colors or {})}))


def people(names: Mapping[str, str] | None) -> Show:
    """Actors (emails, ``system:*``) as people's names (:func:`person`)."""
    return Show(lambda value, _zone: person(value, names))


def table_frame(
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    shows: Mapping[str, Show] | None = None,
    *,
    zone: str | None = None,
) -> pd.DataFrame:
    """Rows as a read-only table's DataFrame: one column per ``columns`` key (titled by its
    value), each cell made by the column's :class:`Show` (default :data:`AUTO`) in the user's
    ``zone``.

    Built column by column with ``object`` dtype from ``row.get(key)``: ``pd.DataFrame(rows)``
    turned None and missing keys into NaN (shown as "NaN"), and pandas 3 would make text
    columns StringDtype, which Tabulator's sync refuses non-text values into (notes/panel.md).
    """
    shows = shows or {}
    data = {
        title: pd.Series(
            [shows.get(key, AUTO).cell(row.get(key), zone) for row in rows], dtype=object
        )
        for key, title in columns.items()
    }
    return pd.DataFrame(data, columns=list(columns.values()))


def read_only_table(
    columns: Mapping[str, str],
    shows: Mapping[str, Show] | None = None,
    *,
    empty: str | None = None,
    **params: Any,
) -> pn.widgets.Tabulator:
    """An empty read-only table with these column titles (``key -> title``), each column drawn
    as its :class:`Show` says (money, percents, numbers and pills by formatters; the cells
    come from :func:`table_frame` with the same ``shows``). ``empty`` is the sentence shown
    in the table while it has no rows: what to do next (a fixed text of ours, never a name a
    member typed: Tabulator sets it as HTML). ``params`` go to the Tabulator."""
    shows = shows or {}
    formatters = {
        columns[key]: show.formatter
        for key, show in shows.items()
        if key in columns and show.formatter is not None
    }
    aligns = {
        columns[key]: show.align for key, show in shows.items() if key in columns and show.align
    }
    settings: dict[str, Any] = {
        "disabled": True,
        "show_index": False,
        "sizing_mode": "stretch_width",
        "formatters": formatters,
        "text_align": aligns,
        "stylesheets": [PILL_CSS],
        **params,
    }
    if empty:
        settings["configuration"] = {
            **settings.get("configuration", {}),
            "placeholder": escape_text(empty),
        }
    return pn.widgets.Tabulator(pd.DataFrame(columns=list(columns.values())), **settings)


def on_browser_zone(callback: Callable[[str], None]) -> None:
    """Call ``callback(zone)`` once the browser of the current session reports a timezone
    other than UTC. The browser tells it only after the page is built, so a page first shows
    times in UTC and redraws them in the user's zone; a UTC browser costs no redraw."""
    info = pn.state.browser_info  # None outside a server session
    if info is None or info.timezone:
        return

    def changed(event: Any) -> None:
        if event.new and _zone(event.new).key not in _UTC_NAMES:
            callback(event.new)

    info.param.watch(changed, "timezone")


#: A stored timestamp at the start of a text (``2026-12-03T14:05...``).
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "GMT", "Etc/GMT"})


# -- grid field values ---------------------------------------------------------------------------
def field_html(
    spec: FieldSpec,
    value: Any,
    *,
    users: Mapping[int, str] | None = None,
    zone: str | None = None,
    now: datetime | None = None,
    colors: Mapping[str, str] | None = None,
) -> str:
    """A stored grid field value as read-only HTML (escaped), by the field's type: amounts in
    the field's currency, numbers with separators, percents, dates relative with the exact
    time on hover, checks, selects as pills with their labels (``colors`` by choice), owners by
    name (``users``: id -> name), formula errors marked; blanks are ""."""
    if isinstance(value, str) and spec.type == "multi_select" and value.startswith("["):
        with contextlib.suppress(ValueError, TypeError):
            value = spec.decode(value)
    if blank(value):
        return ""
    kind = spec.type
    if spec.formula is not None:
        shown = text(value)
        if shown.startswith("#ERROR"):
            return f'<span class="crm-error" title="{escape_text(shown)}">#ERROR</span>'
        result = spec.options.get("result_type")
        if result == "number" and _number(value) is not None:
            return escape_text(number(value))
        if result in ("date", "datetime"):
            return when_html(value, zone=zone, now=now)
        return escape_text(shown)
    if kind == "currency":
        return escape_text(money(value, str(spec.options.get("currency") or "USD")))
    if kind == "number":
        return escape_text(number(value))
    if kind == "percent":
        return escape_text(percent(value))
    if kind in ("date", "datetime"):
        return when_html(value, zone=zone, now=now)
    if kind == "checkbox":
        return escape_text(check(value))
    if kind in ("single_select", "multi_select"):
        labels = choice_labels(spec.key)
        items = value if isinstance(value, list) else [value]
        tones = {labels.get(k, k): c for k, c in (colors or {}).items()}
        return pills_html([labels.get(str(item), str(item)) for item in items], tones)
    if kind == "user":
        return escape_text((users or {}).get(value, "") if not isinstance(value, str) else value)
    return escape_text(text(value))
