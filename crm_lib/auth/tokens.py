"""Random bearer secrets (session, invite and API tokens) and how they are stored.

A token is 32 random bytes (256 bits) from :mod:`secrets`, URL-safe base64. Only its SHA-256
digest is stored: the digest of a random 256-bit value cannot be reversed, so a copy of the
database (a backup, a stolen laptop) holds no usable login. A plain hash (no salt, no slow KDF)
is right here because the input is random, not a human-chosen password; it also lets the lookup
be an indexed equality match.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
#: Prefix of personal API tokens, so secret scanners and people recognise a leaked one.
API_TOKEN_PREFIX = "crm_"


def new_token(prefix: str = "") -> str:
    """A fresh random token (256 bits)."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored and looked up: the SHA-256 hex digest of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keyed_digest(key: str, purpose: str, value: str) -> str:
    """An HMAC-SHA256 of ``value`` for ``purpose`` under the server's secret key.

    Used for values the server must be able to recompute but nobody else may forge, such as the
    CSRF token derived from a session.
    """
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())
