"""Gmail through a Google Workspace service account with domain-wide delegation: read-only, one
mailbox at a time, first sync and incremental sync, as the mature syncs do it.

* **Client**: ``googleapiclient.discovery.build("gmail", "v1", static_discovery=True)`` from the
  discovery document shipped in the package (nothing is fetched at build time), credentials
  ``with_subject(<team member>)``, scope ``gmail.readonly``. Tests pass an ``http``
  (googleapiclient's ``HttpMockSequence``) instead of credentials.
* **First sync**: ``users.messages.list`` over a window (``after:<date>``), then the messages
  this mailbox does not hold yet fetched with ``users.messages.get(format="raw")`` in batches of
  at most 50 calls. The cursor (``history_id``) is set to the profile's history id taken *before*
  listing, and only when every message was fetched: a message that failed keeps the cursor where
  it was, so the next run fetches it again (the commonest cause of silently missing mail).
* **Incremental**: ``users.history.list`` from the stored cursor; added messages are fetched,
  deleted ones leave this mailbox (the message stays if another mailbox holds it). An expired
  cursor (404) starts a bounded full resync.
* **Errors**: 429 and 5xx are retried with exponential back-off and jitter, honouring
  ``Retry-After``; a mailbox still throttled is paused 1 min x 2^n, and marked failed with its
  reason after :data:`MAX_THROTTLES` pauses in a row. One message that cannot be fetched or read
  is recorded with its reason; the sync goes on.
* **Quota**: a per-mailbox budget of :data:`UNITS_PER_MINUTE` units, 80% of the 15,000 units
  Gmail allows per user per minute, spent before each call, at the costs of Gmail's quota table
  (``messages.get`` 5 units, ``messages.list`` 5, ``history.list`` 2, ``getProfile`` 1).
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from crm_lib.mail.ingest import RawMessage

SCOPES = ("https://www.googleapis.com/auth/gmail.readonly",)
BATCH = 50
LIST_PAGE = 500
UNITS_PER_MINUTE = 12_000
UNITS = {"get": 5, "list": 5, "history": 2, "profile": 1}
RETRIES = 5
MAX_THROTTLES = 5
#: A resync after an expired cursor looks back this many days (a first sync: the window).
RESYNC_DAYS = 30


class Throttled(Exception):
    """Gmail kept answering 429 after every retry: the mailbox is paused."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("Gmail is rate-limiting this mailbox (429)")
        self.retry_after = retry_after


class SyncFailed(Exception):
    """Gmail refused the mailbox (wrong key, no delegation, no such user): the reason is
    the message, worded for the admin page."""


def gmail_service(key_info: dict[str, Any] | None, subject: str, *, http: Any = None) -> Any:
    """The Gmail API client for ``subject``'s mailbox."""
    if http is not None:
        return build("gmail", "v1", http=http, static_discovery=True, cache_discovery=False)
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(
        key_info, scopes=list(SCOPES)
    ).with_subject(subject)
    return build(
        "gmail", "v1", credentials=credentials, static_discovery=True, cache_discovery=False
    )


@dataclass
class Budget:
    """Quota units a mailbox may spend per minute; waits when the minute's units are spent."""

    per_minute: int = UNITS_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _window_start: float = field(default=0.0)
    _spent: int = 0

    def spend(self, units: int) -> None:
        now = self.clock()
        if now - self._window_start >= 60:
            self._window_start, self._spent = now, 0
        if self._spent + units > self.per_minute:
            self.sleep(max(0.0, 60 - (now - self._window_start)))
            self._window_start, self._spent = self.clock(), 0
        self._spent += units


