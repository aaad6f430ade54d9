"""Pages that cannot be built say so in plain words, never with a Python traceback.

Building a page reads the database, and that can fail after start-up: the file overwritten or
damaged, a table gone, the disk unreadable, or a bug. Panel's function handler would then put
the whole traceback into the page it sends the browser (an Alert holding ``format_exception``),
showing file paths and code to whoever opened it. Every served page is built through
:func:`guard_pages` instead: a failure becomes a short message saying what happened and what to
do (from :func:`crm_lib.errors.database_failure` when the database explains it), and the
traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import panel as pn

from apps.markup import escape_markdown
from apps.shell import shell
from crm_lib.errors import CRMError, database_failure

log = logging.getLogger(__name__)

PageFactory = Callable[[], Any]
#: What a page says when its failure has no better explanation (a bug: the log has it).
UNEXPECTED = "This page could not be loaded; the server log has the details. Reload to try again."


def failure_message(exc: BaseException) -> str:
    """What people are told about a failure to build a page (never a traceback)."""
    failure = database_failure(exc) or exc
    return failure.message if isinstance(failure, CRMError) else UNEXPECTED


def failure_page(message: str) -> pn.viewable.Viewable:
    """The page shown instead: the app shell with the product's name only (the navigation and
    the user would need the database) and the message, as plain text."""
    return shell(None, "", pn.pane.Alert(escape_markdown(message), alert_type="danger"))


def guarded(path: str, build: PageFactory) -> PageFactory:
    """``build`` for ``pn.serve``, with any failure (while constructing the page or laying it
    out) turned into :func:`failure_page`."""

    def page() -> Any:
        try:
            return pn.panel(build())  # lays a Viewer out now, so its failures land here too
        except Exception as exc:  # every failure: the page must show a message, not a traceback
            log.exception("Building the page %s failed", path)
            return failure_page(failure_message(exc))

    return page


def guard_pages(pages: Mapping[str, PageFactory]) -> dict[str, PageFactory]:
    """Every page of ``pn.serve``'s table, :func:`guarded`."""
    return {path: guarded(path, build) for path, build in pages.items()}
