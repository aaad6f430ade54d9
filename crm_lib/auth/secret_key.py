"""The server's secret key: what signs session cookies and derives CSRF tokens.

In production the key must come from ``CRM_SECRET_KEY`` and be strong; the server refuses to start
otherwise and says how to make one. In development an unset key is generated once and kept in
``<data dir>/secret_key`` (mode 0600), so logins survive restarts without any setup.
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter

from crm_lib.config import Settings
from crm_lib.errors import ConfigError

MIN_LENGTH = 32
#: Estimated bits of randomness required (a ``token_urlsafe(32)`` key has about 190 by this measure).
MIN_ENTROPY_BITS = 128
MAKE_ONE = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


def estimated_entropy_bits(key: str) -> float:
    """Length times the Shannon entropy of the key's own characters: low for repeats and short words."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def weakness(key: str) -> str | None:
    """Why ``key`` is not a strong secret, or None when it is."""
    if not key:
        return "CRM_SECRET_KEY is not set"
    if len(key) < MIN_LENGTH:
        return f"CRM_SECRET_KEY is too short ({len(key)} characters; at least {MIN_LENGTH})"
    if estimated_entropy_bits(key) < MIN_ENTROPY_BITS:
        return "CRM_SECRET_KEY is not random enough (it repeats characters or reads like words)"
    return None


def resolve_secret_key(settings: Settings) -> str:
    """The key to use, or :class:`ConfigError` (production with a missing or weak key).

    The message names the problem and the command that makes a good key; it never echoes the key.
    """
    problem = weakness(settings.secret_key)
    if settings.production:
        if problem:
            raise ConfigError(
                f"{problem}. CRM_ENV=production needs a strong random key: run\n    {MAKE_ONE}\n"
                "and set CRM_SECRET_KEY to its output (keep it out of version control)."
            )
        return settings.secret_key
    if settings.secret_key:
        return settings.secret_key
    return _development_key(settings)


def _development_key(settings: Settings) -> str:
    path = settings.secret_key_file
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
