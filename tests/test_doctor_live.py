"""`crm doctor` on the live setup: real files with real modes, a real migrated SQLite, a real SMTP
server (aiosmtpd) and real HTTP(S) servers (pytest-httpserver), all on 127.0.0.1. Each finding
names the problem, and a failing or warning one says what to do."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import trustme
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from crm_lib import doctor, running_server, services
from crm_lib.cli import main
from crm_lib.clock import FixedClock
from crm_lib.config import Settings, load_settings
from crm_lib.context import Context
from crm_lib.doctor import Finding, Setup
from crm_lib.outbox.smtp import SMTPTransport
from crm_lib.storage.writes import write
from tests.apps.server import free_port
from tests.conftest import START
from tests.digest.conftest import Inbox, smtp, tls_smtp  # noqa: F401 (fixtures)

STRONG_KEY = secrets.token_urlsafe(48)
SECURE_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def check(name: str, setup: Setup) -> list[Finding]:
    return doctor.run_check(name, setup)


def levels(found: list[Finding]) -> list[str]:
    return [f.level for f in found]


def only(found: list[Finding], level: str) -> list[str]:
    """The messages at ``level``; each warning or failure must also say what to do."""
    picked = [f for f in found if f.level == level]
    assert all(f.fix for f in picked if f.level != "ok"), picked
    return [f.message for f in picked]


def make_private(*roots: Path) -> None:
    for root in roots:
        root.chmod(0o700)
        for folder, dirs, files in os.walk(root):
            for name in dirs:
                Path(folder, name).chmod(0o700)
            for name in files:
                Path(folder, name).chmod(0o600)


# -- permissions -----------------------------------------------------------------------------------
def test_data_other_users_can_read_warns_in_development_and_fails_in_production(
    ctx: Context, settings: Settings
) -> None:
    make_private(settings.data_dir)
    settings.database_path.chmod(0o644)
    found = check("permissions", Setup(settings))
    [message] = only(found, "warn")
    assert "Every local user can read the fund's data" in message
    assert f"{settings.database_path} (0644)" in message
    assert f"chmod -R go-rwx {settings.data_dir}" in found[0].fix
    production = check("permissions", Setup(replace(settings, env="production")))
    assert levels(production) == ["fail"]


def test_world_writable_backup_folder_and_group_readable_wal_are_named(
    ctx: Context, settings: Settings
) -> None:
    services.create_backup(ctx)
    make_private(settings.data_dir)
    settings.backup_dir.chmod(0o777)
    wal = settings.database_path.with_name("crm.db-wal")
    assert wal.exists()  # the open connection keeps the WAL
    wal.chmod(0o640)
    found = check("permissions", Setup(settings))
    [writable] = only(found, "fail")
    assert f"change or replace the fund's data: {settings.backup_dir} (0777)" in writable
    [group] = only(found, "warn")
    assert f"{wal} (0640)" in group and "groups" in group


def test_private_data_passes(ctx: Context, settings: Settings) -> None:
    services.create_backup(ctx)
    make_private(settings.data_dir)
    found = check("permissions", Setup(settings))
    assert levels(found) == ["ok"] and "are private" in found[0].message


# -- disk ----------------------------------------------------------------------------------------
@pytest.fixture
def other_disk(tmp_path: Path) -> Iterator[Path]:
    """A backup folder on another file system (tmpfs), when the machine has one."""
    if not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to put backups on")
    folder = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="crm-doctor-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_disk_checks_the_backup_folders_own_file_system(
    ctx: Context, settings: Settings, other_disk: Path
) -> None:
    elsewhere = replace(settings, backups_folder=other_disk)
    found = check("disk", Setup(elsewhere))
    assert f"free for backups at {other_disk}; a backup needs about" in found[1].message
    same = check("disk", Setup(settings))
    assert "share that disk: one disk failure loses both" in same[1].message


# -- backups ---------------------------------------------------------------------------------------
def test_backup_age_ok_then_warn_then_fail(ctx: Context, settings: Settings) -> None:
    [none] = check("backups", Setup(settings, clock=FixedClock(START)))
    assert none.level == "fail" and f"No verified backup in {settings.backup_dir}" in none.message
    assert "run `crm backup` now" in none.fix
    row = services.create_backup(ctx)
    expected = {
        timedelta(hours=2): ("ok", "is 2 h old; verified backups in"),
        timedelta(hours=30): ("warn", "is 30 h old (a nightly backup was expected)"),
        timedelta(days=4): ("fail", "is 4.0 days old"),
    }
    for age, (level, text) in expected.items():
        [found] = check("backups", Setup(settings, clock=FixedClock(START + age)))
        assert (found.level, row["file_name"] in found.message) == (level, True)
        assert text in found.message


def test_a_failed_verification_and_a_missing_file_fail(ctx: Context, settings: Settings) -> None:
    later = Setup(settings, clock=FixedClock(START + timedelta(hours=1)))
    first = services.create_backup(ctx)
    (settings.backup_dir / first["file_name"]).unlink()
    missing = only(check("backups", later), "fail")
    assert missing == [
        f"{first['file_name']}, the newest verified backup, is missing from {settings.backup_dir}"
    ]
    second = services.create_backup(ctx)
    with (settings.backup_dir / second["file_name"]).open("ab") as file:
        file.write(b"bit rot")
    services.verify_backup(ctx, second["id"])
    failed = only(check("backups", later), "fail")
    assert any(
        f"Backup {second['id']} ({second['file_name']}) failed its last check" in m for m in failed
    )
    assert any("SHA-256 is" in m for m in failed)


def test_backups_are_not_checked_without_a_database(settings: Settings) -> None:
    [found] = check("backups", Setup(settings))
    assert found.level == "ok" and "no database" in found.message
    assert not settings.data_dir.exists()


def test_off_box_copies_are_checked_by_age_and_last_attempt(
    ctx: Context, settings: Settings, other_disk: Path
) -> None:
    backup = services.create_backup(ctx)  # nothing configured yet: no copy taken
    share = replace(settings, offbox_dir=other_disk)
    later = Setup(share, clock=FixedClock(START + timedelta(hours=30)))
    assert only(check("backups", later), "fail") == [f"No off-box copy at {other_disk} yet"]

    def attempt(status: str, detail: str) -> None:
        with write(ctx) as tx:
            tx.insert(
                "offbox_copies",
                {
                    "backup_id": backup["id"],
                    "backup_started_at": backup["started_at"],
                    "destination": "folder",
                    "location": str(other_disk),
                    "remote_key": str(other_disk / backup["file_name"]),
                    "sha256": backup["sha256"],
                    "size_bytes": backup["size_bytes"],
                    "status": status,
                    "detail": detail,
                    "copied_at": tx.now if status == "ok" else None,
                },
            )

    attempt("ok", "ok")
    local, offbox = only(check("backups", later), "warn")  # both 30 h old
    assert "The newest verified backup" in local
    assert offbox == (
        f"The newest off-box copy at {other_disk} is of a backup 30 h old (a nightly copy was"
        " expected)"
    )
    attempt("failed", "Permission denied")
    found = check("backups", later)
    [failure] = only(found, "fail")  # worded by services.offbox_status
    assert failure.startswith(f"The last copy to {other_disk} failed at 2026-11-25")
    assert failure.endswith(": Permission denied")
    assert "`crm backup offbox` copies the newest verified backup there now" in found[-1].fix


# -- secret key ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "CRM_SECRET_KEY is not set"),
        ("change-me", "a published example value"),
        ("x7Gq2", "too short (5 characters"),
        ("correct horse battery staple " * 3, "not random enough"),
    ],
)
def test_a_weak_production_key_fails_naming_why(settings: Settings, key: str, problem: str) -> None:
    found = check("secret key", Setup(replace(settings, env="production", secret_key=key)))
    [message] = only(found, "fail")
    assert problem in message
    assert "secrets.token_urlsafe(48)" in found[0].fix
    if key:
        assert key not in message + found[0].fix


def test_a_strong_key_passes_and_is_never_shown(settings: Settings) -> None:
    found = check("secret key", Setup(replace(settings, env="production", secret_key=STRONG_KEY)))
    assert levels(found) == ["ok"] and "set and strong" in found[0].message
    assert STRONG_KEY not in found[0].message


def test_secret_files_others_can_read_are_named(settings: Settings, tmp_path: Path) -> None:
    settings.data_dir.mkdir(parents=True)
    settings.secret_key_file.write_text(STRONG_KEY + "\n")
    settings.secret_key_file.chmod(0o644)
    env_file = tmp_path / "venture-crm.env"
    env_file.write_text("CRM_SMTP_PASSWORD=hunter2\n")
    env_file.chmod(0o640)
    found = check("secret key", Setup(settings, env_files=(env_file,)))
    assert only(found, "ok") == [f"Development key generated in {settings.secret_key_file}"]
    assert only(found, "fail") == [
        f"{settings.secret_key_file} holds secrets and every local user can read it (mode 0644)"
    ]
    assert only(found, "warn") == [
        f"{env_file} holds secrets and its group can read it (mode 0640)"
    ]
    assert {f.fix for f in found if f.level != "ok"} == {
        f"chmod 600 {settings.secret_key_file}",
        f"chmod 600 {env_file}",
    }


# -- time ----------------------------------------------------------------------------------------
def test_a_clock_behind_the_newest_change_warns(ctx: Context, settings: Settings) -> None:
    services.create_investor(ctx, {"name": "Acme Capital"})  # recorded at START
    behind = check("time zone", Setup(settings, clock=FixedClock(START - timedelta(days=2))))
    [message] = only(behind, "warn")
    assert "The newest change in the database is dated 2026-11-25 09:00 UTC" in message
    assert "2.0 days ahead of this machine's clock" in message
    assert "timedatectl set-ntp true" in behind[-1].fix
    ahead = check("time zone", Setup(settings, clock=FixedClock(START + timedelta(minutes=5))))
    assert ahead[-1] == Finding("ok", "The clock is past the newest change (2026-11-25 09:00 UTC)")


def test_the_machine_zone_and_a_differing_local_time_are_reported(
    settings: Settings, tmp_path: Path
) -> None:
    here = START.astimezone().utcoffset()
    zone = "Asia/Tokyo" if here != timedelta(hours=9) else "America/New_York"
    localtime = tmp_path / "localtime"
    localtime.symlink_to(Path("/usr/share/zoneinfo") / zone)
    found = check("time zone", Setup(settings, clock=FixedClock(START), localtime=localtime))
    [message] = only(found, "warn")
    assert f"{localtime} says {zone}" in message and "a TZ variable differs" in message
    assert only(found, "ok") == [
        f"This machine: {zone} (nightly backup at 02:00 local); the digest's zone: {zone}"
    ]
    plain = tmp_path / "not-a-link"
    plain.write_bytes(b"TZif")
    unnamed = check("time zone", Setup(settings, clock=FixedClock(START), localtime=plain))
    assert any("is not a link to a zone" in m for m in only(unnamed, "warn"))
    missing = check("time zone", Setup(settings, localtime=tmp_path / "none"))  # a container: UTC
    assert not any("is not a link" in f.message for f in missing)
    assert "This machine: UTC" in missing[-1].message


# -- proxy: configuration and the listening address ----------------------------------------------
def test_without_url_the_configuration_is_reported_and_the_live_check_named(
    settings: Settings,
) -> None:
    https_without_proxy = replace(settings, public_url="https://crm.example.com")
    found = check("proxy", Setup(https_without_proxy))
    [message] = only(found, "warn")
    assert "CRM_PUBLIC_URL is https://crm.example.com but CRM_BEHIND_PROXY=off" in message
    assert "set CRM_BEHIND_PROXY=on" in found[0].fix
    assert found[-1].level == "ok"
    assert "Not checked live: `crm doctor --url https://crm.example.com`" in found[-1].message


def test_trusting_every_address_as_a_proxy_fails(settings: Settings) -> None:
    loose = load_settings(
        {"CRM_BEHIND_PROXY": "on", "CRM_TRUSTED_PROXIES": "127.0.0.1,0.0.0.0/0"},
        data_dir=settings.data_dir,
    )
    [message] = only(check("proxy", Setup(loose)), "fail")
    assert "CRM_TRUSTED_PROXIES includes 0.0.0.0/0: any client can claim any address" in message


@pytest.mark.parametrize(
    ("argv", "level", "text"),
    [
        (["-m", "apps.serve", "--host", "0.0.0.0"], "warn", "listens on 0.0.0.0 (every network"),
        (["-m", "apps.serve", "--port", "5007"], "ok", "listens on 127.0.0.1 only"),
        (["-m", "apps.serve", "--host=192.168.1.5"], "warn", "without a proxy in front"),
    ],
)
def test_the_running_servers_listening_address(
    settings: Settings, tmp_path: Path, argv: list[str], level: str, text: str
) -> None:
    running_server.record(settings, "http://127.0.0.1:5006", pid=os.getpid())
    proc = tmp_path / "proc"
    (proc / str(os.getpid())).mkdir(parents=True)
    (proc / str(os.getpid()) / "cmdline").write_bytes("\0".join(["python", *argv, ""]).encode())
    found = [f for f in check("proxy", Setup(settings, proc=proc)) if "listens" in f.message]
    assert [f.level for f in found] == [level] and text in found[0].message
    assert f"(pid {os.getpid()})" in found[0].message


# -- proxy: the live check through --url ---------------------------------------------------------
@pytest.fixture
def tls_server() -> Iterator[tuple[HTTPServer, ssl.SSLContext]]:
    """An HTTPS server on 127.0.0.1 with a test CA's certificate, and a context trusting it."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.start()
    try:
        yield server, client_context
    finally:
        server.clear()
        server.stop()


