"""The app shell every page sits in: the header (product name, navigation with the current page
marked, a slot for the global search box, the signed-in user's menu), the page's content in one
column, and the confirm step that destructive actions go through.

Pages call :func:`shell` (``UserPage.frame`` does it for them) or, as before,
:func:`apps.chrome.nav_bar`, which returns the same :class:`AppHeader`. The look comes from the
design tokens (:mod:`apps.theme`); notifications are Panel's toasts, placed by ``page.css``.

The header is two HTML panes and an empty column: every Bokeh model costs a new session a few
milliseconds, and links need no server round trip. The user menu is a ``<details>`` element,
so it opens and closes without a server round trip either; a small handler on it closes it on a
click elsewhere or Escape, as menus do.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

import panel as pn
import param
from bokeh.events import DocumentReady
from bokeh.models import CustomJS
from panel.custom import JSComponent

from apps.auth.provider import PageSession
from apps.markup import escape_text
from crm_lib.auth.permissions import allowed

#: (path, label, permission needed to see the link). Your account is in the user menu.
NAV = (
    ("/", "Home", "use_grid"),
    ("/grid", "Grid", "use_grid"),
    ("/pipeline", "Pipeline", "use_grid"),
    ("/tasks", "Tasks", "use_grid"),
    ("/contacts", "Contacts", "use_grid"),
    ("/activity", "Activity", "use_grid"),
    ("/email", "Email", "read_email"),
    ("/ask", "Ask", "ask"),
    ("/automations", "Automations", "use_grid"),
    ("/requests", "Feature requests", "file_feature_requests"),
    ("/funds", "Funds", "manage_funds"),
    ("/admin", "Admin", "manage_users"),
)
#: The user menu's entries: (key, label, href).
USER_MENU = (
    ("profile", "Profile", "/account"),
    ("tokens", "API tokens", "/account#api-tokens"),
    ("logout", "Log out", "/logout"),
)
#: The id of the account page's tokens section (the "API tokens" menu entry scrolls to it).
TOKENS_ANCHOR = "api-tokens"
#: Stable names of the header's parts (CSS classes of the Panel components, for styles, tests
#: and the search issue, which puts its box into ``AppHeader.search_slot``).
HEADER_CLASS = "crm-header"
SEARCH_SLOT_CLASS = "crm-search-slot"
MAIN_CLASS = "crm-main"
#: Closes an open user menu on a click outside it or on Escape (then focus returns to it):
#: inline handlers, which need no script element (an HTML pane does not run those) and nothing
#: from the server. The listeners go in when the summary is clicked, before the menu opens (the
#: toggle event comes later, and a quick click elsewhere could slip past it); they go when the
#: menu closes.
_MENU_LISTEN = (
    "if(!d._crmClose){var c=function(e){"
    "if(e.type==='keydown'&&e.key!=='Escape')return;"
    "if(e.type==='pointerdown'&&e.composedPath().indexOf(d)>=0)return;"
    "d.open=false;if(e.type==='keydown')d.querySelector('summary').focus();};"
    "d._crmClose=c;document.addEventListener('pointerdown',c,true);"
    "document.addEventListener('keydown',c,true);}"
)
_MENU_OPENING = "var d=this.parentElement;if(!d.open){" + _MENU_LISTEN + "}"
_MENU_TOGGLE = (
    "var d=this;if(d.open){" + _MENU_LISTEN + "}"
    "else if(d._crmClose){document.removeEventListener('pointerdown',d._crmClose,true);"
    "document.removeEventListener('keydown',d._crmClose,true);d._crmClose=null;}"
)
#: Header styles on the Panel component itself (its host element): full width, above the page.
#: Not sticky: a header pinned over scrolled content would cover what a click scrolls to.
_HEADER_STYLES = {
    "position": "relative",
    "z-index": "900",
    "background": "var(--crm-color-surface)",
    "border-bottom": "1px solid var(--crm-color-border)",
    "box-shadow": "var(--crm-shadow-sm)",
    "padding": "0 var(--crm-space-5)",
    "box-sizing": "border-box",
    "align-items": "center",
}
#: ``width: 100%``: a flex item with auto side margins is otherwise sized to its content, so the
#: column first drew as wide as its text and widened to the content width as its tables
#: rendered, moving everything in it (measured: layout shift 0.17 on /contacts).
_MAIN_STYLES = {
    "width": "100%",
    "max-width": "var(--crm-content-max-width)",
    "margin": "0 auto",
    "padding": "var(--crm-space-4) var(--crm-space-5) 0",
    "box-sizing": "border-box",
}
_WIDE_STYLES = {"padding": "var(--crm-space-3) var(--crm-space-5) 0", "box-sizing": "border-box"}


def nav_html(
    session: PageSession | None, here: str, counts: Mapping[str, int] | None = None
) -> str:
    """The product name and the links this user may open; ``here`` is marked as the current
    page (``aria-current="page"``, styled by the tokens); ``counts`` puts a number on a link
    (what waits there: the email page's proposals)."""
    brand = (
        '<a class="crm-brand" href="/"><span class="crm-brand-mark" aria-hidden="true">VC</span>'
        "Venture CRM</a>"
    )
    if session is None:
        return f'<div class="crm-header-bar">{brand}</div>'
    role = session.user["role"]
    counts = counts or {}
    items = "".join(
        f'<li><a href="{path}"{_current(path == here)}>{label}{_count(counts.get(path))}</a></li>'
        for path, label, action in NAV
        if allowed(role, action)
    )
    return (
        f'<div class="crm-header-bar">{brand}'
        f'<nav class="crm-nav" aria-label="Main"><ul>{items}</ul></nav></div>'
    )


def user_menu_html(session: PageSession | None, here: str) -> str:
    """The signed-in user (initial, name, role) opening a menu: profile, API tokens, log out."""
    if session is None:
        return ""
    user = session.user
    name = escape_text(user["name"] or user["email"])
    email = escape_text(user["email"])
    role = escape_text(user["role"])
    initial = escape_text((user["name"] or user["email"] or "?").strip()[:1].upper())
    current = any(href.split("#")[0] == here for _, _, href in USER_MENU)
    entries = "".join(
        f'<a role="menuitem" class="crm-menu-{key}" href="{href}"'
        f"{_current(href == here)}>{label}</a>"
        + ('<div class="crm-menu-sep" role="separator"></div>' if key == "tokens" else "")
        for key, label, href in USER_MENU
    )
    return (
        f'<details class="crm-user-menu{" crm-current" if current else ""}"'
        f' ontoggle="{escape_text(_MENU_TOGGLE)}">'
        f'<summary aria-haspopup="menu" aria-label="Account menu of {name} ({role})"'
        f' onclick="{escape_text(_MENU_OPENING)}">'
        f'<span class="crm-avatar" aria-hidden="true">{initial}</span>'
        f'<span class="crm-user-name">{name}</span><span class="crm-role">{role}</span>'
        '<span class="crm-caret" aria-hidden="true">▾</span></summary>'
        f'<div class="crm-menu" role="menu"><div class="crm-menu-who">Signed in as <b>{name}</b>'
        f" ({role})<br>{email}</div>{entries}</div></details>"
    )


def _count(count: int | None) -> str:
    if not count:
        return ""
    shown = f"{count:,}" if count < 1000 else "999+"
    return f' <span class="crm-nav-count" aria-label="{count:,} waiting">{shown}</span>'


def search_box_html(session: PageSession | None, query: str = "") -> str:
    """The header's search form (GET /search?q=): email, notes, fields and titles."""
    if session is None or not allowed(session.user["role"], "read_email"):
        return ""
    return (
        '<form class="crm-search-form" role="search" action="/search" method="get">'
        '<input type="search" name="q" aria-label="Search email and notes" maxlength="200"'
        f' placeholder="Search email and notes" value="{escape_text(query)}"'
        ' style="width:100%;max-width:360px;box-sizing:border-box;padding:6px 10px;'
        "border:1px solid var(--crm-color-border);border-radius:var(--crm-radius-md);"
        'font:inherit;background:var(--crm-color-surface);color:inherit"></form>'
    )


def _current(is_current: bool) -> str:
    return ' aria-current="page"' if is_current else ""


class AppHeader(pn.Row):
    """The header of every page: product name and navigation, the search slot, the user menu.

    ``search_slot`` (CSS class ``crm-search-slot``) holds the search box: a plain form that
    opens ``/search?q=...`` (no server round trip to type), for everyone who may read mail.
    """

    def __init__(
        self, session: PageSession | None, here: str, counts: Mapping[str, int] | None = None
    ) -> None:
        self.nav = pn.pane.HTML(
            nav_html(session, here, counts),
            css_classes=["crm-nav-pane"],
            align="center",
            margin=0,
        )
        box = search_box_html(session)
        self.search_slot = pn.Column(
            *([pn.pane.HTML(box, margin=0, css_classes=["crm-search-box"])] if box else []),
            css_classes=[SEARCH_SLOT_CLASS],
            sizing_mode="stretch_width",
            min_width=0,
            align="center",
        )
        self.user_menu = pn.pane.HTML(
            user_menu_html(session, here),
            css_classes=["crm-user-menu-pane"],
            align="center",
            margin=0,
        )
        super().__init__(
            self.nav,
            self.search_slot,
            self.user_menu,
            css_classes=[HEADER_CLASS],
            sizing_mode="stretch_width",
            height=56,
            styles=_HEADER_STYLES,
        )

    @property
    def object(self) -> str:
        """The header's markup (navigation and user menu), for checks without a browser."""
        return f"{self.nav.object}{self.user_menu.object}"


class ConfirmDialog:
    """The one "are you sure?" step in front of every destructive action: a modal naming what
    will happen, with the action's own verb on a danger button and Cancel (Escape and a click
    beside the dialog cancel too; Cancel has the focus). Nothing is called until the verb is
    clicked.

    The page's button handler calls :meth:`ask`; the action itself stays a plain method, which
    tests call directly. Without a browser (tests, notebooks) :meth:`ask` only records the
    question, and :meth:`accept` / :meth:`cancel` answer it as the buttons would.

    The dialog's content is built on the first question: most sessions never ask one, and each
    Bokeh model costs a new session a few milliseconds.
    """

    def __init__(self) -> None:
        self.modal = pn.Modal(
            show_close_button=False,
            background_close=True,
            css_classes=["crm-confirm"],
            width=440,
        )
        self._action: Callable[[], Any] | None = None
        self.question = ""
        self._body: ConfirmBody | None = None
        self._yes: pn.widgets.Button | None = None

    @property
    def pending(self) -> bool:
        """Whether a question waits for its answer."""
        return self._action is not None

    def ask(
        self, question: str, confirm_label: str, action: Callable[[], Any], detail: str = ""
    ) -> None:
        """Ask ``question`` (plain text: shown as text, never as markup) before ``action``;
        ``confirm_label`` is the danger button's verb ("Archive", "Revoke")."""
        body, yes = self._build()
        self._action = action
        self.question = question
        body.param.update(question=question, detail=detail)
        yes.label = confirm_label
        if _served():
            self.modal.show()

    def accept(self) -> None:
        """The verb was clicked: close, then run the action (once)."""
        action, self._action = self._action, None
        self._close()
        if action is not None:
            action()

    def cancel(self) -> None:
        """Cancel was clicked (or Escape pressed): close; nothing is called."""
        self._action = None
        self._close()

    def _close(self) -> None:
        if _served() and self.modal.open:
            self.modal.hide()

    def _build(self) -> tuple[ConfirmBody, pn.widgets.Button]:
        if self._body is not None and self._yes is not None:
            return self._body, self._yes
        self._body = ConfirmBody(sizing_mode="stretch_width", css_classes=["crm-confirm-body"])
        self._body.param.watch(lambda _: self.cancel(), "escapes")
        self._yes = pn.widgets.Button(
            label="Confirm", color="danger", css_classes=["crm-confirm-yes"]
        )
        no = pn.widgets.Button(label="Cancel", css_classes=["crm-confirm-cancel"])
        self._yes.on_click(lambda _: self.accept())
        no.on_click(lambda _: self.cancel())
        buttons = pn.Row(
            no,
            self._yes,
            sizing_mode="stretch_width",
            css_classes=["crm-confirm-buttons"],
            styles={"justify-content": "flex-end"},
        )
        self.modal.objects = [self._body, buttons]
        return self._body, self._yes


class ConfirmBody(JSComponent):
    """The confirm dialog's question and detail, and its keyboard: the texts are set as text
    (a name in them can never become markup); while shown, Escape cancels (counted in
    ``escapes``, which the dialog watches) and Cancel gets the focus, so Enter never confirms
    by accident. Panel's modal cannot do either from inside its shadow root."""

    question = param.String(default="")
    detail = param.String(default="")
    escapes = param.Integer(default=0)

    _esm = """
    export function render({ model, el }) {
      const question = document.createElement("p");
      question.className = "crm-confirm-question";
      const detail = document.createElement("p");
      detail.className = "crm-confirm-detail";
      const draw = () => {
        question.textContent = model.question;
        detail.textContent = model.detail;
        detail.hidden = !model.detail;
      };
      draw();
      model.on(["question", "detail"], draw);
      el.append(question, detail);
      const shown = () => el.isConnected && el.checkVisibility();
      const onKey = (event) => {
        if (event.key === "Escape" && shown()) {
          event.preventDefault();
          model.escapes += 1;
        }
      };
      document.addEventListener("keydown", onKey, true);
      const inside = (node, selector) => node && node.shadowRoot
        ? node.shadowRoot.querySelector(selector) : null;
      const cancel = () => {
        const host = el.getRootNode().host;
        const dialog = host ? host.getRootNode() : null;
        const row = dialog ? dialog.querySelector(".crm-confirm-buttons") : null;
        return inside(inside(row, ".crm-confirm-cancel"), "button");
      };
      const seen = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          const button = cancel();
          if (button) button.focus();
        }
      });
      seen.observe(el);
      model.on("remove", () => {
        document.removeEventListener("keydown", onKey, true);
        seen.disconnect();
      });
    }
    """


def _served() -> bool:
    """Whether this runs in a served session (a browser shows the dialog)."""
    document = pn.state.curdoc
    return document is not None and document.session_context is not None


class Anchor(JSComponent):
    """A named place on a page that a link's fragment scrolls to (``/account#api-tokens``).

    Browsers look fragments up in the page's light DOM, and Panel draws components in shadow
    roots, so this component does it itself once the page has laid out."""

    target = param.String(default="", doc="The fragment that scrolls here (without '#').")

    _esm = """
    export function render({ model, el }) {
      el.id = model.target;
      if (window.location.hash === "#" + model.target) {
        // again once the tables above have filled in, unless the reader has scrolled since
        let placed = null;
        const place = () => {
          if (placed === null || window.scrollY === placed) {
            el.scrollIntoView({ block: "start" });
            placed = window.scrollY;
          }
        };
        setTimeout(place, 300);
        setTimeout(place, 1500);
      }
    }
    """


def anchor(name: str) -> Anchor:
    """A place that ``#name`` in the page's address scrolls to."""
    return Anchor(target=name, height=0, margin=0, sizing_mode="stretch_width")


#: The content column stays transparent until its page has rendered (see :func:`reveal_when_ready`),
#: so tables filling in and panes finding their height never move what the reader already sees.
#: If the script never runs (no served document, a redrawn column), the animation shows the
#: content after 2 s anyway; once a page has been shown, a redrawn column shows at once.
_MAIN_CSS = """
:host(:not([data-crm-shown])) {
  opacity: 0;
  animation: crm-reveal 0s linear 2s forwards;
}
:host-context(html[data-crm-shown]) {
  opacity: 1;
  animation: none;
}
@keyframes crm-reveal {
  to { opacity: 1; }
}
"""
#: Runs in the browser when the document is idle (every view rendered: BokehJS's DocumentReady
#: event): marks the page and every content column shown. A document callback (CustomJS, built
#: with ``new Function``) rather than a component: no model to render, no module to load.
#: Tables draw their rows a frame or two after their view reports rendered, so the column is
#: shown after two more frames and a short pause.
_REVEAL_JS = """
const mark = (root) => {
  for (const el of root.querySelectorAll("*")) {
    if (el.classList.contains("crm-main")) el.dataset.crmShown = "1";
    if (el.shadowRoot) mark(el.shadowRoot);
  }
};
const show = () => {
  document.documentElement.dataset.crmShown = "1";
  mark(document);
};
requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(show, 50)));
"""
#: The documents that already have the callback (one per served page).
_REVEALING: weakref.WeakSet[Any] = weakref.WeakSet()


def reveal_when_ready() -> None:
    """Show the page's content column once the browser has rendered the whole document, so a
    page appears laid out instead of growing in place (measured: layout shift 0.49 on /funds,
    0.06 on /admin while tables and panes filled in; 0 with this). The header is never hidden:
    it is outside the column. Outside a served session this does nothing."""
    document = pn.state.curdoc
    if document is None or document.session_context is None or document in _REVEALING:
        return
    _REVEALING.add(document)
    document.js_on_event(DocumentReady, CustomJS(code=_REVEAL_JS))


def shell(
    session: PageSession | None,
    here: str,
    *body: Any,
    wide: bool = False,
    dialog: ConfirmDialog | None = None,
    counts: Mapping[str, int] | None = None,
) -> pn.Column:
    """A page in the shell: the header (``here`` marked), then ``body`` in the content column
    (centred at the content width; ``wide`` pages such as the grid use the full width), then
    the page's confirm dialog if it has one."""
    reveal_when_ready()
    main = pn.Column(
        *body,
        css_classes=[MAIN_CLASS],
        sizing_mode="stretch_width",
        styles=_WIDE_STYLES if wide else _MAIN_STYLES,
        stylesheets=[_MAIN_CSS],
    )
    extra = [dialog.modal] if dialog is not None else []
    return pn.Column(
        AppHeader(session, here, counts),
        main,
        *extra,
        css_classes=["crm-shell"],
        sizing_mode="stretch_width",
        margin=0,
    )
