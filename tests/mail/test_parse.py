"""Reading messages as they really arrive: alternative parts, HTML only, legacy and broken
charsets, encoded headers, attachments, replies with quotes and signatures, missing dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_lib.mail.parse import UnreadableMessage, parse_message
from tests.mail import messages


def test_a_plain_message_gives_who_whom_when_and_its_thread() -> None:
    message = messages.plain(
        sender='"Doe, Jane" <Jane@LP.example>',
        to="Alice <alice@fund.example>, bob@fund.example",
        Cc="Carol <carol@lp.example>",
        In_Reply_To="<first@fund.example>",
        References="<first@fund.example> <second@lp.example>",
        message_id="<abc@lp.example>",
    )
    parsed = parse_message(message.as_bytes())
    assert parsed.message_id == "abc@lp.example"
    assert (parsed.from_name, parsed.from_address) == ("Doe, Jane", "jane@lp.example")
    assert parsed.to_addresses == ("alice@fund.example", "bob@fund.example")
    assert parsed.cc_addresses == ("carol@lp.example",)
    assert parsed.sent_at == datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    assert parsed.in_reply_to == "first@fund.example"
    assert parsed.thread_key == "first@fund.example"
    assert parsed.subject == "Fund III data room"
    assert parsed.snippet == "Thanks, the data room works."


def test_alternative_prefers_text_and_keeps_sanitised_html() -> None:
    html = (
        '<p onclick="steal()">Hi <b>Alice</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><a href="https://lp.example">site</a>'
    )
    parsed = parse_message(messages.alternative("Hi Alice\n", html).as_bytes())
    assert parsed.text.strip() == "Hi Alice"
    assert parsed.html is not None
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert "javascript:" not in parsed.html and 'href="https://lp.example"' in parsed.html


def test_html_only_mail_is_turned_into_text() -> None:
    parsed = parse_message(
        messages.html_only("<div>Capital call <b>questions</b><br>for Fund II</div>").as_bytes()
    )
    assert parsed.text == "Capital call questions\nfor Fund II"
    assert "<" not in parsed.text


def test_legacy_and_broken_charsets_and_encoded_headers() -> None:
    latin = parse_message(messages.raw_latin1())
    assert latin.subject == "Réunion à Zürich"
    assert latin.from_name == "René Müller"
    assert latin.text.strip() == "Très bien, à mardi."
    broken = parse_message(messages.raw_broken_charset())
    assert "Grüße aus Köln" in broken.text
    assert any(d.startswith("charset") for d in broken.defects)


def test_attachments_are_listed_not_kept() -> None:
    parsed = parse_message(messages.with_attachment().as_bytes())
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("LPA.pdf", "application/pdf")
    assert attachment.size == 2009
    assert "PDF" not in parsed.text


def test_the_new_text_of_a_reply_leaves_out_the_quote_and_the_signature() -> None:
    body = (
        "Tuesday works for us.\n\nBest,\nJane\n--\nJane Doe | CIO, LP Example\n\n"
        "On Mon, Nov 2, 2026 at 9:00 AM Alice <alice@fund.example> wrote:\n"
        "> Could we meet on Tuesday?\n> Alice\n"
    )
    parsed = parse_message(messages.plain(body=body).as_bytes())
    assert parsed.reply_text == "Tuesday works for us."
    assert "Could we meet" in parsed.text  # the full body is kept too


def test_no_date_noise_headers_and_unreadable_input() -> None:
    parsed = parse_message(
        messages.plain(when=None, List_Unsubscribe="<mailto:u@news.example>").as_bytes()
    )
    assert parsed.sent_at is None
    assert parsed.headers["list-unsubscribe"] == "<mailto:u@news.example>"
    for bad in (b"", b"   \r\n"):
        with pytest.raises(UnreadableMessage):
            parse_message(bad)


def test_a_very_large_message_is_read_and_its_text_cut() -> None:
    body = ("Quarterly letter. " * 70_000) + "\n"  # 1.26 MB of text
    parsed = parse_message(messages.plain(body=body).as_bytes())
    assert len(parsed.text) < 1_100_000 and parsed.text.endswith("longer than the CRM keeps]")


def test_raw_8bit_headers_and_encoded_names_with_commas() -> None:
    """Real mail sends UTF-8 headers without RFC 2047, and encoded display names that hold the
    comma separating addresses."""
    raw = (
        b"From: =?utf-8?q?Doe=2C_Jane?= <jane@lp.example>\r\n"
        b'To: a@fund.example, "Roe, Bob" <bob@lp.example>, "R\xc3\xa9my" <remy@lp.example>\r\n'
        b"Subject: Caf\xc3\xa9 =?utf-8?q?cr=C3=A8me?= meeting\r\nMessage-ID: <x@lp.example>\r\n\r\n"
        b"body\r\n"
    )
    parsed = parse_message(raw)
    assert (parsed.from_name, parsed.from_address) == ("Doe, Jane", "jane@lp.example")
    assert parsed.to_addresses == ("a@fund.example", "bob@lp.example", "remy@lp.example")
    assert parsed.recipient_names == {"bob@lp.example": "Roe, Bob", "remy@lp.example": "Rémy"}
    assert parsed.subject == "Café crème meeting"
    assert "subject: 8-bit header" in parsed.defects
