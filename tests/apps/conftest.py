"""Page fixtures: a database with an admin (Alice) and a member (Bob) who can log in."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import profiles

import crm_lib
from apps.auth.provider import PageSession
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings

PASSWORD = "tangerine orbit mosaic"


@pytest.fixture
def settings_with_team(tmp_path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    for email, role in (("alice@fund.example", "admin"), ("bob@fund.example", "member")):
        link = services.invite_user(ctx, email, role)
        services.accept_link(ctx, link.token, name=email.split("@")[0].title(), password=PASSWORD)
    ctx.close()
    return settings


def session_of(runtime: Runtime, email: str) -> PageSession:
    """A logged-in session of ``email``, as the login page would make it."""
    with runtime.context() as ctx:
        login = services.login(ctx, email, PASSWORD, ip="127.0.0.1")
    return PageSession(token=login.token, session=runtime.authenticate(login.token))


class QueuedDocument:
    """A served page's document as far as the page uses it: callbacks wait until run."""

    session_context = True

    def __init__(self) -> None:
        self.callbacks: list = []

    def add_next_tick_callback(self, callback: object) -> None:
        self.callbacks.append(callback)

    def add_timeout_callback(self, callback: object, _ms: int) -> None:
        self.callbacks.append(callback)

    def run(self) -> None:
        while self.callbacks:
            self.callbacks.pop(0)()


def served(page: Any) -> QueuedDocument:
    """Make ``page`` act as served: its document queues callbacks (:class:`QueuedDocument`)."""
    document = QueuedDocument()
    page._document = document
    if "document" in vars(page):  # the grid keeps its own; other pages read _document
        page.document = document
    return document
