"""The deployment files a new operator copies: the environment template lists every setting
(it is `crm env-template`'s output, so it cannot drift from crm_lib/config.py), and the systemd
unit runs the app on loopback as its own user, hardened, writing only its data folder."""

from __future__ import annotations

import configparser
from pathlib import Path

from click.testing import CliRunner

from crm_lib.cli import main
from crm_lib.config import SETTINGS, env_template

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_environment_template_is_every_setting_at_its_default() -> None:
    shipped = (DEPLOY / "venture-crm.env.example").read_text(encoding="utf-8")
    assert shipped == env_template(), "run: crm env-template > deploy/venture-crm.env.example"
    for setting in SETTINGS:
        assert f"#{setting.env_var}={setting.default}\n" in shipped
    assert not any(
        line and not line.startswith("#") for line in shipped.splitlines()
    )  # nothing set by the template itself
    printed = CliRunner().invoke(main, ["env-template"])
    assert printed.exit_code == 0 and printed.output == shipped


def test_the_service_unit_is_hardened_and_writes_only_its_data_folder() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((DEPLOY / "venture-crm.service").read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service["User"] == "venture-crm" and service["UMask"] == "0077"
    assert "--host 127.0.0.1" in service["ExecStart"]  # loopback: a proxy gives HTTPS
    for key, value in (
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("Restart", "on-failure"),
        ("ReadWritePaths", "/var/lib/venture-crm"),
    ):
        assert service[key] == value, key
    text = (DEPLOY / "venture-crm.service").read_text(encoding="utf-8")
    environment = [line for line in text.splitlines() if line.startswith("Environment=")]
    assert environment == [
        "Environment=CRM_DATA_DIR=/var/lib/venture-crm",
        "Environment=CRM_ENV=production",
    ]
    assert service["EnvironmentFile"] == "/etc/venture-crm/venture-crm.env"
