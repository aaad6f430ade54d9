"""The secret key (strong enough, set in production) and the files holding secrets, which only
the CRM's user should read. The key itself is never printed, only its estimated strength."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from crm_lib.auth.secret_key import MAKE_ONE, estimate, weakness
from crm_lib.doctor.core import Finding, Setup, check
from crm_lib.doctor.storage import file_mode

#: The Google service account key kept by the admin page when no setting names one.
GOOGLE_KEY_FILE = "google-service-account.json"


def _secret_files(setup: Setup) -> list[Path]:
    settings = setup.settings
    google = settings.google_service_account_file or settings.data_dir / GOOGLE_KEY_FILE
    return [p for p in (settings.secret_key_file, google, *setup.env_files) if p.is_file()]


@check("secret key")
def check_secret_key(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    make_one = f"run {MAKE_ONE} and set CRM_SECRET_KEY to its output (keep it out of git)"
    if settings.secret_key:
        problem = weakness(settings.secret_key)
        if problem:
            yield Finding("fail" if settings.production else "warn", problem, make_one)
        else:
            bits = estimate(settings.secret_key).bits
            yield Finding("ok", f"CRM_SECRET_KEY is set and strong (about {bits:.0f} bits)")
    elif settings.production:
        yield Finding(
            "fail", "CRM_SECRET_KEY is not set: the server refuses to start in production", make_one
        )
    elif settings.secret_key_file.is_file():
        try:
            problem = weakness(settings.secret_key_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            problem = f"cannot read {settings.secret_key_file}: {exc.strerror}"
        if problem:
            fix = f"delete {settings.secret_key_file} (a new key is made at the next start)"
            yield Finding("warn", f"The development key: {problem}", fix)
        else:
            yield Finding("ok", f"Development key generated in {settings.secret_key_file}")
    else:
        yield Finding(
            "ok",
            f"CRM_SECRET_KEY unset (development): a key is generated into "
            f"{settings.secret_key_file} at the first start",
        )
    for path in _secret_files(setup):
        mode = file_mode(path)
        who = "every local user" if mode & stat.S_IRWXO else "its group" if mode & 0o070 else ""
        if who:
            yield Finding(
                "fail" if who == "every local user" else "warn",
                f"{path} holds secrets and {who} can read it (mode {mode:04o})",
                f"chmod 600 {path}",
            )
