"""Password hashing and policy."""

from __future__ import annotations

import time

import pytest
from argon2 import profiles

from crm_lib.auth import passwords
from crm_lib.config import Settings
from crm_lib.errors import ValidationError

CHEAP = profiles.CHEAPEST


def test_default_hashing_is_argon2id_with_rfc9106_recommended_parameters(tmp_path) -> None:
    stored = passwords.hash_password("a long passphrase here", Settings(tmp_path).password_hashing)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_hash_verifies_only_the_same_password_and_is_salted() -> None:
    first = passwords.hash_password("correct horse battery", CHEAP)
    second = passwords.hash_password("correct horse battery", CHEAP)
    assert first != second
    assert passwords.verify_password(first, "correct horse battery", CHEAP)
    assert not passwords.verify_password(first, "correct horse batterY", CHEAP)
    assert not passwords.verify_password("not a hash", "correct horse battery", CHEAP)


def test_missing_hash_is_refused_after_the_same_work_as_a_real_one() -> None:
    params = profiles.RFC_9106_LOW_MEMORY
    stored = passwords.hash_password("correct horse battery", params)
    started = time.perf_counter()
    assert not passwords.verify_password(stored, "wrong password value", params)
    real = time.perf_counter() - started
    passwords.verify_password(None, "warm the dummy hash", params)
    started = time.perf_counter()
    assert not passwords.verify_password(None, "wrong password value", params)
    dummy = time.perf_counter() - started
    # A missing account costs a full argon2 verification too (a skipped one would take ~0 s).
    assert dummy > real * 0.3


def test_hash_made_with_old_parameters_needs_rehash() -> None:
    stored = passwords.hash_password("correct horse battery", CHEAP)
    assert passwords.needs_rehash(stored, profiles.RFC_9106_LOW_MEMORY)
    assert not passwords.needs_rehash(stored, CHEAP)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "at least 12 characters (this one has 9)"),
        ("x" * 1025, "at most 1024 characters"),
        ("password1234", "commonly used passwords"),
        ("PASSWORD1234", "commonly used passwords"),
        ("qwerty123456", "commonly used passwords"),
        ("qwertyuiopas", "too easy to guess. This is similar to a commonly used password."),
        ("mustang12345", "too easy to guess"),
        ("abcdefghijkl", 'too easy to guess. Sequences like "abc"'),
        ("alice.liddell@fund.example", "your email address or name"),
        ("alice.liddell", "your email address or name"),
        ("Alice Liddell Jr", "your email address or name"),
    ],
)
def test_policy_names_the_rule_broken(password: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        passwords.check_policy(
            password, email="alice.liddell@fund.example", name="Alice Liddell Jr"
        )
    assert message in caught.value.message
    assert caught.value.field == "password"


def test_policy_accepts_a_long_uncommon_passphrase() -> None:
    passwords.check_policy("tangerine orbit mosaic", email="a@b.example", name="Ann")
