"""Password hashing (argon2id) and the password policy.

Hashes use argon2-cffi with RFC 9106's recommended low-memory profile (64 MiB, 3 passes,
4 lanes) unless the settings inject another profile (tests inject a cheap one). A hash made with
older parameters still verifies and is upgraded at the next successful login.

The policy: at least 12 characters, at most 1,024 (argon2 would hash more, but a megabyte
"password" is an attack), not one of the 30,000 most common passwords (zxcvbn's list), not the
account's own email address or name, and not easy to guess by zxcvbn's estimate (score 3 of 4,
about 10^8 guesses: keyboard walks, repeats and common words with digits fail; a passphrase of
three uncommon words passes). The message says which rule failed and, from zxcvbn, why.
"""

from __future__ import annotations

import dataclasses
import functools

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from crm_lib.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 1024
#: zxcvbn's score runs 0-4; 3 means "safely unguessable: moderate protection from offline attack".
MIN_SCORE = 3


_HASHERS: dict[tuple, PasswordHasher] = {}
_DUMMY_HASHES: dict[tuple, str] = {}


def _key(parameters: Parameters) -> tuple:
    return dataclasses.astuple(parameters)


def _hasher(parameters: Parameters) -> PasswordHasher:
    key = _key(parameters)
    if key not in _HASHERS:
        _HASHERS[key] = PasswordHasher.from_parameters(parameters)
    return _HASHERS[key]


@functools.cache
def _common_passwords() -> frozenset[str]:
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def _dummy_hash(parameters: Parameters) -> str:
    key = _key(parameters)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = _hasher(parameters).hash("not a real password, only for timing")
    return _DUMMY_HASHES[key]


def check_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Raise :class:`ValidationError` (field ``password``) naming the rule a password breaks."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            f"Password must be at least {MIN_LENGTH} characters (this one has {len(password)})",
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"Password must be at most {MAX_LENGTH} characters", field="password")
    folded = password.strip().lower()
    if folded in _common_passwords():
        raise ValidationError(
            "That password is on the list of commonly used passwords; choose another",
            field="password",
        )
    personal = {email.strip().lower(), email.split("@")[0].strip().lower(), name.strip().lower()}
    if folded in personal - {""}:
        raise ValidationError("Password must not be your email address or name", field="password")
    estimate = zxcvbn(password, user_inputs=[x for x in (email, name) if x])
    if estimate["score"] < MIN_SCORE:
        why = estimate["feedback"].get("warning") or "It follows a pattern that is quick to guess."
        raise ValidationError(
            f"That password is too easy to guess. {why} Try three or four uncommon words.",
            field="password",
        )


def hash_password(password: str, parameters: Parameters) -> str:
    """An argon2id hash (with its own random salt and parameters) for storage."""
    return _hasher(parameters).hash(password)


def verify_password(stored_hash: str | None, password: str, parameters: Parameters) -> bool:
    """True when ``password`` matches ``stored_hash``.

    With no stored hash (unknown account, or one that never set a password) a dummy hash is
    verified anyway, so the answer takes the same time and cannot reveal whether the account exists.
    """
    hasher = _hasher(parameters)
    try:
        if stored_hash is None:
            hasher.verify(_dummy_hash(parameters), password + "\0")
            return False
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, parameters: Parameters) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    try:
        return _hasher(parameters).check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
