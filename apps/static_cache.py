"""How long browsers keep the files every page loads, so a page switch fetches only the page.

Bokeh's and Panel's own bundles are served with a version in their URL (``bokeh.min.js?v=<hash>``,
``button.css?v=1.9.4``) and already cached for ten years by Bokeh's static handler. A few files
are linked without one: the third-party bundles inside Panel (Tabulator, Luxon, Notyf,
es-module-shims, a11y-dialog: their folder names carry the library's version, ``luxon`` alone
does not) and ``/favicon.ico``, which every page asks for again. Without a ``Cache-Control``
header a browser guesses how long they stay fresh (a tenth of their age), then asks again.

:class:`CacheStatic` gives those a day (``max-age=86400``), after which the ``ETag`` Tornado
already sends makes the check a ``304``. Our own stylesheets (``/components/apps.theme/...``)
are left alone: they change with a deploy of the app, and the ``ETag`` check keeps them right.
Only successful ``GET`` answers under these paths are touched; pages, the API and the login
pages keep whatever their handlers say.
"""

from __future__ import annotations

import tornado.httputil
import tornado.web

#: How long an unversioned bundled file or the favicon stays fresh in the browser.
DAY_SECONDS = 86_400
#: Path prefixes of files that may be cached for a day without a version in their URL.
CACHED_PREFIXES = ("/static/extensions/panel/bundled/", "/favicon.ico")


class CacheStatic(tornado.web.OutputTransform):
    """Adds ``Cache-Control: public, max-age=86400`` to unversioned bundled files and the favicon
    (unless the handler already said how to cache them)."""

    def __init__(self, request: tornado.httputil.HTTPServerRequest) -> None:
        super().__init__(request)
        self._cacheable = request.method == "GET" and request.path.startswith(CACHED_PREFIXES)

    def transform_first_chunk(
        self,
        status_code: int,
        headers: tornado.httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
        if self._cacheable and status_code in (200, 304) and "Cache-Control" not in headers:
            headers["Cache-Control"] = f"public, max-age={DAY_SECONDS}"
        return status_code, headers, chunk
