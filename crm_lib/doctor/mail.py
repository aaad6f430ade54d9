"""Mail by SMTP: encrypted unless the server is this machine, and a probe (connect, EHLO,
STARTTLS, login, QUIT) that sends nothing."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterable

from crm_lib.doctor.core import Finding, Setup, check
from crm_lib.doctor.network import is_loopback, trust_fix, unreachable_reason


def _smtp_probe(setup: Setup) -> list[Finding]:
    """Connect, EHLO, STARTTLS and log in to the configured server; send nothing."""
    settings = setup.settings
    host, port, security = settings.smtp_host, settings.smtp_port, settings.smtp_security
    where = f"{host}:{port}"
    context = setup.ssl_context or ssl.create_default_context()
    done = []
    try:
        client: smtplib.SMTP
        if security == "ssl":
            client = smtplib.SMTP_SSL(
                host, port, socket.gethostname(), timeout=setup.timeout_s, context=context
            )
            done.append("TLS")
        else:
            client = smtplib.SMTP(host, port, socket.gethostname(), timeout=setup.timeout_s)
        with client:
            client.ehlo()
            if security == "starttls":
                if not client.has_extn("starttls"):
                    return [
                        Finding(
                            "fail",
                            f"{where} does not offer STARTTLS (CRM_SMTP_SECURITY=starttls)",
                            "use the server's submission port 587, or CRM_SMTP_SECURITY=ssl "
                            "with port 465",
                        )
                    ]
                client.starttls(context=context)
                client.ehlo()
                done.append("STARTTLS")
            if settings.smtp_user:
                if not client.has_extn("auth"):
                    return [
                        Finding(
                            "fail",
                            f"{where} offers no login (AUTH) to {settings.smtp_user!r}",
                            "use the server's submission port, or unset CRM_SMTP_USER for a relay",
                        )
                    ]
                client.login(settings.smtp_user, settings.smtp_password)
                done.append(f"login as {settings.smtp_user!r}")
    except smtplib.SMTPAuthenticationError:
        return [
            Finding(
                "fail",
                f"{where} refused the login of {settings.smtp_user!r}",
                "check CRM_SMTP_USER and CRM_SMTP_PASSWORD",
            )
        ]
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        return [
            Finding(
                "fail",
                f"{where} answered {exc.smtp_code}: {' '.join(text.split())[:200]}",
                "check CRM_SMTP_HOST, CRM_SMTP_PORT and CRM_SMTP_SECURITY",
            )
        ]
    except (smtplib.SMTPException, OSError) as exc:
        reason = unreachable_reason(exc, setup.timeout_s)
        if isinstance(exc, ssl.SSLError) and "certificate" not in reason:
            reason = f"TLS failed ({exc.reason}); port 465 needs ssl, 587 starttls"
        return [
            Finding(
                "fail",
                f"{where} unreachable: {reason}",
                "check CRM_SMTP_HOST and CRM_SMTP_PORT, that the server runs and that a "
                "firewall lets this machine reach it" + trust_fix(reason),
            )
        ]
    steps = ", ".join(["EHLO", *done])
    return [Finding("ok", f"SMTP {where} accepts {steps} (nothing sent)")]


@check("mail")
def check_mail(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    if not settings.smtp_host:
        yield Finding("ok", "SMTP not configured (CRM_SMTP_HOST unset): the digest goes by Gmail")
        return
    if settings.smtp_security == "none" and not is_loopback(settings.smtp_host):
        yield Finding(
            "fail",
            f"CRM_SMTP_SECURITY=none to {settings.smtp_host}, which is not this machine: the "
            "digest (and the SMTP password) cross the network unencrypted",
            "set CRM_SMTP_SECURITY=starttls (port 587) or ssl (port 465)",
        )
    if settings.smtp_user and not settings.smtp_password:
        yield Finding(
            "warn",
            "CRM_SMTP_USER is set without CRM_SMTP_PASSWORD",
            "set CRM_SMTP_PASSWORD in the service's environment file",
        )
    yield from _smtp_probe(setup)
