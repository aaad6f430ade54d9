"""Mailbox files as messages: a Google Takeout ``.mbox``, any mbox, one ``.eml`` file, or a
folder of ``.eml`` files (searched recursively, in name order so a re-import reads the same
order).

mbox files are read with the standard library's :mod:`mailbox` (which indexes the file once and
then reads one message at a time, so a Takeout export of several GB is never held in memory).
A file that is neither is refused with a message naming what it is, before anything is read.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from crm_lib.errors import ValidationError
from crm_lib.mail.ingest import RawMessage

#: How an mbox begins (RFC 4155): a "From " separator line.
MBOX_START = b"From "
#: Headers one of which starts every message file in practice.
MESSAGE_HEADERS = (b"return-path:", b"received:", b"from:", b"message-id:", b"date:", b"mime-")


def read_mailbox(path: Path) -> Iterator[RawMessage]:
    """The messages of ``path`` (mbox, .eml, or a folder of .eml files)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.eml") if p.is_file())
        if not files:
            raise ValidationError(f"{path} holds no .eml files", field="path")
        for file in files:
            yield RawMessage(file.read_bytes(), str(file.relative_to(path)))
        return
    if not path.is_file():
        raise ValidationError(f"{path} does not exist", field="path")
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith(MBOX_START):
        box = mailbox.mbox(path, create=False)
        try:
            for number, key in enumerate(box.iterkeys(), start=1):
                yield RawMessage(box.get_bytes(key), f"{path.name} #{number}")
        finally:
            box.close()
        return
    if start.lstrip().lower().startswith(MESSAGE_HEADERS):
        yield RawMessage(path.read_bytes(), path.name)
        return
    raise ValidationError(
        f"{path.name} is neither an mbox (it would start with a 'From ' line) nor an email"
        " message (.eml); export the mailbox as mbox, e.g. from Google Takeout",
        field="path",
    )
