"""The one tornado handler class behind every API path: authentication (session cookie or
``Authorization: Bearer``), CSRF for cookie-authenticated writes, CORS, body size, write rate
limits, JSON in and out, and the one error shape. Route handlers run in a worker thread, each with
its own database connection, so a slow call (argon2 at login, an export) never stalls the server.

Input the rest of the stack cannot take is refused here, before any service runs, each with a
422 naming its place: a body nested deeper than :data:`crm_lib.limits.MAX_JSON_DEPTH`, whole
numbers past 64 bits, NaN or Infinity, unpaired surrogates (:func:`crm_lib.limits.check_document`),
path ids past the documented maximum, query strings that are not UTF-8. Bodies are streamed
(``stream_request_body``), so a body over the limit always gets our 413, whether it declares its
length or arrives in chunks: left to tornado, one far over its ``max_body_size`` would get a
bare-HTML 400 before any handler ran.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pydantic
import tornado.web

from apps.api.calls import Call, Reply
from apps.api.errors import JSONHandler, as_library_error, error_body
from apps.api.registry import PUBLIC, Route
from apps.auth.cookies import (
    SESSION_COOKIE,
    clear_session_cookie,
    read_session_token,
    set_session_cookie,
)
from apps.runtime import Runtime, run_blocking, run_read
from crm_lib import services
from crm_lib.auth.permissions import allowed, denial
from crm_lib.errors import (
    CRMError,
    NotAuthenticated,
    RateLimited,
    ValidationError,
)
from crm_lib.grid.ordered_ids import ScanNeeded, without_scans
from crm_lib.limits import MAX_JSON_DEPTH, check_document

log = logging.getLogger(__name__)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The largest id a path may name (as documented in the OpenAPI: 18 digits).
MAX_PATH_ID = 10**18 - 1
#: What tornado itself may read of a body: our own limit is enforced as it streams in, and a body
#: over tornado's limit would be answered by tornado with a bare 400 instead of our 413.
UNLIMITED = 2**62


class APIError(CRMError):
    """HTTP-level refusals that are not library errors (bad JSON, size, method, CSRF)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code
        self.headers = headers or {}
        self.field = field

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        if self.field is not None:
            data["field"] = self.field
        return data


