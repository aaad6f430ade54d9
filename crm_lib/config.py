"""Settings, declared once, read from the environment in one place.

Every setting has a name, an environment variable, a default and a line of help, so that
``crm doctor`` and the docs can list them and nothing else in the code reads ``os.environ``.
Later issues add their settings to ``SETTINGS`` (SMTP, Qdrant URL, ...).

Values are checked here, once: a malformed number or an unknown environment name stops start-up
with a message naming the variable, instead of surfacing later as a confusing failure.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import Parameters, profiles

from crm_lib.backups.retention import LIMITS
from crm_lib.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: the default CRM_TRUSTED_PROXIES: a proxy on this machine (Caddy, nginx, tailscale serve)
LOOPBACK_PROXIES: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.1/32"),
    ipaddress.ip_network("::1/128"),
)


@dataclass(frozen=True)
class Setting:
    """One configurable value: where it comes from and what it is for."""

    name: str
    env_var: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        "CRM_DATA_DIR",
        "./data",
        "Folder holding crm.db, backups and other local state.",
    ),
    Setting(
        "env",
        "CRM_ENV",
        "development",
        "'development' or 'production'; production turns on stricter checks.",
    ),
    Setting(
        "secret_key",
        "CRM_SECRET_KEY",
        "",
        "Signs session cookies and CSRF tokens. Required when CRM_ENV=production, with at least "
        '256 bits of estimated entropy (python3 -c "import secrets; '
        'print(secrets.token_urlsafe(48))"); '
        "in development an unset key is generated once into <data dir>/secret_key.",
    ),
    Setting(
        "public_url",
        "CRM_PUBLIC_URL",
        "",
        "The address users type, e.g. https://crm.example.com (default: http://127.0.0.1:<port>). "
        "Invite links use it and websockets must come from it; unset, `crm invite` uses the "
        "address the running server recorded in <data dir>/server.json.",
    ),
    Setting(
        "cors_origin",
        "CRM_CORS_ORIGIN",
        "",
        "Comma-separated origins allowed to call the API from a browser (default: same origin only).",
    ),
    Setting(
        "session_idle_minutes",
        "CRM_SESSION_IDLE_MINUTES",
        "720",
        "A login ends after this many minutes without a request.",
    ),
    Setting(
        "session_max_hours",
        "CRM_SESSION_MAX_HOURS",
        "168",
        "A login ends this many hours after it started, however active.",
    ),
    Setting(
        "rate_limits",
        "CRM_RATE_LIMITS",
        "on",
        "'on' or 'off': login back-off and API write limits (keep on outside benchmarks).",
    ),
    Setting(
        "login_max_failures",
        "CRM_LOGIN_MAX_FAILURES",
        "5",
        "Failed logins per account or IP before back-off starts (30 s, doubling up to 1 h).",
    ),
    Setting(
        "write_rate_per_minute",
        "CRM_WRITE_RATE_PER_MINUTE",
        "600",
        "API writes allowed per user (or IP) per minute, in bursts of up to a tenth of that.",
    ),
    Setting(
        "behind_proxy",
        "CRM_BEHIND_PROXY",
        "off",
        "'on' when a reverse proxy (Caddy, nginx) on this machine forwards requests: client IPs "
        "for rate limits and session lists then come from X-Forwarded-For / X-Real-IP.",
    ),
    Setting(
        "trusted_proxies",
        "CRM_TRUSTED_PROXIES",
        "127.0.0.1,::1",
        "With CRM_BEHIND_PROXY=on: the proxies (IPs or CIDR networks, comma-separated) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; a request from any other address "
        "is taken at its own address, whatever headers it sends.",
    ),
    Setting(
        "backup_dir",
        "CRM_BACKUP_DIR",
        "",
        "Folder for backups (default: <data dir>/backups). Another disk is safer than the same one.",
    ),
    Setting(
        "offbox_dir",
        "CRM_OFFBOX_DIR",
        "",
        "A mounted folder on another machine (a NAS share) that every verified nightly and manual "
        "backup is also copied into, read back and checked by SHA-256 (unset: no folder copy).",
    ),
    Setting(
        "offbox_s3_url",
        "CRM_OFFBOX_S3_URL",
        "",
        "S3 or S3-compatible storage for the off-box copies, as s3://bucket/prefix. Credentials "
        "come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws), never from here.",
    ),
    Setting(
        "offbox_s3_endpoint",
        "CRM_OFFBOX_S3_ENDPOINT",
        "",
        "The S3 API address of a service other than AWS (e.g. "
        "https://s3.eu-central-003.backblazeb2.com, a MinIO); unset: AWS.",
    ),
    Setting(
        "offbox_s3_region",
        "CRM_OFFBOX_S3_REGION",
        "",
        "The bucket's region (e.g. eu-central-1; unset: AWS_DEFAULT_REGION, else us-east-1).",
    ),
    Setting(
        "offbox_keep",
        "CRM_OFFBOX_KEEP",
        "",
        "Retention of the off-box copies, e.g. daily=30,weekly=12,monthly=24 (the newest copy of "
        "each of the last N days, weeks, months); keys left out, or unset: the local policy's.",
    ),
    Setting(
        "offbox_timeout_s",
        "CRM_OFFBOX_TIMEOUT_S",
        "3600",
        "Seconds one off-box copy (upload and read-back) may take; slower, it is recorded as "
        "failed and the nightly job goes on.",
    ),
    Setting(
        "jobs",
        "CRM_JOBS",
        "on",
        "'on' or 'off': run the scheduled notebook jobs (nightly backup) inside the server.",
    ),
    Setting(
        "search_sync",
        "CRM_SEARCH_SYNC",
        "on",
        "'on' or 'off': keep the search index in step inside the server (building it the first "
        "time); off for a second server on the same data, or a benchmark of other work.",
    ),
    Setting(
        "nightly_backup_at",
        "CRM_NIGHTLY_BACKUP_AT",
        "02:00",
        "Local time (HH:MM) of the nightly backup job; a run missed while the server was off is "
        "caught up when it starts.",
    ),
    Setting(
        "max_body_kb",
        "CRM_MAX_BODY_KB",
        "10240",
        "Largest API request body accepted, in KiB (413 above it).",
    ),
    Setting(
        "internal_domains",
        "CRM_INTERNAL_DOMAINS",
        "",
        "Comma-separated domains of the fund's own mail (e.g. fund.example): their addresses are "
        "never counterparties, and mail among them only is never linked or shown. The team's own "
        "non-public domains count already; admins add more on the admin page.",
    ),
    Setting(
        "google_service_account_file",
        "CRM_GOOGLE_SERVICE_ACCOUNT_FILE",
        "",
        "The JSON key of a Google Workspace service account with domain-wide delegation "
        "(scope gmail.readonly) for syncing the team's Gmail; unset, admins upload one on the "
        "admin page (kept as <data dir>/google-service-account.json, mode 0600).",
    ),
    Setting(
        "automations_minutes",
        "CRM_AUTOMATIONS_MINUTES",
        "60",
        "Minutes between evaluations of the time-based automation rules (while one is on).",
    ),
    Setting(
        "automation_cap",
        "CRM_AUTOMATION_CAP",
        "500",
        "Most investors one automation run may change; a run over it changes nothing and says so.",
    ),
    Setting(
        "email_sync_minutes",
        "CRM_EMAIL_SYNC_MINUTES",
        "15",
        "Minutes between scheduled Gmail syncs of the chosen team members' mailboxes.",
    ),
    Setting(
        "local_llm_url",
        "CRM_LOCAL_LLM_URL",
        "",
        "Base URL of an OpenAI-compatible chat-completions server on this machine or the office "
        "network (Ollama: http://127.0.0.1:11434/v1; llama.cpp's server, vLLM) that writes the "
        "digest's narratives. Only loopback and private-network addresses are accepted: the "
        "digest holds investors' names and email substance. Unset: narratives are written from "
        "the data.",
    ),
    Setting(
        "local_llm_model",
        "CRM_LOCAL_LLM_MODEL",
        "",
        "The model name the local server knows (e.g. llama3.1:8b); required with CRM_LOCAL_LLM_URL.",
    ),
    Setting(
        "local_llm_timeout_s",
        "CRM_LOCAL_LLM_TIMEOUT_S",
        "60",
        "Seconds one narrative may take in total; slower, the digest uses the data's narrative.",
    ),
    Setting(
        "smtp_host",
        "CRM_SMTP_HOST",
        "",
        "SMTP server for the digest, when Gmail does not send it (or as the only transport).",
    ),
    Setting("smtp_port", "CRM_SMTP_PORT", "587", "SMTP port (587 STARTTLS, 465 SSL, 25 plain)."),
    Setting("smtp_user", "CRM_SMTP_USER", "", "SMTP login user (unset: no login)."),
    Setting("smtp_password", "CRM_SMTP_PASSWORD", "", "SMTP login password (never logged)."),
    Setting(
        "smtp_from",
        "CRM_SMTP_FROM",
        "",
        "The From address of mail sent over SMTP (default: the digest sender).",
    ),
    Setting(
        "smtp_security",
        "CRM_SMTP_SECURITY",
        "starttls",
        "'starttls', 'ssl' or 'none' (none only to a relay on this machine).",
    ),
    Setting(
        "digest_sender",
        "CRM_DIGEST_SENDER",
        "",
        "The team member whose Gmail sends the digest (default: the first active admin).",
    ),
    Setting(
        "digest_at",
        "CRM_DIGEST_AT",
        "18:00",
        "First-boot default of the digest's send time (HH:MM, the digest's time zone); admins "
        "change it on the admin page.",
    ),
    Setting(
        "digest_timezone",
        "CRM_DIGEST_TIMEZONE",
        "",
        "First-boot default of the digest's time zone (e.g. America/New_York; default: this "
        "machine's zone).",
    ),
    Setting(
        "embedder",
        "CRM_EMBEDDER",
        "wordllama",
        "Search's dense vectors: 'wordllama' (offline, weights in the wheel) or "
        "'sentence-transformers:<model folder>' (a model already on disk).",
    ),
    Setting(
        "embeddings_url",
        "CRM_EMBEDDINGS_URL",
        "",
        "An OpenAI-compatible /embeddings endpoint on this machine or the office network, used "
        "instead of CRM_EMBEDDER (only private addresses: mail text goes there).",
    ),
    Setting(
        "embeddings_model",
        "CRM_EMBEDDINGS_MODEL",
        "",
        "The model name the embeddings endpoint knows (e.g. nomic-embed-text).",
    ),
    Setting(
        "qdrant_url",
        "QDRANT_URL",
        "",
        "A Qdrant server for the search index (e.g. http://127.0.0.1:6333); unset, the index is "
        "Qdrant's local mode under <data dir>/search (brute force: a server above ~20,000 chunks).",
    ),
    Setting(
        "qdrant_api_key",
        "QDRANT_API_KEY",
        "",
        "The Qdrant server's API key, if it has one (never logged).",
    ),
    Setting(
        "api_token",
        "CRM_API_TOKEN",
        "",
        "A personal API token (account page) for `crm search` while the server holds the "
        "search index: the search then goes through the server's API.",
    ),
    Setting(
        "anthropic_api_key",
        "ANTHROPIC_API_KEY",
        "",
        "Turns on free-form questions on the Ask page through Claude (never logged). Only the "
        "question, with every known name, address, phone number and amount replaced by a "
        "placeholder, and the schema are sent; never rows. Unset: the curated questions only.",
    ),
    Setting(
        "anthropic_model",
        "CRM_ANTHROPIC_MODEL",
        "claude-sonnet-5",
        "The Claude model that writes the SQL of free-form questions.",
    ),
    Setting(
        "anthropic_base_url",
        "ANTHROPIC_BASE_URL",
        "https://api.anthropic.com",
        "Where the Messages API is (a gateway or proxy in front of Anthropic's).",
    ),
    Setting(
        "ask_timeout_s",
        "CRM_ASK_TIMEOUT_S",
        "30",
        "Seconds Claude may take to answer one question; slower, the question fails and says so.",
    ),
    Setting(
        "going_cold_days",
        "CRM_GOING_COLD_DAYS",
        "30",
        "Days without a two-way email touch after which an open opportunity or a committed"
        " investor is 'going cold' (highlighted on the pipeline board, listed on home).",
    ),
    Setting(
        "notebooks_dir",
        "CRM_NOTEBOOKS_DIR",
        "",
        "Where the Ask page's 'Open as notebook' writes analyst notebooks (default: "
        "<data dir>/notebooks).",
    ),
    Setting(
        "formula_budget_s",
        "CRM_FORMULA_BUDGET_S",
        "60",
        "Seconds of formula computing one change may use in total (adding or editing a formula "
        "field, a type change, an import); over it the change is refused and nothing is written.",
    ),
)

ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process. Build with :func:`load_settings`."""

    data_dir: Path
    env: str = "development"
    secret_key: str = field(default="", repr=False)  # never printed
    public_url: str = ""
    cors_origins: tuple[str, ...] = ()
    session_idle_minutes: int = 720
    session_max_hours: int = 168
    rate_limits: bool = True
    login_max_failures: int = 5
    write_rate_per_minute: int = 600
    max_body_kb: int = 10240
    #: CRM_FORMULA_BUDGET_S; tests pass fractions of a second
    formula_budget_s: float = 60.0
    behind_proxy: bool = False
    #: CRM_TRUSTED_PROXIES, parsed; only consulted when ``behind_proxy``
    trusted_proxies: tuple[IPNetwork, ...] = LOOPBACK_PROXIES
    backups_folder: Path | None = None  # CRM_BACKUP_DIR; see backup_dir
    offbox_dir: Path | None = None
    #: CRM_OFFBOX_S3_URL, normalised to s3://bucket or s3://bucket/prefix (no trailing slash)
    offbox_s3_url: str = ""
    offbox_s3_endpoint: str = ""
    offbox_s3_region: str = ""
    #: CRM_OFFBOX_KEEP as (key, count) pairs; the keys not given follow the local policy
    offbox_keep: tuple[tuple[str, int], ...] = ()
    offbox_timeout_s: int = 3600
    jobs: bool = True
    search_sync: bool = True
    nightly_backup_at: str = "02:00"
    #: CRM_INTERNAL_DOMAINS, lower case, without "@"
    internal_domains: tuple[str, ...] = ()
    google_service_account_file: Path | None = None
    email_sync_minutes: int = 15
    automations_minutes: int = 60
    automation_cap: int = 500
    local_llm_url: str = ""
    local_llm_model: str = ""
    local_llm_timeout_s: int = 60
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)  # never printed
    smtp_from: str = ""
    smtp_security: str = "starttls"
    digest_sender: str = ""
    digest_at: str = "18:00"
    digest_timezone: str = ""
    embedder: str = "wordllama"
    embeddings_url: str = ""
    embeddings_model: str = ""
    qdrant_url: str = ""
    qdrant_api_key: str = field(default="", repr=False)  # never printed
    api_token: str = field(default="", repr=False)  # never printed
    anthropic_api_key: str = field(default="", repr=False)  # never printed
    anthropic_model: str = "claude-sonnet-5"
    anthropic_base_url: str = "https://api.anthropic.com"
    ask_timeout_s: int = 30
    going_cold_days: int = 30
    notebooks_folder: Path | None = None  # CRM_NOTEBOOKS_DIR; see notebooks_dir
    #: argon2id cost; not an environment setting. Tests inject a cheap profile to stay fast.
    password_hashing: Parameters = field(default_factory=lambda: profiles.RFC_9106_LOW_MEMORY)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def database_path(self) -> Path:
        """The system of record: one SQLite file inside the data folder."""
        return self.data_dir / "crm.db"

    @property
    def backup_dir(self) -> Path:
        """Where backups go: ``CRM_BACKUP_DIR``, else ``<data dir>/backups``."""
        return self.backups_folder or self.data_dir / "backups"

    @property
    def jobs_dir(self) -> Path:
        """Executed notebooks and their HTML renderings, one pair per job run; and job locks."""
        return self.data_dir / "jobs"

    @property
    def base_url(self) -> str:
        """Where users reach the app: ``CRM_PUBLIC_URL``, else the default local address."""
        return self.public_url or "http://127.0.0.1:5006"

    @property
    def notebooks_dir(self) -> Path:
        """Where "Open as notebook" writes: ``CRM_NOTEBOOKS_DIR``, else ``<data dir>/notebooks``
        (the notebooks hold the question's values: names stay with the data)."""
        return self.notebooks_folder or self.data_dir / "notebooks"

    @property
    def search_dir(self) -> Path:
        """Qdrant's local-mode index (when ``QDRANT_URL`` is unset)."""
        return self.data_dir / "search"

    @property
    def secret_key_file(self) -> Path:
        """Development only: the generated key used when ``CRM_SECRET_KEY`` is unset."""
        return self.data_dir / "secret_key"


