"""The HTML pages around login: /login, /logout and /invite/<token> (setup, invite, reset).

Plain tornado handlers with Jinja templates (no CDN assets, no JavaScript needed). Forms carry
tornado's XSRF token. Every message comes from the library's errors, so a wrong password, an
expired link or a weak password reads the same here as in the API.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2
import tornado.web

from apps.auth.cookies import clear_session_cookie, read_session_token, set_session_cookie
from apps.auth.provider import session_from_request
from apps.runtime import Runtime, run_blocking
from apps.theme import auth_css
from crm_lib import services
from crm_lib.errors import NotAuthenticated, RateLimited, ValidationError
from crm_lib.limits import max_length

log = logging.getLogger(__name__)

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
)
#: The forms' ``maxlength`` attributes, from the one table the services enforce.
TEMPLATES.globals["max_length"] = max_length
#: The design tokens (apps/theme/tokens.css), inlined: these pages' policy allows no stylesheet
#: files, and they look like the rest of the app.
TEMPLATES.globals["theme_css"] = auth_css()


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``/grid?x=1`` passes; ``//evil.example``, ``https://...`` do not."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class PageHandler(tornado.web.RequestHandler):
    """Base of the login pages: the runtime, templates, no caching, client IP."""

    def initialize(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'",
        )

    def render_page(self, template: str, status: int = 200, **values: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        html = TEMPLATES.get_template(template).render(
            xsrf_form_html=self.xsrf_form_html(), **values
        )
        self.finish(html)

    @property
    def client_ip(self) -> str:
        return self.request.remote_ip or "unknown"

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = (
            "Something went wrong on our side; try again" if status_code >= 500 else self._reason
        )
        self.render_page("error.html", status=status_code, title="Sorry", error=reason)


class LoginHandler(PageHandler):
    def get(self) -> None:
        if session_from_request(self.runtime, self) is not None:
            self.redirect(safe_next(self.get_argument("next", "/")))
            return
        self.render_page(
            "login.html",
            title="Log in",
            next=safe_next(self.get_argument("next", "/")),
            email="",
            error="",
            notice=self.get_argument("notice", ""),
        )

    async def post(self) -> None:
        email = self.get_argument("email", "")
        target = safe_next(self.get_argument("next", "/"))
        password = self.get_argument("password", "")
        user_agent = self.request.headers.get("User-Agent", "")

        def check() -> services.Login:  # argon2 takes ~0.4 s: off the event loop
            with self.runtime.context("system:login") as ctx:
                return services.login(
                    ctx,
                    email,
                    password,
                    ip=self.client_ip,
                    user_agent=user_agent,
                    throttle=self.runtime.throttle,
                )

        try:
            result = await run_blocking(check)
        except (NotAuthenticated, RateLimited) as exc:
            status = 429 if isinstance(exc, RateLimited) else 401
            if isinstance(exc, RateLimited):
                self.set_header("Retry-After", str(exc.retry_after))
            self.render_page(
                "login.html",
                status=status,
                title="Log in",
                next=target,
                email=email,
                error=exc.message,
                notice="",
            )
            return
        set_session_cookie(self, result.token, self.runtime.settings, self.runtime.secret_key)
        self.redirect(target)


class LogoutHandler(PageHandler):
    """GET shows a confirmation (so a link cannot log anyone out); POST ends the session."""

    def get(self) -> None:
        logged_in = session_from_request(self.runtime, self) is not None
        self.render_page("logout.html", title="Log out", logged_in=logged_in)

    def post(self) -> None:
        token = read_session_token(self, self.runtime.secret_key)
        with self.runtime.context("system:logout") as ctx:
            services.logout(ctx, token)
        clear_session_cookie(self, self.runtime.settings)
        self.redirect("/login?notice=You+are+logged+out.")


class InviteHandler(PageHandler):
    """One page for the three one-time links: first admin, invitation, password reset."""

    def _link(self, token: str) -> dict[str, Any] | None:
        """The link's details, or None after rendering why it cannot be used (410)."""
        with self.runtime.context("system:invite") as ctx:
            try:
                return services.inspect_link(ctx, token)
            except ValidationError as exc:
                self.render_page(
                    "invite.html", status=410, title="Link not usable", problem=exc.message
                )
                return None

    def get(self, token: str) -> None:
        link = self._link(token)
        if link is not None:
            self.render_page(
                "invite.html",
                title=_title(link),
                link=link,
                problem="",
                error="",
                email="",
                name="",
            )

    async def post(self, token: str) -> None:
        link = self._link(token)
        if link is None:
            return
        password = self.get_argument("password", "")
        email = self.get_argument("email", "")
        name = self.get_argument("name", "")
        confirm = self.get_argument("confirm", "")
        user_agent = self.request.headers.get("User-Agent", "")

        def accept() -> services.Login:  # two argon2 runs: off the event loop
            if password != confirm:
                raise ValidationError("The two passwords differ", field="confirm")
            with self.runtime.context("system:invite") as ctx:
                user = services.accept_link(
                    ctx.as_actor(f"invite:{link['email'] or email}"),
                    token,
                    password=password,
                    name=name,
                    email=email or None,
                )
                return services.login(
                    ctx, user["email"], password, ip=self.client_ip, user_agent=user_agent
                )

        try:
            result = await run_blocking(accept)
        except ValidationError as exc:
            self.render_page(
                "invite.html",
                status=422,
                title=_title(link),
                link=link,
                problem="",
                error=exc.message,
                email=email,
                name=name,
            )
            return
        set_session_cookie(self, result.token, self.runtime.settings, self.runtime.secret_key)
        self.redirect("/")


def _title(link: dict[str, Any]) -> str:
    return {"setup": "Set up Venture CRM", "reset": "Reset your password"}.get(
        link["kind"], "Join Venture CRM"
    )


def routes(runtime: Runtime) -> list[tuple]:
    """Tornado routes for the login pages."""
    args = {"runtime": runtime}
    return [
        (r"/login", LoginHandler, args),
        (r"/logout", LogoutHandler, args),
        (r"/invite/([A-Za-z0-9_\-]{20,100})", InviteHandler, args),
    ]