@dataclass
class Fetched:
    """What one sync pass read: the messages, and the ids that could not be fetched."""

    messages: list[RawMessage] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class GmailReader:
    """Reads one mailbox through an API client, with retries, back-off and the budget."""

    def __init__(
        self,
        service: Any,
        *,
        budget: Budget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.service = service
        self.budget = budget or Budget(sleep=sleep)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.users = service.users()

    def call(self, request: Any, units: int) -> Any:
        """Execute one request: 429 and 5xx retried with back-off, jitter and Retry-After."""
        self.budget.spend(units)
        for attempt in range(RETRIES + 1):
            try:
                return request.execute()
            except HttpError as error:
                status = error.resp.status
                if status not in (429, 500, 502, 503, 504) or attempt == RETRIES:
                    if status == 429:
                        raise Throttled(_retry_after(error)) from None
                    raise
                self.sleep(self._delay(attempt, _retry_after(error)))
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return min(60.0, 2**attempt) + self.rng.uniform(0, 1)

    def profile(self) -> dict[str, Any]:
        return self.call(self.users.getProfile(userId="me"), UNITS["profile"])

    def message_ids(self, after: datetime) -> Iterator[str]:
        """Every message id in the mailbox since ``after`` (newest first, as Gmail lists)."""
        query = f"after:{int(after.timestamp())}"
        token = None
        while True:
            page = self.call(
                self.users.messages().list(
                    userId="me",
                    q=query,
                    maxResults=LIST_PAGE,
                    pageToken=token,
                    includeSpamTrash=False,
                ),
                UNITS["list"],
            )
            for item in page.get("messages", []):
                yield item["id"]
            token = page.get("nextPageToken")
            if not token:
                return

    def history(self, start: str) -> tuple[list[str], list[str], str | None]:
        """(added ids, deleted ids, newest history id) since ``start``; raises HttpError 404
        when the cursor has expired."""
        added: list[str] = []
        deleted: list[str] = []
        newest: str | None = None
        token = None
        while True:
            page = self.call(
                self.users.history().list(
                    userId="me",
                    startHistoryId=start,
                    pageToken=token,
                    historyTypes=["messageAdded", "messageDeleted"],
                ),
                UNITS["history"],
            )
            for entry in page.get("history", []):
                added += [a["message"]["id"] for a in entry.get("messagesAdded", [])]
                deleted += [d["message"]["id"] for d in entry.get("messagesDeleted", [])]
            newest = page.get("historyId", newest)
            token = page.get("nextPageToken")
            if not token:
                return list(dict.fromkeys(added)), list(dict.fromkeys(deleted)), newest

    def fetch(self, ids: list[str]) -> Fetched:
        """The raw messages ``ids``, in batches of :data:`BATCH`; a failure is recorded per id.
        A batch answered 429 or 5xx as a whole is retried like a single call."""
        out = Fetched()
        answers: dict[str, Any] = {}

        def collect(request_id: str, response: Any, exception: Exception | None) -> None:
            answers[request_id] = exception if exception is not None else response

        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            answers.clear()
            pending = list(chunk)
            for attempt in range(RETRIES + 1):
                batch = self.service.new_batch_http_request(callback=collect)
                for gmail_id in pending:
                    batch.add(
                        self.users.messages().get(userId="me", id=gmail_id, format="raw"),
                        request_id=gmail_id,
                    )
                self.budget.spend(UNITS["get"] * len(pending))
                try:
                    batch.execute()
                except HttpError as error:
                    if error.resp.status not in (429, 500, 502, 503, 504) or attempt == RETRIES:
                        if error.resp.status == 429:
                            raise Throttled(_retry_after(error)) from None
                        raise
                    self.sleep(self._delay(attempt, _retry_after(error)))
                    continue
                retry = [
                    gid
                    for gid in pending
                    if isinstance(answers.get(gid), HttpError)
                    and answers[gid].resp.status in (429, 500, 502, 503, 504)
                ]
                if not retry or attempt == RETRIES:
                    break
                self.sleep(self._delay(attempt, None))
                pending = retry
            for gmail_id in chunk:
                answer = answers.get(gmail_id)
                if isinstance(answer, HttpError):
                    if answer.resp.status == 404:  # deleted since it was listed: nothing to keep
                        continue
                    out.failed.append((gmail_id, f"Gmail answered {answer.resp.status}"))
                elif isinstance(answer, Exception) or answer is None:
                    out.failed.append((gmail_id, "no answer from Gmail"))
                else:
                    try:
                        raw = base64.urlsafe_b64decode(
                            answer["raw"] + "=" * (-len(answer["raw"]) % 4)
                        )
                    except (KeyError, ValueError, TypeError):
                        out.failed.append((gmail_id, "Gmail sent no readable message"))
                        continue
                    out.messages.append(
                        RawMessage(
                            raw,
                            gmail_id,
                            gmail_id=gmail_id,
                            gmail_thread_id=answer.get("threadId"),
                            labels=tuple(answer.get("labelIds", ())),
                        )
                    )
        return out


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if hasattr(error.resp, "get") else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def reason_of(error: Exception) -> str:
    """An admin-readable reason for a failed sync (never a token or a message's content)."""
    if isinstance(error, HttpError):
        try:
            detail = json.loads(error.content.decode("utf-8"))["error"]["message"]
        except (ValueError, KeyError, TypeError, AttributeError):
            detail = ""
        status = error.resp.status
        hint = {
            400: "Gmail refused the request",
            401: "the key was refused: check the service account key",
            403: "no access: check domain-wide delegation and the gmail.readonly scope",
            404: "no such mailbox",
        }.get(status, f"Gmail answered {status}")
        return f"{hint}{f' ({detail})' if detail else ''}"
    if isinstance(error, Throttled):
        return str(error)
    return f"{type(error).__name__}: the connection to Gmail failed"


def pause_for(throttles: int) -> timedelta:
    """How long a throttled mailbox waits: 1 min x 2^n (n = pauses in a row before this one)."""
    return timedelta(minutes=2 ** max(0, throttles))