def load_settings(
    environ: Mapping[str, str] | None = None, *, data_dir: str | Path | None = None
) -> Settings:
    """Read settings from ``environ`` (default: the process environment).

    ``data_dir`` wins over ``CRM_DATA_DIR`` so a command-line flag can override the environment.
    """
    env = os.environ if environ is None else environ
    values = {s.name: env.get(s.env_var, s.default).strip() for s in SETTINGS}
    chosen_dir = Path(data_dir) if data_dir is not None else Path(values["data_dir"])
    if values["env"] not in ENVIRONMENTS:
        raise ConfigError(
            f"CRM_ENV must be one of {', '.join(ENVIRONMENTS)}, not {values['env']!r}"
        )
    settings = Settings(
        data_dir=chosen_dir.expanduser().resolve(),
        env=values["env"],
        secret_key=values["secret_key"],
        public_url=values["public_url"].rstrip("/"),
        cors_origins=tuple(
            o.strip().rstrip("/") for o in values["cors_origin"].split(",") if o.strip()
        ),
        session_idle_minutes=_positive_int(values, "session_idle_minutes"),
        session_max_hours=_positive_int(values, "session_max_hours"),
        rate_limits=_on_off(values, "rate_limits"),
        login_max_failures=_positive_int(values, "login_max_failures"),
        write_rate_per_minute=_positive_int(values, "write_rate_per_minute"),
        max_body_kb=_positive_int(values, "max_body_kb"),
        formula_budget_s=_positive_int(values, "formula_budget_s"),
        behind_proxy=_on_off(values, "behind_proxy"),
        trusted_proxies=_networks(values, "trusted_proxies"),
        backups_folder=(
            Path(values["backup_dir"]).expanduser().resolve() if values["backup_dir"] else None
        ),
        offbox_dir=(
            Path(values["offbox_dir"]).expanduser().resolve() if values["offbox_dir"] else None
        ),
        offbox_s3_url=_s3_url(values, "offbox_s3_url"),
        offbox_s3_endpoint=_endpoint(values, "offbox_s3_endpoint"),
        offbox_s3_region=_region(values, "offbox_s3_region"),
        offbox_keep=_keep(values, "offbox_keep"),
        offbox_timeout_s=_positive_int(values, "offbox_timeout_s"),
        jobs=_on_off(values, "jobs"),
        search_sync=_on_off(values, "search_sync"),
        nightly_backup_at=_clock_time(values, "nightly_backup_at"),
        google_service_account_file=(
            Path(values["google_service_account_file"]).expanduser().resolve()
            if values["google_service_account_file"]
            else None
        ),
        email_sync_minutes=_positive_int(values, "email_sync_minutes"),
        automations_minutes=_positive_int(values, "automations_minutes"),
        automation_cap=_positive_int(values, "automation_cap"),
        internal_domains=tuple(
            d.strip().casefold().lstrip("@")
            for d in values["internal_domains"].split(",")
            if d.strip()
        ),
        local_llm_url=values["local_llm_url"].rstrip("/"),
        local_llm_model=values["local_llm_model"],
        local_llm_timeout_s=_positive_int(values, "local_llm_timeout_s"),
        smtp_host=values["smtp_host"],
        smtp_port=_positive_int(values, "smtp_port"),
        smtp_user=values["smtp_user"],
        smtp_password=values["smtp_password"],
        smtp_from=values["smtp_from"],
        smtp_security=_choice(values, "smtp_security", SMTP_SECURITY),
        digest_sender=values["digest_sender"].casefold(),
        digest_at=_clock_time(values, "digest_at"),
        digest_timezone=_time_zone(values, "digest_timezone"),
        embedder=values["embedder"],
        embeddings_url=values["embeddings_url"].rstrip("/"),
        embeddings_model=values["embeddings_model"],
        qdrant_url=values["qdrant_url"].rstrip("/"),
        qdrant_api_key=values["qdrant_api_key"],
        api_token=values["api_token"],
        anthropic_api_key=values["anthropic_api_key"],
        anthropic_model=values["anthropic_model"] or "claude-sonnet-5",
        anthropic_base_url=(values["anthropic_base_url"] or "https://api.anthropic.com").rstrip(
            "/"
        ),
        ask_timeout_s=_positive_int(values, "ask_timeout_s"),
        going_cold_days=_at_most(values, "going_cold_days", 3650),
        notebooks_folder=(
            Path(values["notebooks_dir"]).expanduser().resolve()
            if values["notebooks_dir"]
            else None
        ),
    )
    _check_offbox_dir(settings)
    return settings