@tornado.web.stream_request_body
class APIHandler(JSONHandler):
    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, runtime: Runtime, routes: dict[str, Route]) -> None:
        self.runtime = runtime
        self.routes = routes
        self._body = bytearray()
        self._limit = runtime.settings.max_body_kb * 1024

    # -- before the method ----------------------------------------------------------------------
    def _bearer(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def check_xsrf_cookie(self) -> None:
        """Tornado calls this before the body has streamed in: a refusal then would close the
        connection with the body unread, and the client would see a reset instead of our 403.
        :meth:`_check_csrf` runs in :meth:`_dispatch` instead, once the body is in."""

    def _check_csrf(self) -> None:
        """CSRF applies to cookie-authenticated writes only: a bearer token cannot be sent by a
        hostile page, and a request without our cookie is refused as unauthenticated anyway."""
        if self.request.method not in UNSAFE:
            return
        if self._bearer() or not self.get_cookie(SESSION_COOKIE):
            return
        try:
            super().check_xsrf_cookie()
        except tornado.web.HTTPError:
            raise APIError(
                403,
                "csrf",
                "Missing or wrong CSRF token: send the X-XSRFToken header with the value of the "
                "_xsrf cookie (GET /api/me returns it as csrf_token)",
            ) from None

    def _cors(self) -> None:
        origin = self.request.headers.get("Origin")
        if origin and origin.rstrip("/") in self.runtime.settings.cors_origins:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
            self.set_header("Access-Control-Allow-Credentials", "true")
            self.set_header(
                "Access-Control-Allow-Headers", "Authorization, Content-Type, X-XSRFToken"
            )
            self.set_header("Access-Control-Allow-Methods", ", ".join(self._allowed_methods()))
            self.set_header("Access-Control-Max-Age", "600")

    def _allowed_methods(self) -> list[str]:
        return sorted({*self.routes, "OPTIONS"})

    def options(self, *args: str) -> None:
        self._cors()
        self.set_header("Allow", ", ".join(self._allowed_methods()))
        self.set_status(204)
        self.finish()

    def _too_large(self) -> APIError:
        return APIError(
            413,
            "too_large",
            f"Request body is over the {self._limit // 1024} KiB limit",
            field="body",
            # the rest of the body is never read: the connection cannot carry another request
            headers={"Connection": "close"},
        )

    def prepare(self) -> None:
        """Runs once the headers are in, before any of the body is read (streaming): a body
        declared over the limit is refused at once, without reading it."""
        if self.request.method == "OPTIONS":
            return
        self._cors()
        connection = self.request.connection
        if connection is not None and hasattr(connection, "set_max_body_size"):
            connection.set_max_body_size(UNLIMITED)  # data_received enforces ours
        length = self.request.headers.get("Content-Length")
        declared = int(length) if length and length.isascii() and length.isdigit() else 0
        if declared > self._limit:
            raise self._too_large()

    def data_received(self, chunk: bytes) -> None:
        """Collect the body; past the limit answer 413 at once (the connection then closes, so
        the rest is never read) instead of buffering whatever a client keeps sending."""
        if self._finished:
            return
        if len(self._body) + len(chunk) > self._limit:
            self._body.clear()
            refusal = self._too_large()
            self.log_exception(APIError, refusal, None)
            self.send_error(refusal.http_status, exc_info=(APIError, refusal, None))
            return
        self._body += chunk

    def on_connection_close(self) -> None:
        self._body.clear()
        super().on_connection_close()

    # -- the methods ----------------------------------------------------------------------------
    async def get(self, *args: str) -> None:
        await self._dispatch(args)

    async def post(self, *args: str) -> None:
        await self._dispatch(args)

    async def put(self, *args: str) -> None:
        await self._dispatch(args)

    async def patch(self, *args: str) -> None:
        await self._dispatch(args)

    async def delete(self, *args: str) -> None:
        await self._dispatch(args)

    async def _dispatch(self, args: tuple[str, ...]) -> None:
        route = self.routes.get(self.request.method or "")
        if route is None:
            allow = ", ".join(self._allowed_methods())
            raise APIError(
                405,
                "method_not_allowed",
                f"{self.request.method} is not supported here; use {allow}",
                headers={"Allow": allow},
            )
        self.request.body = bytes(self._body)
        self._body.clear()
        self._check_csrf()
        bearer = self._bearer()
        session_token = None if bearer else read_session_token(self, self.runtime.secret_key)
        request = {
            "ip": self.request.remote_ip or "unknown",
            "user_agent": self.request.headers.get("User-Agent", ""),
            "query": _query(self.request.query_arguments),
            "path_args": _path_ids(route, args),
            # only cookie clients need one; minting it per bearer request would waste work
            "csrf_token": "" if bearer else self.xsrf_token.decode(),
        }
        if route.slow or (route.method in UNSAFE and self._writes_busy()):
            # a write behind someone else's long change waits on a worker thread, never on the
            # loop that serves every page and request
            reply = await run_blocking(self._run, route, bearer, session_token, request)
        elif route.page:
            # a page cut from a remembered list is answered here; one that needs a scan of
            # every investor (a new filter) runs on a read thread (crm_lib.grid.ordered_ids)
            try:
                with without_scans():
                    reply = self._run(route, bearer, session_token, request)
            except ScanNeeded:
                reply = await run_read(self._run, route, bearer, session_token, request)
        else:
            # A read or a one-record write takes a millisecond or two: running it on the loop
            # thread saves the hand-over to a worker and back, as the Panel pages' edits do
            # (measured at 8 clients: GET one p95 30 -> 12 ms, PATCH p95 30 -> 19 ms).
            reply = self._run(route, bearer, session_token, request)
        self._send(route, reply)

    def _writes_busy(self) -> bool:
        with self.runtime.context("system:api") as ctx:
            return services.writes_busy(ctx)

    def _parse_body(self, route: Route) -> pydantic.BaseModel | None:
        if route.body is None:
            return None
        media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            # A cross-site HTML form can only send form or text/plain bodies: insisting on JSON
            # closes that door (login CSRF included) on top of the XSRF token.
            raise APIError(
                415,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json",
            )
        try:
            data = json.loads(self.request.body or b"null")
        except RecursionError:
            raise ValidationError(
                f"body: nests deeper than {MAX_JSON_DEPTH} levels", field="body"
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise APIError(400, "bad_json", f"Request body is not valid JSON: {exc}") from None
        check_document(data)  # depth, 64-bit integers, NaN/Infinity, unpaired surrogates
        try:
            return route.body.model_validate(data)
        except pydantic.ValidationError as exc:
            raise _invalid(exc) from None

    def _run(
        self,
        route: Route,
        bearer: str | None,
        session_token: str | None,
        request: dict[str, Any],
    ) -> Any:
        """Authenticate, check the role, rate-limit writes, validate, call the route (on the loop
        thread, or a worker thread for slow routes: it only reads the request)."""
        with self.runtime.context("system:api") as ctx:
            user: dict[str, Any] | None = None
            session_id = None
            if bearer:
                user = services.authenticate_api_token(ctx, bearer)
            elif session_token:
                try:
                    found = services.authenticate_session(ctx, session_token)
                    user, session_id = found.user, found.session_id
                except NotAuthenticated:
                    if route.action is not PUBLIC:
                        raise
                    session_token = None
            if route.action is not PUBLIC:
                if user is None:
                    raise NotAuthenticated()
                if not allowed(user["role"], route.action):
                    raise denial(route.action)
            if route.method in UNSAFE:
                key = f"user:{user['id']}" if user else f"ip:{request['ip']}"
                self.runtime.write_limiter.take(key)
            _check_query(route, request["query"])
            body = self._parse_body(route)  # after authentication: strangers learn nothing
            call = Call(
                ctx=ctx.as_user(user) if user else ctx.as_actor("anonymous"),
                runtime=self.runtime,
                path_args=request["path_args"],
                query=request["query"],
                body=body,
                ip=request["ip"],
                user_agent=request["user_agent"],
                session_token=session_token,
                session_id=session_id,
                csrf_token=request["csrf_token"],
            )
            return route.handler(call)

    def _send(self, route: Route, result: Any) -> None:
        reply = result if isinstance(result, Reply) else Reply(payload=result, status=route.status)
        for name, value in reply.headers.items():
            self.set_header(name, value)
        if reply.set_session:
            set_session_cookie(
                self, reply.set_session, self.runtime.settings, self.runtime.secret_key
            )
        if reply.clear_session:
            clear_session_cookie(self, self.runtime.settings)
        self.set_status(reply.status)
        if reply.status == 204:
            self.finish()
        elif reply.text is not None:
            self.finish(reply.text)
        elif reply.body is not None:
            self.finish(reply.body)
        else:
            self.finish(json.dumps(reply.payload, default=str))

    # -- errors ---------------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = as_library_error(exc_info[1] if isinstance(exc_info, tuple) else None)
        if isinstance(exc, CRMError):
            for name, value in getattr(exc, "headers", {}).items():
                self.set_header(name, value)
            if isinstance(exc, RateLimited):
                self.set_header("Retry-After", str(exc.retry_after))
            if isinstance(exc, NotAuthenticated):
                self.set_header("WWW-Authenticate", 'Bearer realm="Venture CRM"')
            self.set_status(exc.http_status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(error_body(self.get_status(), exc, self._reason), default=str))


def _query(arguments: dict[str, list[bytes]]) -> dict[str, str]:
    """The query string as text, the last value of each name, or a 422 naming the parameter
    that is not UTF-8 (tornado would answer a bare 400). Tornado hands names over decoded as
    Latin-1: they are re-read as UTF-8, so a filter on the label "Région" finds its field."""
    query = {}
    for raw_name, values in arguments.items():
        try:
            name = raw_name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            raise ValidationError(
                f"Query parameter {raw_name[:40]!r} is not UTF-8 text", field="query"
            ) from None
        try:
            query[name] = values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                f"Query parameter {name!r} is not UTF-8 text (an encoded surrogate?)", field=name
            ) from None
    return query


def _path_ids(route: Route, args: tuple[str, ...]) -> dict[str, int]:
    """Path ids as ints; one past the documented maximum is a 422 naming it (the URL pattern
    takes any digits, so the error can say what is wrong instead of "no such route")."""
    ids = {}
    for name, text in zip(route.path_params, args, strict=True):
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(MAX_PATH_ID)) or int(digits) > MAX_PATH_ID:
            raise ValidationError(
                f"{name} must be a whole number from 1 to {MAX_PATH_ID}, not {text[:40]}",
                field=name,
            )
        ids[name] = int(digits)
    return ids


