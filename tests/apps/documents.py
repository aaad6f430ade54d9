"""What a served page gives a client, without a browser: the page's Bokeh document, pulled over
the same websocket the browser uses (the HTML itself is an empty shell; the content arrives as a
document), or the refusal the client got instead."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import requests
from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from bokeh.util.token import generate_jwt_token, generate_session_id
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect


@dataclass
class Pulled:
    """What a websocket client got: the handshake's refusal status, or the document (or None
    when the server closed the socket before sending one)."""

    refused_with: int | None = None
    document: dict[str, Any] | None = None


def cookie_header(browser: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def pull(base: str, page: str, browser: requests.Session, token: str | None = None) -> Pulled:
    """Open ``<page>/ws`` with ``browser``'s cookies and ask for the document (PULL-DOC-REQ),
    as Bokeh's client does. ``token``: the session token the page's HTML embeds; by default a
    fresh one (a new session, as a script that never loaded the page would make)."""
    if token is None:
        token = generate_jwt_token(generate_session_id(signed=False), signed=False)
    return asyncio.run(_pull(base, page, cookie_header(browser), token))


def page_document(browser: requests.Session, base: str, path: str) -> str:
    """The JSON of the document a logged-in ``browser`` gets at ``path`` (every model's
    properties, so every text the page shows), through the session its HTML embeds."""
    response = browser.get(f"{base}{path}", timeout=30)
    response.raise_for_status()
    token = re.search(r'"token":"([^"]+)"', response.text)
    assert token is not None, f"{path} embeds no Bokeh session: {response.text[:300]}"
    pulled = pull(base, path, browser, token.group(1))
    assert pulled.document is not None, f"{path}: no document ({pulled})"
    return json.dumps(pulled.document)


async def _pull(base: str, page: str, cookies: str, token: str) -> Pulled:
    request = HTTPRequest(
        f"{base.replace('http', 'ws', 1)}{page.rstrip('/')}/ws",
        headers={"Cookie": cookies, "Origin": base},
        request_timeout=30,
    )
    try:
        socket = await websocket_connect(request, subprotocols=["bokeh", token])
    except HTTPClientError as exc:
        return Pulled(refused_with=exc.code)
    protocol = Protocol()
    receiver = Receiver(protocol)

    async def next_message(msgtype: str) -> Any:
        while True:
            fragment = await asyncio.wait_for(socket.read_message(), timeout=30)
            if fragment is None:  # closed by the server
                return None
            message = await receiver.consume(fragment)
            if message is not None and message.msgtype == msgtype:
                return message

    try:
        if await next_message("ACK") is None:  # the server acknowledges once the session exists
            return Pulled()
        request_doc = protocol.create("PULL-DOC-REQ")
        for fragment in (
            request_doc.header_json,
            request_doc.metadata_json,
            request_doc.content_json,
        ):
            await socket.write_message(fragment)
        reply = await next_message("PULL-DOC-REPLY")
        return Pulled(document=None if reply is None else reply.content["doc"])
    except WebSocketClosedError:
        return Pulled()
    finally:
        socket.close()