SMTP_SECURITY = ("starttls", "ssl", "none")
#: An S3 bucket name (AWS's rules, which S3-compatible services follow).
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: One segment of an S3 key prefix: what a folder name may be, nothing that walks up or out.
S3_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


def _s3_url(values: Mapping[str, str], name: str) -> str:
    """``s3://bucket/prefix`` with the prefix's slashes normalised; credentials are refused."""
    text = values[name]
    if not text:
        return ""
    parts = urlsplit(text)
    problem = None
    if parts.scheme != "s3" or not parts.netloc:
        problem = "is not like s3://bucket/prefix"
    elif "@" in parts.netloc or ":" in parts.netloc:
        problem = (
            "holds credentials or a port: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and "
            "CRM_OFFBOX_S3_ENDPOINT for a service other than AWS"
        )
    elif not S3_BUCKET.fullmatch(parts.netloc):
        problem = "names no valid bucket (3-63 lower-case letters, digits, dots and hyphens)"
    elif parts.query or parts.fragment:
        problem = "has a query or fragment"
    segments = [s for s in parts.path.split("/") if s]
    if problem is None and not all(S3_SEGMENT.fullmatch(s) for s in segments):
        problem = "has a prefix segment that is not a plain folder name (letters, digits, . _ -)"
    if problem:
        # the value is not echoed: a mistyped URL may hold a secret
        raise ConfigError(f"{_env_var(name)} {problem}")
    return "/".join([f"s3://{parts.netloc}", *segments])