def _check_query(route: Route, query: dict[str, str]) -> None:
    """Declared query parameters must match their schema (enum, integer range, length); the
    investor list's free-form filter parameters are checked by the field types instead."""
    for param in route.query:
        value = query.get(param.name)
        if value is None:
            continue
        schema = param.schema
        problem = None
        if "enum" in schema and value not in schema["enum"]:
            problem = f"must be one of {', '.join(schema['enum'])}"
        elif schema.get("type") == "integer":
            if not re.fullmatch(r"-?[0-9]{1,19}", value):  # ASCII digits: "³".isdigit() is True
                problem = "must be a whole number"
            elif not schema.get("minimum", -(2**63)) <= int(value) <= schema.get("maximum", 2**63):
                problem = f"must be between {schema.get('minimum')} and {schema.get('maximum')}"
        elif len(value) > schema.get("maxLength", 10_000):
            problem = f"must be at most {schema['maxLength']} characters"
        if problem:
            raise ValidationError(
                f"Query parameter {param.name!r} {problem}, not {value[:40]!r}", field=param.name
            )


def _invalid(exc: pydantic.ValidationError) -> CRMError:
    """pydantic's problems as our 422 shape: each names its place in the body (up to three)."""
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        message = (
            "unknown field (not allowed here)"
            if error["type"] == "extra_forbidden"
            else error["msg"]
        )
        problems.append((where, message))
    detail = "; ".join(f"{where}: {message}" for where, message in problems)
    return ValidationError(detail, field=problems[0][0])