def healthz(scheme: str = "https", client: str = "203.0.113.7") -> dict[str, str]:
    return {"status": "ok", "scheme": scheme, "client": client}


def test_a_proxy_with_every_header_and_the_forwarded_scheme_passes(
    settings: Settings, tls_server: tuple[HTTPServer, ssl.SSLContext]
) -> None:
    server, trust = tls_server
    server.expect_request("/healthz").respond_with_json(healthz(), headers=SECURE_HEADERS)
    url = server.url_for("/").rstrip("/")
    found = check("proxy", Setup(settings, url=url, ssl_context=trust))
    assert levels(found) == ["ok"] * len(found)
    messages = "\n".join(f.message for f in found)
    assert "answered as Venture CRM" in messages
    assert (
        "Security headers: Strict-Transport-Security, X-Content-Type-Options, a frame policy"
        in messages
    )
    assert "The app sees the request as https, from 203.0.113.7" in messages


def test_missing_headers_and_an_app_that_sees_http_are_named(
    settings: Settings, tls_server: tuple[HTTPServer, ssl.SSLContext]
) -> None:
    server, trust = tls_server
    server.expect_request("/healthz").respond_with_json(
        healthz("http", "127.0.0.1"), headers={"Strict-Transport-Security": "max-age=300"}
    )
    url = server.url_for("/").rstrip("/")
    found = check("proxy", Setup(settings, url=url, ssl_context=trust))
    warnings = only(found, "warn")
    assert "Strict-Transport-Security max-age=300 is short (under 180 days)" in warnings
    assert any(m.startswith("No X-Content-Type-Options: nosniff") for m in warnings)
    assert any(m.startswith("No frame policy (X-Frame-Options or CSP") for m in warnings)
    [failure] = [f for f in found if f.level == "fail"]
    assert f"Users reach {url} over HTTPS but the app sees http" in failure.message
    assert "(the request came from 127.0.0.1)" in failure.message
    assert "set CRM_BEHIND_PROXY=on (now off)" in failure.fix
    assert "(127.0.0.1) to CRM_TRUSTED_PROXIES" in failure.fix