def _endpoint(values: Mapping[str, str], name: str) -> str:
    text = values[name].rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{_env_var(name)} must be an address like https://s3.example.com")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(
            f"{_env_var(name)} must not hold credentials, a query or a fragment: credentials go "
            "in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
        )
    return text


def _region(values: Mapping[str, str], name: str) -> str:
    text = values[name]
    if text and not re.fullmatch(r"[a-z0-9-]{1,40}", text):
        raise ConfigError(f"{_env_var(name)} must be a region like eu-central-1, not {text!r}")
    return text


def _keep(values: Mapping[str, str], name: str) -> tuple[tuple[str, int], ...]:
    pairs: dict[str, int] = {}
    for entry in (part.strip() for part in values[name].split(",")):
        if not entry:
            continue
        key, _, count = (s.strip() for s in entry.partition("="))
        if key not in LIMITS or not (count.isascii() and count.isdigit()):
            raise ConfigError(
                f"{_env_var(name)}: {entry!r} is not like daily=30 (keys: {', '.join(LIMITS)})"
            )
        if int(count) > LIMITS[key]:
            raise ConfigError(f"{_env_var(name)}: {key} must be at most {LIMITS[key]}")
        pairs[key] = int(count)
    return tuple(pairs.items())


def _check_offbox_dir(settings: Settings) -> None:
    """An off-box folder that is (or holds, or sits in) the backup folder would share its files:
    off-box retention would then delete local backups."""
    offbox, local = settings.offbox_dir, settings.backup_dir.resolve()
    if offbox is not None and (
        offbox == local or local in offbox.parents or offbox in local.parents
    ):
        raise ConfigError(
            f"CRM_OFFBOX_DIR ({offbox}) must be apart from the backup folder ({local}): "
            "a folder on another machine, such as a mounted NAS share"
        )


