"""SMTP delivery with the standard library's ``smtplib``: STARTTLS (port 587), implicit TLS
(465) or, for a relay on this machine only, none. Certificates are verified against the
system's CAs unless a test passes its own ``ssl.SSLContext``. The password is never logged or
put in an error message."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

from crm_lib.config import Settings
from crm_lib.errors import ExternalServiceError

SERVICE = "smtp"


@dataclass(frozen=True)
class SMTPTransport:
    """Where and how to hand mail to an SMTP server."""

    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    timeout_s: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    name = "smtp"

    @classmethod
    def from_settings(cls, settings: Settings) -> SMTPTransport | None:
        """The configured server, or None when ``CRM_SMTP_HOST`` is unset."""
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_from,
        )

    def send(self, message: EmailMessage) -> str:
        """Deliver ``message``; returns a short description (server and port)."""
        context = self.ssl_context or ssl.create_default_context()
        try:
            if self.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout_s, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with client:
                client.ehlo()
                if self.security == "starttls":
                    client.starttls(context=context)
                    client.ehlo()
                if self.user:
                    client.login(self.user, self.password)
                refused = client.send_message(message)
        except smtplib.SMTPAuthenticationError:
            raise ExternalServiceError(
                SERVICE,
                f"{self.host} refused the login of {self.user!r}: check CRM_SMTP_USER"
                " and CRM_SMTP_PASSWORD",
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise ExternalServiceError(
                SERVICE, f"{self.host} does not offer STARTTLS: set CRM_SMTP_SECURITY"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ExternalServiceError(
                SERVICE, f"{self.host} refused every recipient ({', '.join(exc.recipients)})"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise ExternalServiceError(
                SERVICE, f"{self.host} answered {exc.smtp_code}: {_text(exc.smtp_error)}"
            ) from None
        except ssl.SSLError as exc:
            raise ExternalServiceError(
                SERVICE, f"TLS with {self.host}:{self.port} failed ({exc.reason})"
            ) from None
        except TimeoutError:
            raise ExternalServiceError(
                SERVICE, f"{self.host}:{self.port} did not answer in {self.timeout_s:g} s"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ExternalServiceError(
                SERVICE, f"could not send through {self.host}:{self.port} ({type(exc).__name__})"
            ) from None
        if refused:
            raise ExternalServiceError(SERVICE, f"{self.host} refused {', '.join(sorted(refused))}")
        return f"{self.host}:{self.port}"


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())[:200]
