"""The look of every page, from one place: the design tokens and the stylesheets built on them.

* ``tokens.css``: colours, spacing, type scale, radii, shadows, focus rings, as CSS variables,
  and Panel's and Bokeh's own variables mapped onto them.
* ``components.css``: Panel's widgets, Tabulator and the app shell, from the tokens.
* ``page.css``: the page itself and Panel's notification toasts.

Panel draws each component in a shadow root, which a page stylesheet does not reach (variables
do, but Panel's default theme sets its own on every component). So the tokens and the component
sheet reach components the way Panel's own designs do: :class:`CRMDesign` is Panel's native
design with our tokens as its theme's base stylesheet and ``components.css`` added to every
component, both served by Panel's component resource route from this folder (no CDN, nothing
from the internet). The page-level sheets go into the document head as raw CSS. :func:`install`
does both, once, before the server builds its first page; the login pages (plain Tornado
templates) inline :func:`auth_css` instead.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import panel as pn
import param
from panel.theme.base import DefaultTheme, Inherit, Theme
from panel.theme.native import Native, NativeDarkTheme
from panel.viewable import Viewable

THEME_DIR = Path(__file__).parent
TOKENS_CSS = THEME_DIR / "tokens.css"
COMPONENTS_CSS = THEME_DIR / "components.css"
PAGE_CSS = THEME_DIR / "page.css"


class CRMTheme(DefaultTheme):
    """The light theme: our tokens replace Panel's default variables in every component."""

    base_css = param.Filename(default=TOKENS_CSS)


class CRMDesign(Native):
    """Panel's native design, themed by the tokens, with our component stylesheet on top."""

    modifiers: ClassVar[dict[type[Viewable], dict[str, Any]]] = {
        Viewable: {"stylesheets": [Inherit, str(COMPONENTS_CSS)]}
    }

    _themes: ClassVar[dict[str, type[Theme]]] = {"default": CRMTheme, "dark": NativeDarkTheme}


@functools.cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def page_css() -> str:
    """What the document head gets: the tokens (so the page and the toasts see the variables)
    and the page stylesheet."""
    return _read(TOKENS_CSS) + "\n" + _read(PAGE_CSS)


def auth_css() -> str:
    """The tokens, for the login, logout, invite and error pages to inline (their strict
    Content-Security-Policy allows inline styles only)."""
    return _read(TOKENS_CSS)


def install() -> None:
    """Make every page built from now on use the design, and put the page stylesheet in every
    document's head. Idempotent; called by :mod:`apps.serve` before serving."""
    pn.config.design = CRMDesign
    css = page_css()
    if css not in pn.config.raw_css:
        pn.config.raw_css = [*pn.config.raw_css, css]
