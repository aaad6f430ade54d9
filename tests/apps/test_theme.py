"""apps/theme/tokens.css: the pill palette is a list of named background and text pairs, each
readable (WCAG contrast at least 4.5:1), and every colour Python hands out is a declared token."""

from __future__ import annotations

import re

import pytest

from apps import formatting as fmt
from apps.grid.columns import PALETTE
from apps.theme import TOKENS_CSS
from crm_lib.services.fields import COLORS

DECLARED = dict(re.findall(r"(--crm-[a-z0-9-]+):\s*([^;]+);", TOKENS_CSS.read_text("utf-8")))


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one: str, two: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _value(css: str) -> str:
    """The literal colour a ``var(--token)`` reference stands for."""
    return DECLARED[css.removeprefix("var(").removesuffix(")")]


@pytest.mark.parametrize("name", fmt.PILL_NAMES)
def test_each_pill_colour_is_a_declared_readable_pair(name: str) -> None:
    background, text = fmt.pill_pair(name)
    assert _contrast(_value(background), _value(text)) >= 4.5


def test_the_pill_text_luminance_matches_its_token() -> None:
    declared = _luminance(DECLARED["--crm-pill-text"])
    assert declared == pytest.approx(fmt._PILL_TEXT_LUMINANCE, abs=1e-3)


def test_every_colour_a_field_may_name_is_a_pill_token() -> None:
    assert set(COLORS) <= set(fmt.PILL_NAMES)
    assert all(_value(PALETTE[name]) for name in COLORS)
    assert {_value(color) for color in fmt.TONES.values()}  # statuses use the palette too
