"""The locales SET_LOCALE and DATETIME_PARSE accept: month and day names, long formats, ordinals.

Airtable formats dates with moment.js, so a locale here is moment's locale data (moment 2.30,
``src/locale/<code>.js``): names, the long formats behind ``L`` ``LL`` ``LLL`` ``LLLL`` ``LT``
``LTS`` (``l`` ``ll`` ``lll`` ``llll`` are derived from them as moment derives them), the ordinal
suffix, and the week rule (first day of the week, and which January day is always in week 1).

Airtable accepts about 130 locale modifiers; we carry the English ones and the main Western European
ones. Any other is refused with a cell error that lists these, rather than silently formatting in
English as moment does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from crm_lib.formulas.values import EvalError

Ordinal = Callable[[int, str], str]


def _english_ordinal(number: int, _period: str) -> str:
    tens = (abs(number) % 100) // 10
    last = abs(number) % 10
    suffix = "th" if tens == 1 else {1: "st", 2: "nd", 3: "rd"}.get(last, "th")
    return f"{number}{suffix}"


def _french_ordinal(number: int, period: str) -> str:
    if period == "D":
        return f"{number}{'er' if number == 1 else ''}"
    if period in ("w", "W"):
        return f"{number}{'re' if number == 1 else 'e'}"
    return f"{number}{'er' if number == 1 else 'e'}"


def _dutch_ordinal(number: int, _period: str) -> str:
    return f"{number}{'ste' if number in (1, 8) or number >= 20 else 'de'}"


def _suffix_ordinal(suffix: str) -> Ordinal:
    return lambda number, _period: f"{number}{suffix}"


@dataclass(frozen=True, slots=True)
class Locale:
    """One moment.js locale: what DATETIME_FORMAT writes and DATETIME_PARSE reads."""

    code: str
    months: tuple[str, ...]
    months_short: tuple[str, ...]
    weekdays: tuple[str, ...]  # Sunday first, as moment's day() counts
    weekdays_short: tuple[str, ...]
    weekdays_min: tuple[str, ...]
    long_formats: Mapping[str, str]  # LT, LTS, L, LL, LLL, LLLL
    ordinal: Ordinal
    ordinal_suffix: str  # a regex for the suffix DATETIME_PARSE accepts after a day ("Do")
    dow: int = 0  # first day of the week (0 = Sunday)
    doy: int = 6  # moment's "doy": January (7 + dow - doy) is always in week 1
    # Short month names used when the format holds "-MMM-" (Spanish and Dutch drop the dot there).
    months_short_in_dashes: tuple[str, ...] | None = None

    def month_names(self) -> re.Pattern[str]:
        """Any month name, long or short, with or without its dot (what MMM and MMMM read)."""
        return _names_regex(self.code, "months")

    def weekday_names(self) -> re.Pattern[str]:
        """Any weekday name, long, short or minimal (what dd, ddd and dddd read)."""
        return _names_regex(self.code, "weekdays")

    def month_index(self, text: str) -> int | None:
        """0 for January ... 11 for December, from any form of the name."""
        return _index_of(text, *self._name_lists("months"))

    def weekday_index(self, text: str) -> int | None:
        """0 for Sunday ... 6 for Saturday, from any form of the name."""
        return _index_of(text, *self._name_lists("weekdays"))

    def _name_lists(self, kind: str) -> tuple[tuple[str, ...], ...]:
        if kind == "months":
            return (self.months, self.months_short, self.months_short_in_dashes or ())
        return (self.weekdays, self.weekdays_short, self.weekdays_min)


def _variants(name: str) -> set[str]:
    return {name.casefold(), name.rstrip(".").casefold()}


@functools.cache
def _names_regex(code: str, kind: str) -> re.Pattern[str]:
    lists = LOCALES[code]._name_lists(kind)
    names = {variant for names in lists for name in names for variant in _variants(name)}
    ordered = sorted((n for n in names if n), key=len, reverse=True)
    return re.compile("|".join(re.escape(name) for name in ordered), re.IGNORECASE)


def _index_of(text: str, *lists: tuple[str, ...]) -> int | None:
    wanted = text.casefold()
    for names in lists:
        for index, name in enumerate(names):
            if wanted in _variants(name):
                return index
    return None


def words(text: str) -> tuple[str, ...]:
    """Names written as moment writes them, one string split at spaces."""
    return tuple(text.split(" "))


_ENGLISH_MONTHS = words(
    "January February March April May June July August September October November December"
)
_ENGLISH_MONTHS_SHORT = words("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")
_ENGLISH_DAYS = words("Sunday Monday Tuesday Wednesday Thursday Friday Saturday")
_ENGLISH_DAYS_SHORT = words("Sun Mon Tue Wed Thu Fri Sat")
_ENGLISH_DAYS_MIN = words("Su Mo Tu We Th Fr Sa")
_ENGLISH_ORDINAL = r"(?:th|st|nd|rd)"


def _formats(lt: str, lts: str, l_: str, ll: str, lll: str, llll: str) -> dict[str, str]:
    return {"LT": lt, "LTS": lts, "L": l_, "LL": ll, "LLL": lll, "LLLL": llll}


def _english(code: str, formats: dict[str, str], dow: int = 0, doy: int = 6) -> Locale:
    return Locale(
        code,
        _ENGLISH_MONTHS,
        _ENGLISH_MONTHS_SHORT,
        _ENGLISH_DAYS,
        _ENGLISH_DAYS_SHORT,
        _ENGLISH_DAYS_MIN,
        formats,
        _english_ordinal,
        _ENGLISH_ORDINAL,
        dow,
        doy,
    )


_US = _formats(
    "h:mm A", "h:mm:ss A", "MM/DD/YYYY", "MMMM D, YYYY", "MMMM D, YYYY h:mm A",
    "dddd, MMMM D, YYYY h:mm A",
)  # fmt: skip
_GB = _formats(
    "HH:mm", "HH:mm:ss", "DD/MM/YYYY", "D MMMM YYYY", "D MMMM YYYY HH:mm",
    "dddd, D MMMM YYYY HH:mm",
)  # fmt: skip
_AU = _formats(
    "h:mm A", "h:mm:ss A", "DD/MM/YYYY", "D MMMM YYYY", "D MMMM YYYY h:mm A",
    "dddd, D MMMM YYYY h:mm A",
)  # fmt: skip
_CA = _formats(
    "h:mm A", "h:mm:ss A", "YYYY-MM-DD", "MMMM D, YYYY", "MMMM D, YYYY h:mm A",
    "dddd, MMMM D, YYYY h:mm A",
)  # fmt: skip
_IE = _formats(
    "HH:mm", "HH:mm:ss", "DD/MM/YYYY", "D MMMM YYYY", "D MMMM YYYY HH:mm",
    "dddd D MMMM YYYY HH:mm",
)  # fmt: skip
_FROM_MONDAY = {"dow": 1, "doy": 4}

LOCALES: dict[str, Locale] = {
    "en": _english("en", _US),
    "en-gb": _english("en-gb", _GB, **_FROM_MONDAY),
    "en-au": _english("en-au", _AU, dow=0, doy=4),
    "en-ca": _english("en-ca", _CA),
    "en-nz": _english("en-nz", _AU, **_FROM_MONDAY),
    "en-ie": _english("en-ie", _IE, **_FROM_MONDAY),
    "fr": Locale(
        "fr",
        words(
            "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
        ),
        words("janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc."),
        words("dimanche lundi mardi mercredi jeudi vendredi samedi"),
        words("dim. lun. mar. mer. jeu. ven. sam."),
        words("di lu ma me je ve sa"),
        _formats(
            "HH:mm",
            "HH:mm:ss",
            "DD/MM/YYYY",
            "D MMMM YYYY",
            "D MMMM YYYY HH:mm",
            "dddd D MMMM YYYY HH:mm",
        ),
        _french_ordinal,
        r"(?:er|)",
        **_FROM_MONDAY,
    ),
    "de": Locale(
        "de",
        words("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
        words("Jan. Feb. März Apr. Mai Juni Juli Aug. Sep. Okt. Nov. Dez."),
        words("Sonntag Montag Dienstag Mittwoch Donnerstag Freitag Samstag"),
        words("So. Mo. Di. Mi. Do. Fr. Sa."),
        words("So Mo Di Mi Do Fr Sa"),
        _formats(
            "HH:mm",
            "HH:mm:ss",
            "DD.MM.YYYY",
            "D. MMMM YYYY",
            "D. MMMM YYYY HH:mm",
            "dddd, D. MMMM YYYY HH:mm",
        ),
        _suffix_ordinal("."),
        r"\.",
        **_FROM_MONDAY,
    ),
    "es": Locale(
        "es",
        words(
            "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
            "diciembre"
        ),
        words("ene. feb. mar. abr. may. jun. jul. ago. sep. oct. nov. dic."),
        words("domingo lunes martes miércoles jueves viernes sábado"),
        words("dom. lun. mar. mié. jue. vie. sáb."),
        words("do lu ma mi ju vi sá"),
        _formats(
            "H:mm",
            "H:mm:ss",
            "DD/MM/YYYY",
            "D [de] MMMM [de] YYYY",
            "D [de] MMMM [de] YYYY H:mm",
            "dddd, D [de] MMMM [de] YYYY H:mm",
        ),
        _suffix_ordinal("º"),
        "º",
        months_short_in_dashes=words("ene feb mar abr may jun jul ago sep oct nov dic"),
        **_FROM_MONDAY,
    ),
    "it": Locale(
        "it",
        words(
            "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
            "novembre dicembre"
        ),
        words("gen feb mar apr mag giu lug ago set ott nov dic"),
        words("domenica lunedì martedì mercoledì giovedì venerdì sabato"),
        words("dom lun mar mer gio ven sab"),
        words("do lu ma me gi ve sa"),
        _formats(
            "HH:mm",
            "HH:mm:ss",
            "DD/MM/YYYY",
            "D MMMM YYYY",
            "D MMMM YYYY HH:mm",
            "dddd D MMMM YYYY HH:mm",
        ),
        _suffix_ordinal("º"),
        "º",
        **_FROM_MONDAY,
    ),
    "nl": Locale(
        "nl",
        words(
            "januari februari maart april mei juni juli augustus september oktober november "
            "december"
        ),
        words("jan. feb. mrt. apr. mei jun. jul. aug. sep. okt. nov. dec."),
        words("zondag maandag dinsdag woensdag donderdag vrijdag zaterdag"),
        words("zo. ma. di. wo. do. vr. za."),
        words("zo ma di wo do vr za"),
        _formats(
            "HH:mm",
            "HH:mm:ss",
            "DD-MM-YYYY",
            "D MMMM YYYY",
            "D MMMM YYYY HH:mm",
            "dddd D MMMM YYYY HH:mm",
        ),
        _dutch_ordinal,
        r"(?:ste|de)",
        months_short_in_dashes=words("jan feb mrt apr mei jun jul aug sep okt nov dec"),
        **_FROM_MONDAY,
    ),
    "pt": Locale(
        "pt",
        words(
            "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
            "dezembro"
        ),
        words("jan fev mar abr mai jun jul ago set out nov dez"),
        words("Domingo Segunda-feira Terça-feira Quarta-feira Quinta-feira Sexta-feira Sábado"),
        words("Dom Seg Ter Qua Qui Sex Sáb"),
        words("Do 2ª 3ª 4ª 5ª 6ª Sá"),
        _formats(
            "HH:mm",
            "HH:mm:ss",
            "DD/MM/YYYY",
            "D [de] MMMM [de] YYYY",
            "D [de] MMMM [de] YYYY HH:mm",
            "dddd, D [de] MMMM [de] YYYY HH:mm",
        ),
        _suffix_ordinal("º"),
        "º",
        **_FROM_MONDAY,
    ),
    "pt-br": Locale(
        "pt-br",
        words(
            "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
            "dezembro"
        ),
        words("jan fev mar abr mai jun jul ago set out nov dez"),
        words("domingo segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado"),
        words("dom seg ter qua qui sex sáb"),
        words("do 2ª 3ª 4ª 5ª 6ª sá"),
        _formats(
            "HH:mm",
            "HH:mm:ss",
            "DD/MM/YYYY",
            "D [de] MMMM [de] YYYY",
            "D [de] MMMM [de] YYYY [às] HH:mm",
            "dddd, D [de] MMMM [de] YYYY [às] HH:mm",
        ),
        _suffix_ordinal("º"),
        "º",
    ),
}

ENGLISH = LOCALES["en"]


def locale_named(code: str) -> Locale:
    """The locale for a modifier like "en-gb" or "fr" (any case, "_" for "-"); else a cell error."""
    key = code.strip().lower().replace("_", "-")
    if not key:
        return ENGLISH
    found = LOCALES.get(key)
    if found is None:
        raise EvalError(f'Unknown locale "{code}": use one of {", ".join(sorted(LOCALES))}')
    return found
