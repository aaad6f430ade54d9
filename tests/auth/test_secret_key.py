"""The secret key: strong in production, generated once in development, never shown."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

from crm_lib.auth.secret_key import resolve_secret_key, weakness
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
