"""Gmail delivery: ``users.messages.send`` (and ``users.drafts.create``, for automation
follow-ups a person then sends) as one team member, through the Workspace service
account of the email capture (domain-wide delegation). The fund's grant includes the
``gmail.compose`` scope (enough to send and to create drafts), not ``gmail.send``.

Tests pass ``http`` (googleapiclient's ``HttpMock``/``HttpMockSequence``); nothing is fetched at
build time (``static_discovery``). A refusal (403: no delegation for the scope, 400: bad
message) is raised as :class:`ExternalServiceError`, and the digest falls back to SMTP."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from google.auth.exceptions import GoogleAuthError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from crm_lib.errors import ExternalServiceError

SERVICE = "gmail"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"


def compose_service(key_info: dict[str, Any] | None, sender: str, *, http: Any = None) -> Any:
    """The Gmail API client acting as ``sender`` with the compose scope."""
    if http is not None:
        return build("gmail", "v1", http=http, static_discovery=True, cache_discovery=False)
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(
        key_info, scopes=[COMPOSE]
    ).with_subject(sender)
    return build(
        "gmail", "v1", credentials=credentials, static_discovery=True, cache_discovery=False
    )


@dataclass
class GmailTransport:
    """Sends as ``sender`` through an API client."""

    sender: str
    service: Any = field(repr=False)

    name = "gmail"

    def send(self, message: EmailMessage) -> str:
        raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
        request = self.service.users().messages().send(userId="me", body={"raw": raw})
        sent = _execute(request, f"Gmail refused to send as {self.sender}", self.sender)
        return f"Gmail as {self.sender} (id {sent.get('id', '?')})"


def _execute(request: Any, refused: str, sender: str) -> dict[str, Any]:
    """Run a Gmail API request, its failures as :class:`ExternalServiceError` (``refused``
    starts the message of an HTTP refusal)."""
    try:
        return request.execute(num_retries=2)
    except HttpError as exc:
        status = exc.resp.status if exc.resp is not None else 0
        hint = (
            ": add the gmail.compose scope to the service account's domain-wide delegation"
            if status in (401, 403)
            else ""
        )
        raise ExternalServiceError(SERVICE, f"{refused} (HTTP {status}){hint}") from None
    except (TimeoutError, OSError) as exc:
        raise ExternalServiceError(
            SERVICE, f"Gmail could not be reached ({type(exc).__name__})"
        ) from None
    except GoogleAuthError as exc:  # the key refused, or no delegation for the scope
        raise ExternalServiceError(
            SERVICE, f"Google refused the service account for {sender}: {exc}"
        ) from None


def create_draft(service: Any, sender: str, message: EmailMessage) -> str:
    """Put ``message`` in ``sender``'s Gmail drafts (``users.drafts.create``; the compose scope)
    and return the draft's id. Nothing is sent: a person reviews and sends it."""
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
    request = service.users().drafts().create(userId="me", body={"message": {"raw": raw}})
    made = _execute(request, f"Gmail refused a draft for {sender}", sender)
    return str(made.get("id", ""))
