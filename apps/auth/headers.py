"""No page of the CRM may be framed by another site (clickjacking): one tornado output transform
adds ``X-Frame-Options: DENY`` and ``Content-Security-Policy: frame-ancestors 'none'`` to every
response of the server, with ``nosniff`` and, over HTTPS, HSTS.

A transform, rather than headers set handler by handler, because most responses come from
handlers we do not write (Bokeh's and Panel's document, autoload, static and websocket handlers,
tornado's redirects and error pages): it runs for every response of the application, errors
included. A response that already has a policy (the login pages' strict one) keeps it, with
``frame-ancestors 'none'`` added only if missing.
"""

from __future__ import annotations

import tornado.httputil
import tornado.web

from crm_lib.auth.proxies import resolve
from crm_lib.config import Settings

FRAME_OPTIONS = "DENY"
FRAME_ANCESTORS = "frame-ancestors 'none'"


#: a year, as deploy/Caddyfile sends it
HSTS = "max-age=31536000"


class SecurityHeaders(tornado.web.OutputTransform):
    """Adds to the first chunk (the headers) of every response: the anti-framing headers,
    ``X-Content-Type-Options: nosniff``, and ``Strict-Transport-Security`` when the browser
    came over HTTPS (directly, or through a trusted proxy that said so), so a proxy that adds
    none of them (``tailscale serve``) still leaves a hardened site."""

    def __init__(self, request: tornado.httputil.HTTPServerRequest) -> None:
        super().__init__(request)
        self.request = request

    def transform_first_chunk(
        self,
        status_code: int,
        headers: tornado.httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
        headers["X-Frame-Options"] = FRAME_OPTIONS
        policy = headers.get("Content-Security-Policy", "").strip().rstrip(";")
        if "frame-ancestors" not in policy:
            headers["Content-Security-Policy"] = (
                f"{policy}; {FRAME_ANCESTORS}" if policy else FRAME_ANCESTORS
            )
        headers["X-Content-Type-Options"] = "nosniff"
        if self.request.protocol == "https":
            headers["Strict-Transport-Security"] = HSTS
        return status_code, headers, chunk


def forwarded_client(settings: Settings) -> type[tornado.web.OutputTransform]:
    """A transform that, behind a trusted proxy, gives each request its real client address.

    Tornado builds every transform from the request just before the handler runs (for Bokeh's
    document and websocket handlers as for ours), so rewriting ``remote_ip`` and ``protocol``
    here reaches every handler without touching them. The rule is
    :func:`crm_lib.auth.proxies.resolve`: headers count only from ``CRM_TRUSTED_PROXIES``.
    """
    trusted = settings.trusted_proxies

    class ForwardedClient(tornado.web.OutputTransform):
        def __init__(self, request: tornado.httputil.HTTPServerRequest) -> None:
            super().__init__(request)
            client = resolve(
                request.remote_ip or "",
                request.protocol,
                request.headers.get_list("X-Forwarded-For"),
                request.headers.get("X-Forwarded-Proto"),
                trusted,
            )
            request.remote_ip = client.ip
            request.protocol = client.scheme

    return ForwardedClient


#: Tornado's ``transforms`` for the server. Tornado adds its gzip transform only when no list is
#: given and ``compress_response`` is on; the server does not compress, so nothing is lost.
TRANSFORMS: list[type[tornado.web.OutputTransform]] = [SecurityHeaders]
