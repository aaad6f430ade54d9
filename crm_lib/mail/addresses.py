"""Email addresses as the matcher compares them, and what an address says about its sender.

Two spellings of one mailbox must match: case never matters; ``googlemail.com`` is
``gmail.com``; Gmail ignores dots in the local part and anything after a ``+``. Other providers
keep dots significant, so only Gmail addresses are folded that far (``+tags`` are dropped for
every domain: sub-addressing is a convention of nearly every mail server, and a person who
writes from ``jane+crm@lp.com`` is Jane).

Public mail domains (gmail.com, outlook.com, ...) never identify an investor by domain, and
role or no-reply addresses are never a person.
"""

from __future__ import annotations

import re

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
#: Domains anyone can get an address at: never evidence that mail is from an organisation.
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "yandex.com",
        "yandex.ru",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "t-online.de",
        "libero.it",
        "btinternet.com",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)
#: Local parts of shared or automatic mailboxes: never a person to link or propose.
ROLE_LOCAL_PARTS = frozenset(
    {
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "mailer-daemon",
        "postmaster",
        "bounce",
        "bounces",
        "notifications",
        "notification",
        "alerts",
        "newsletter",
        "news",
        "marketing",
        "info",
        "hello",
        "contact",
        "support",
        "help",
        "admin",
        "billing",
        "invoices",
        "accounts",
        "team",
        "office",
        "sales",
        "press",
        "jobs",
        "careers",
        "hr",
        "calendar",
        "calendar-notification",
        "reply",
        "updates",
    }
)
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def canonical(address: str) -> str | None:
    """The form two spellings of one mailbox share, or None if ``address`` is not one."""
    address = address.strip().strip("<>").casefold()
    if not _ADDRESS.match(address):
        return None
    local, _, domain = address.rpartition("@")
    domain = domain.rstrip(".")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else None


def domain_of(address: str) -> str:
    """The domain of an address (lower case, ``googlemail.com`` read as ``gmail.com``)."""
    domain = address.strip().strip("<>").casefold().rpartition("@")[2].rstrip(".")
    return "gmail.com" if domain in GMAIL_DOMAINS else domain


def is_public_domain(domain: str) -> bool:
    return domain.casefold() in PUBLIC_DOMAINS


def is_role_address(address: str) -> bool:
    """A shared or automatic mailbox (``noreply@``, ``info@``, ``notifications@`` ...)."""
    local = address.strip().casefold().rpartition("@")[0].split("+", 1)[0]
    return local in ROLE_LOCAL_PARTS or local.startswith(("noreply", "no-reply", "bounce"))


def website_domain(website: str | None) -> str | None:
    """The domain of an investor's website ("https://www.acme.example/about" -> acme.example),
    None for blanks and public mail domains."""
    if not website:
        return None
    host = re.sub(r"^[a-z]+://", "", website.strip().casefold()).split("/", 1)[0]
    host = host.split(":", 1)[0].removeprefix("www.")
    if "." not in host or is_public_domain(host):
        return None
    return host
