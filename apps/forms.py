"""Inline validation: a form's errors shown under the field they are about, as well as in the
page's alert.

The library already says which field a bad value is in (:attr:`crm_lib.errors.ValidationError.field`);
:class:`FormErrors` maps those keys to the form's widgets, so the person filling in a fund, a
password, an invite or a person sees the message next to what they typed, the field outlined in
the danger colour, and both go away as soon as they change that field or the form saves. Pages
pass the form to :meth:`apps.chrome.UserPage.act`, which does the rest; checks that only the page
can make (two password boxes that differ) call :meth:`FormErrors.flag` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import panel as pn

from apps.markup import escape_text
from crm_lib.errors import CRMError, ValidationError

#: The class a widget gets while its value is refused (components.css outlines its input).
INVALID = "crm-invalid"


class FormErrors:
    """The error slot of each field of one form, keyed as the library names the fields."""

    def __init__(self, fields: Mapping[str, pn.widgets.Widget]) -> None:
        self.fields = dict(fields)
        self.messages = {
            key: pn.pane.HTML(
                "", visible=False, css_classes=["crm-field-error"], margin=(0, 10, 4, 10)
            )
            for key in self.fields
        }
        for key, widget in self.fields.items():
            # text boxes report each keystroke in value_input: the message goes as they type
            watched = "value_input" if "value_input" in widget.param else "value"
            widget.param.watch(partial(self._changed, key), watched)

    def field(self, key: str) -> pn.Column:
        """The widget with its error slot under it, to lay out in place of the bare widget."""
        return pn.Column(self.fields[key], self.messages[key], margin=0)

    def show(self, error: CRMError) -> bool:
        """Put ``error`` under the field it names. False (nothing marked) when it names none of
        this form's fields: the page's alert, which always shows the message, is then enough."""
        key = error.field if isinstance(error, ValidationError) else None
        if key not in self.fields:
            self.clear()
            return False
        self.flag(key, _without_key(error.message, key))
        return True

    def flag(self, key: str, message: str) -> None:
        """Mark ``key`` with ``message`` (plain text) and clear the rest of the form."""
        self.clear()
        self.messages[key].param.update(
            object=f'<span role="alert">{escape_text(message)}</span>', visible=True
        )
        widget = self.fields[key]
        widget.css_classes = [*widget.css_classes, INVALID]

    def clear(self, key: str | None = None) -> None:
        """Drop the mark from ``key`` (default: every field)."""
        for name in [key] if key is not None else list(self.fields):
            message = self.messages[name]
            if message.visible:
                message.param.update(object="", visible=False)
            widget = self.fields[name]
            if INVALID in widget.css_classes:
                widget.css_classes = [c for c in widget.css_classes if c != INVALID]

    @property
    def flagged(self) -> dict[str, str]:
        """Each marked field and the HTML of its message (what tests and the page read)."""
        return {key: pane.object for key, pane in self.messages.items() if pane.visible}

    def _changed(self, key: str, _event: Any) -> None:
        if self.messages[key].visible:
            self.clear(key)


def _without_key(message: str, key: str) -> str:
    """The message as read next to its field: "target_size: 'abc' is not a number" reads
    "'abc' is not a number" under Target size, "Email: ..." under Email."""
    for prefix in (f"{key}: ", f"{key.replace('_', ' ')}: "):
        if message.lower().startswith(prefix.lower()):
            return message[len(prefix) :]
    return message
