"""The secret key: strong in production, generated once in development, never shown."""

from __future__ import annotations

import base64
import random
import re
import secrets
import stat
from pathlib import Path

import pytest

from crm_lib.auth.secret_key import (
    MIN_ENTROPY_BITS,
    estimated_entropy_bits,
    resolve_secret_key,
    weakness,
)
from crm_lib.config import Settings, load_settings
from crm_lib.errors import ConfigError


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "not set"),
        ("short-key", "too short"),
        ("a" * 64, "not random enough"),
        ("changeme" * 5, "not random enough"),
    ],
)
def test_production_refuses_a_missing_or_weak_key_and_says_how_to_make_one(
    tmp_path: Path, key: str, problem: str
) -> None:
    settings = load_settings({"CRM_ENV": "production", "CRM_SECRET_KEY": key}, data_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        resolve_secret_key(settings)
    assert problem in caught.value.message
    assert "secrets.token_urlsafe(48)" in caught.value.message
    if key:
        assert key not in caught.value.message


def test_production_accepts_a_generated_key(tmp_path: Path) -> None:
    key = secrets.token_urlsafe(48)
    settings = load_settings({"CRM_ENV": "production", "CRM_SECRET_KEY": key}, data_dir=tmp_path)
    assert weakness(key) is None
    assert resolve_secret_key(settings) == key
    assert key not in repr(settings)


def _generated(maker: str, rng: random.Random) -> str:
    """What ``secrets.<maker>`` returns, drawn from a seeded generator so a failure reproduces."""
    if maker == "token_urlsafe(48)":
        return base64.urlsafe_b64encode(rng.randbytes(48)).rstrip(b"=").decode()
    if maker == "token_urlsafe(64)":
        return base64.urlsafe_b64encode(rng.randbytes(64)).rstrip(b"=").decode()
    if maker == "token_hex(32)":
        return rng.randbytes(32).hex()
    if maker == "token_hex(32).upper()":
        return rng.randbytes(32).hex().upper()
    raise AssertionError(maker)


@pytest.mark.parametrize(
    "maker", ["token_urlsafe(48)", "token_urlsafe(64)", "token_hex(32)", "token_hex(32).upper()"]
)
def test_keys_from_the_documented_generators_always_pass(maker: str) -> None:
    rng = random.Random(f"secret-key-{maker}")
    for _ in range(25):
        key = _generated(maker, rng)
        assert weakness(key) is None, (maker, key, estimated_entropy_bits(key))
        assert estimated_entropy_bits(key) >= MIN_ENTROPY_BITS == 256


#: A fixed random tail, so the mixed keys below are reproducible.
HEX_TAIL = "9f2c47d01be85a3367c4e0f19ad258b7c6e3014f"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        # 48 hex digits are 192 bits however random they are
        ("7c0e5b1f9a2d48e3b6f1c0a97d5e2b4f81a3c6d09e7f2b5a", "about 192 bits"),
        # keyboard walks, sequences, words and repeats look varied character by character
        ("qwertyuiopasdfghjklzxcvbnm" * 2, "not random enough"),
        ("1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]", "not random enough"),
        ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "not random enough"),
        ("abc" * 22, "not random enough"),
        ("this is the secret key of our venture crm production server deployment", "not random"),
        ("Th1s-is-the-Secret-Key-0f-our-Venture-CRM-production-server-2026!", "not random"),
        ("password" * 4 + HEX_TAIL, "not random enough"),
        (HEX_TAIL[:32] * 2, "not random enough"),
        # published placeholders, however long
        ("__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__", "example"),
        ("changeme", "example"),
        ("ChangeMe", "example"),
    ],
)
def test_weak_keys_are_refused_with_the_reason(key: str, problem: str) -> None:
    found = weakness(key)
    assert found is not None and problem in found, (found, estimated_entropy_bits(key))
    assert key not in found


def test_the_refusal_names_the_requirement_and_the_command(tmp_path: Path) -> None:
    key = "qwertyuiopasdfghjklzxcvbnm" * 2
    settings = load_settings({"CRM_ENV": "production", "CRM_SECRET_KEY": key}, data_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        resolve_secret_key(settings)
    message = caught.value.message
    assert "256 bits" in message
    assert 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"' in message
    assert key not in message


def test_readme_and_security_md_state_the_requirement_and_show_no_usable_key() -> None:
    root = Path(__file__).resolve().parents[2]
    for name in ("README.md", "SECURITY.md"):
        text = (root / name).read_text(encoding="utf-8")
        assert "256 bits" in text, name
        assert "secrets.token_urlsafe(48)" in text and "token_hex(32)" in text, name
        # a value shown in the docs is public: if one is ever added, it must be refused
        for shown in re.findall(r"CRM_SECRET_KEY=([^\s`'\"$]+)", text):
            assert weakness(shown) is not None, (name, shown)


def test_development_generates_a_private_key_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = resolve_secret_key(settings)
    assert weakness(first) is None
    assert resolve_secret_key(settings) == first
    mode = stat.S_IMODE(settings.secret_key_file.stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CRM_ENV": "staging"}, "CRM_ENV must be one of development, production"),
        ({"CRM_SESSION_IDLE_MINUTES": "ten"}, "CRM_SESSION_IDLE_MINUTES must be a whole number"),
        ({"CRM_RATE_LIMITS": "maybe"}, "CRM_RATE_LIMITS must be 'on' or 'off'"),
    ],
)
def test_malformed_settings_stop_start_up_naming_the_variable(
    tmp_path: Path, env: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, data_dir=tmp_path)


def test_unicode_digits_in_number_settings_stop_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CRM_MAX_BODY_KB must be a whole number"):
        load_settings({"CRM_MAX_BODY_KB": "³"}, data_dir=tmp_path)
