"""The one tornado handler class behind every API path: authentication (session cookie or
``Authorization: Bearer``), CSRF for cookie-authenticated writes, CORS, body size, write rate
limits, JSON in and out, and the one error shape. Route handlers run in a worker thread, each with
its own database connection, so a slow call (argon2 at login, an export) never stalls the server.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pydantic
import tornado.web

from apps.api.calls import Call, Reply
from apps.api.errors import JSONHandler, error_body
from apps.api.registry import PUBLIC, Route
from apps.auth.cookies import (
    SESSION_COOKIE,
    clear_session_cookie,
    read_session_token,
    set_session_cookie,
)
from apps.runtime import Runtime, run_blocking
from crm_lib import services
from crm_lib.auth.permissions import allowed, denial
from crm_lib.errors import (
    CRMError,
    NotAuthenticated,
    RateLimited,
    ValidationError,
)

log = logging.getLogger(__name__)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class APIError(CRMError):
    """HTTP-level refusals that are not library errors (bad JSON, size, method, CSRF)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code
        self.headers = headers or {}


class APIHandler(JSONHandler):
    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, runtime: Runtime, routes: dict[str, Route]) -> None:
        self.runtime = runtime
        self.routes = routes

    # -- before the method ----------------------------------------------------------------------
    def _bearer(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def check_xsrf_cookie(self) -> None:
        """CSRF applies to cookie-authenticated writes only: a bearer token cannot be sent by a
        hostile page, and a request without our cookie is refused as unauthenticated anyway."""
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

    def prepare(self) -> None:
        if self.request.method == "OPTIONS":
            return
        self._cors()
        limit = self.runtime.settings.max_body_kb * 1024
        length = self.request.headers.get("Content-Length")
        declared = int(length) if length and length.isascii() and length.isdigit() else 0
        if declared > limit or len(self.request.body) > limit:
            raise APIError(413, "too_large", f"Request body is over the {limit // 1024} KiB limit")

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
        bearer = self._bearer()
        session_token = None if bearer else read_session_token(self, self.runtime.secret_key)
        request = {
            "ip": self.request.remote_ip or "unknown",
            "user_agent": self.request.headers.get("User-Agent", ""),
            "query": {k: self.get_query_argument(k) for k in self.request.query_arguments},
            "path_args": {n: int(a) for n, a in zip(route.path_params, args, strict=True)},
            # only cookie clients need one; minting it per bearer request would waste work
            "csrf_token": "" if bearer else self.xsrf_token.decode(),
        }
        if route.slow:
            reply = await run_blocking(self._run, route, bearer, session_token, request)
        else:
            # A read or a one-record write takes a millisecond or two: running it on the loop
            # thread saves the hand-over to a worker and back, as the Panel pages' edits do
            # (measured at 8 clients: GET one p95 30 -> 12 ms, PATCH p95 30 -> 19 ms).
            reply = self._run(route, bearer, session_token, request)
        self._send(route, reply)

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
        except (ValueError, UnicodeDecodeError) as exc:
            raise APIError(400, "bad_json", f"Request body is not valid JSON: {exc}") from None
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
        exc = exc_info[1] if isinstance(exc_info, tuple) else None
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