def _networks(values: Mapping[str, str], name: str) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in (part.strip() for part in values[name].split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"{_env_var(name)}: {entry!r} is not an IP address or network like 10.0.0.0/8"
            ) from None
    return tuple(networks)


def _choice(values: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    text = values[name].lower()
    if text not in allowed:
        raise ConfigError(
            f"{_env_var(name)} must be one of {', '.join(allowed)}, not {values[name]!r}"
        )
    return text


def _time_zone(values: Mapping[str, str], name: str) -> str:
    text = values[name]
    if text:
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{_env_var(name)} must be a time zone like Europe/London, not {text!r}"
            ) from None
    return text


def _env_var(name: str) -> str:
    return next(s.env_var for s in SETTINGS if s.name == name)


def _positive_int(values: Mapping[str, str], name: str) -> int:
    text = values[name]
    # isascii: "³".isdigit() is True, but int("³") fails
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise ConfigError(f"{_env_var(name)} must be a whole number above 0, not {text!r}")
    return int(text)


def _at_most(values: Mapping[str, str], name: str, highest: int) -> int:
    number = _positive_int(values, name)
    if number > highest:
        raise ConfigError(f"{_env_var(name)} must be at most {highest:,}, not {number:,}")
    return number


def _on_off(values: Mapping[str, str], name: str) -> bool:
    text = values[name].lower()
    if text not in ("on", "off"):
        raise ConfigError(f"{_env_var(name)} must be 'on' or 'off', not {values[name]!r}")
    return text == "on"


def _clock_time(values: Mapping[str, str], name: str) -> str:
    text = values[name]
    hours, _, minutes = text.partition(":")
    if not (
        hours.isascii()
        and hours.isdigit()
        and minutes.isascii()
        and minutes.isdigit()
        and len(minutes) == 2
        and int(hours) < 24
        and int(minutes) < 60
    ):
        raise ConfigError(f"{_env_var(name)} must be a time like 02:00, not {text!r}")
    return f"{int(hours):02d}:{minutes}"


def env_template() -> str:
    """Every setting as an environment file for a service (systemd's ``EnvironmentFile``,
    docker compose's ``env_file``): each commented out at its default under what it is for,
    so the file documents every variable and changes nothing until a line is uncommented."""
    lines = [
        "# Venture CRM settings: uncomment a line to change it from its default.",
        "# Generated by `crm env-template` from crm_lib/config.py (every setting is here).",
    ]
    for setting in SETTINGS:
        lines += [
            "",
            *(f"# {part}" for part in _wrapped(setting.help)),
            f"#{setting.env_var}={setting.default}",
        ]
    return "\n".join(lines) + "\n"


def _wrapped(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]
