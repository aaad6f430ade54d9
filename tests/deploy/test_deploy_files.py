"""The deployment files a new operator copies: the environment template lists every setting
(it is `crm env-template`'s output, so it cannot drift from crm_lib/config.py), and the systemd
unit runs the app on loopback as its own user, hardened, writing only its data folder."""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml
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


ROOT = DEPLOY.parent


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_compose_publishes_the_app_on_loopback_only_hardened_with_rotated_logs() -> None:
    compose = _yaml(ROOT / "docker-compose.yml")
    app = compose["services"]["app"]
    assert app["build"] == "." and app["env_file"] == "venture-crm.env"
    assert app["ports"] == ["127.0.0.1:5006:5006"]
    assert app["read_only"] is True and app["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in app["security_opt"]
    assert app["volumes"][0] == "crm-data:/data"
    for service in compose["services"].values():
        assert service["logging"]["options"]["max-size"]  # every container's log rotates
    # Caddy and Qdrant only with their profiles; the app trusts Caddy by its fixed address
    caddy, qdrant = compose["services"]["caddy"], compose["services"]["qdrant"]
    assert caddy["profiles"] == ["caddy"] and qdrant["profiles"] == ["qdrant"]
    assert caddy["environment"]["CRM_UPSTREAM"] == "app:5006"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddy_ip = caddy["networks"]["crm"]["ipv4_address"]
    assert f"CRM_TRUSTED_PROXIES={caddy_ip}" in (ROOT / "docker-compose.yml").read_text()
    assert "ports" not in qdrant  # only the app talks to it


def test_the_dockerfile_runs_as_a_non_root_user_with_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.split()[0] for line in text.splitlines() if line and line[0].isupper()]
    assert instructions.index("USER") > instructions.index("RUN")  # nothing runs as root after
    assert "USER crm" in text and "HEALTHCHECK" in text and "/readyz" in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "data", "*.env"} <= set(ignored)  # no data or secrets in the image


def test_the_traefik_example_matches_the_caddyfile() -> None:
    static = _yaml(DEPLOY / "traefik" / "traefik.yml")
    dynamic = _yaml(DEPLOY / "traefik" / "venture-crm.yml")
    redirect = static["entryPoints"]["web"]["http"]["redirections"]["entryPoint"]
    assert redirect == {"to": "websecure", "scheme": "https"}
    assert static["accessLog"]["fields"]["headers"]["defaultMode"] == "drop"
    router = dynamic["http"]["routers"]["venture-crm"]
    assert router["tls"]["certResolver"] in static["certificatesResolvers"]
    headers = dynamic["http"]["middlewares"][router["middlewares"][0]]["headers"]
    assert headers["stsSeconds"] == 31536000 and headers["contentTypeNosniff"] is True
    servers = dynamic["http"]["services"][router["service"]]["loadBalancer"]["servers"]
    assert servers == [{"url": "http://127.0.0.1:5006"}]