def test_an_untrusted_certificate_is_reported_with_the_fix(
    settings: Settings, tls_server: tuple[HTTPServer, ssl.SSLContext]
) -> None:
    server, _ = tls_server
    url = server.url_for("/").rstrip("/")
    found = check("proxy", Setup(settings, url=url))  # the system's CAs: not the test CA
    [failure] = [f for f in found if f.level == "fail"]
    assert f"{url}/healthz unreachable: its TLS certificate is not trusted" in failure.message
    assert "install its root certificate on this machine" in failure.fix


def test_plain_http_on_loopback_warns_and_the_health_answer_is_read(
    settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/healthz").respond_with_json({"status": "ok"})
    url = httpserver.url_for("/").rstrip("/")
    found = check("proxy", Setup(settings, url=url))
    warnings = only(found, "warn")
    assert f"{url} is this machine's plain-HTTP address" in warnings[0]
    assert "/healthz does not say which scheme the app saw" in warnings[-1]
    assert not any("Strict-Transport-Security" in m for m in warnings)  # only over HTTPS


def test_plain_http_to_another_machine_fails() -> None:
    def wire(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://crm.example.com/healthz"
        return httpx.Response(200, json=healthz("http"), headers=SECURE_HEADERS)

    settings = Settings(data_dir=Path("/nonexistent/data"))
    setup = Setup(settings, url="http://crm.example.com", transport=httpx.MockTransport(wire))
    [failure] = [f for f in check("proxy", setup) if f.level == "fail"]
    assert (
        "http://crm.example.com serves plain HTTP: passwords and session cookies" in failure.message
    )


def test_plain_http_that_redirects_to_https_is_fine() -> None:
    def wire(request: httpx.Request) -> httpx.Response:
        return httpx.Response(308, headers={"Location": "https://crm.example.com/healthz"})

    settings = Settings(data_dir=Path("/nonexistent/data"))
    setup = Setup(settings, url="http://crm.example.com", transport=httpx.MockTransport(wire))
    found = check("proxy", setup)[-2:]
    assert [(f.level, f.message) for f in found] == [
        (
            "ok",
            "http://crm.example.com sends browsers on to HTTPS (https://crm.example.com/healthz)",
        ),
        (
            "warn",
            "http://crm.example.com/healthz redirects (HTTP 308) to https://crm.example.com/healthz",
        ),
    ]


@pytest.mark.parametrize(
    ("status", "text"),
    [(502, "the proxy answers but cannot reach the app"), (404, "not Venture CRM's health probe")],
)
def test_a_proxy_that_does_not_reach_the_app_fails(
    settings: Settings, httpserver: HTTPServer, status: int, text: str
) -> None:
    httpserver.expect_request("/healthz").respond_with_data("Bad Gateway", status=status)
    found = check("proxy", Setup(settings, url=httpserver.url_for("/").rstrip("/")))
    [failure] = [f for f in found if f.level == "fail"]
    assert f"answered HTTP {status}" in failure.message and text in failure.message


def test_an_address_nothing_answers_at_fails_fast(settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    found = check("proxy", Setup(settings, url=url, timeout_s=2))
    [failure] = [f for f in found if f.level == "fail"]
    assert failure.message == f"{url}/healthz unreachable: Connection refused"
    assert "that the proxy and the server run" in failure.fix


# -- mail ----------------------------------------------------------------------------------------
def smtp_settings(settings: Settings, transport: SMTPTransport, **changes: object) -> Settings:
    values = {
        "smtp_host": transport.host,
        "smtp_port": transport.port,
        "smtp_security": transport.security,
        "smtp_user": transport.user,
        "smtp_password": transport.password,
        **changes,
    }
    return replace(settings, **values)


def test_a_local_relay_answers_and_nothing_is_sent(
    settings: Settings,
    smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> None:
    inbox, transport = smtp
    found = check("mail", Setup(smtp_settings(settings, transport)))
    assert levels(found) == ["ok"]
    assert found[0].message == f"SMTP 127.0.0.1:{transport.port} accepts EHLO (nothing sent)"
    assert inbox.messages == []


def test_starttls_and_login_are_tried_without_sending(
    settings: Settings,
    tls_smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> None:
    inbox, transport = tls_smtp
    setup = Setup(smtp_settings(settings, transport), ssl_context=transport.ssl_context)
    found = check("mail", setup)
    assert [(f.level, f.message) for f in found] == [
        (
            "ok",
            f"SMTP 127.0.0.1:{transport.port} accepts EHLO, STARTTLS, login as 'digest'"
            " (nothing sent)",
        )
    ]
    assert inbox.messages == []


def test_a_refused_login_is_named_and_the_password_never_shown(
    settings: Settings,
    tls_smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> None:
    _, transport = tls_smtp
    wrong = smtp_settings(settings, transport, smtp_password="not-the-password-42")
    found = check("mail", Setup(wrong, ssl_context=transport.ssl_context))
    [message] = only(found, "fail")
    assert message == f"127.0.0.1:{transport.port} refused the login of 'digest'"
    assert found[0].fix == "check CRM_SMTP_USER and CRM_SMTP_PASSWORD"
    assert "not-the-password-42" not in json.dumps([f.__dict__ for f in found])


def test_a_server_without_starttls_fails_when_starttls_is_set(
    settings: Settings,
    smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> None:
    _, transport = smtp
    found = check("mail", Setup(smtp_settings(settings, transport, smtp_security="starttls")))
    assert only(found, "fail") == [
        f"127.0.0.1:{transport.port} does not offer STARTTLS (CRM_SMTP_SECURITY=starttls)"
    ]


def test_an_smtp_server_that_is_down_is_unreachable(settings: Settings) -> None:
    port = free_port()
    down = replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    found = check("mail", Setup(down, timeout_s=2))
    assert only(found, "fail") == [f"127.0.0.1:{port} unreachable: Connection refused"]
    assert "CRM_SMTP_HOST and CRM_SMTP_PORT" in found[0].fix


# -- model endpoints -----------------------------------------------------------------------------
def model_settings(settings: Settings, url: str, model: str = "llama3.1:8b") -> Settings:
    return replace(settings, local_llm_url=url, local_llm_model=model)


def test_the_local_model_is_listed_by_its_server(
    settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json(
        {"object": "list", "data": [{"id": "qwen2.5:7b"}, {"id": "llama3.1:8b"}]}
    )
    url = httpserver.url_for("/v1")
    found = check("models", Setup(model_settings(settings, url)))
    assert found[0] == Finding("ok", f"The local model llama3.1:8b is served at {url}")
    missing = check("models", Setup(model_settings(settings, url, "mistral")))
    [message] = only(missing, "warn")
    assert message.startswith(
        f"The local model 'mistral' is not served at {url} (it has: qwen2.5:7b, llama3.1:8b)"
    )
    assert missing[0].fix.startswith("load it (`ollama pull mistral`)")


def test_a_model_server_that_is_down_or_not_openai_compatible_warns(
    settings: Settings, httpserver: HTTPServer
) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    found = check("models", Setup(model_settings(settings, down), timeout_s=2))[0]
    assert found.level == "warn"
    assert found.message.startswith(f"The local model at {down} unreachable: Connection refused")
    assert "the digest writes its narratives from the data meanwhile" in found.message
    assert "ollama serve" in found.fix
    httpserver.expect_request("/api/models").respond_with_data("not found", status=404)
    wrong = httpserver.url_for("/api")
    odd = check("models", Setup(model_settings(settings, wrong)))[0]
    assert odd.level == "warn" and "answered HTTP 404, not an OpenAI-compatible" in odd.message


def test_a_model_address_off_the_private_network_fails_before_any_request(
    settings: Settings,
) -> None:
    public = model_settings(settings, "http://93.184.216.34/v1")
    [found] = check("models", Setup(public, transport=httpx.MockTransport(pytest.fail)))
    assert found.level == "fail"
    assert "CRM_LOCAL_LLM_URL must point at this machine or a private network" in found.message


@pytest.mark.parametrize(
    ("key", "base", "level", "text"),
    [
        ("sk-ant-api03-" + "a1B2" * 24, "https://api.anthropic.com", "ok", "is set (sk-ant-…"),
        ("my-openai-key-123", "https://api.anthropic.com", "warn", "does not look like"),
        ('"sk-ant-api03-' + "a1B2" * 24 + '"', "https://api.anthropic.com", "warn", "quotes"),
        ("sk-ant-api03-" + "a1B2" * 24, "http://gateway.example.com", "fail", "plain HTTP"),
    ],
)
def test_the_anthropic_key_is_checked_by_form_only(
    settings: Settings, key: str, base: str, level: str, text: str
) -> None:
    configured = replace(settings, anthropic_api_key=key, anthropic_base_url=base)
    # no network at all: any request would reach the MockTransport and fail the test
    setup = Setup(configured, transport=httpx.MockTransport(pytest.fail))
    found = check("models", setup)[1:]  # after the (unconfigured) local model
    assert found[0].level == level and text in found[0].message
    assert all(key.strip('"') not in f.message + f.fix for f in found)


# -- the command ---------------------------------------------------------------------------------
@pytest.fixture
def healthy(tmp_path: Path) -> Iterator[Path]:
    """A data folder as the service keeps it (umask 077) with a fresh backup."""
    data = tmp_path / "data"
    previous = os.umask(0o077)
    try:
        for args in (["init"], ["backup"]):
            result = CliRunner().invoke(main, ["--data-dir", str(data), *args])
            assert result.exit_code == 0, result.output
    finally:
        os.umask(previous)
    yield data


def test_json_report_groups_the_findings_by_check(healthy: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(healthy), "doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["ok"], report["failed"]) == (True, 0)
    assert [c["name"] for c in report["checks"]] == [name for name, _ in doctor.CHECKS]
    backups = next(c for c in report["checks"] if c["name"] == "backups")
    assert backups["level"] == "ok" and backups["findings"][0]["fix"] == ""


def test_checks_are_registered_in_the_order_users_read_the_report() -> None:
    # The order comes from the order crm_lib/doctor/__init__.py imports the check modules in.
    assert [name for name, _ in doctor.CHECKS] == [
        "python",
        "packages",
        "sqlite",
        "duckdb",
        "data folder",
        "permissions",
        "disk",
        "database",
        "backups",
        "secret key",
        "time zone",
        "proxy",
        "mail",
        "models",
    ]


def test_the_url_option_checks_the_live_address_and_lists_what_to_fix(
    healthy: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/healthz").respond_with_json({"status": "ok", "scheme": "http"})
    url = httpserver.url_for("/").rstrip("/")
    result = CliRunner().invoke(main, ["--data-dir", str(healthy), "doctor", "--url", url])
    assert result.exit_code == 0, result.output  # warnings only
    assert f"WARN  {url} is this machine's plain-HTTP address" in result.output
    assert "What to fix:\n  WARN  proxy: pass the public https:// address to --url" in result.output
    bad = CliRunner().invoke(main, ["--data-dir", str(healthy), "doctor", "--url", "crm.example"])
    assert bad.exit_code == 2 and "is not an address like https://crm.example.com" in bad.output
