"""Settings, declared once, read from the environment in one place.

Every setting has a name, an environment variable, a default and a line of help, so that
``crm doctor`` and the docs can list them and nothing else in the code reads ``os.environ``.
Later issues add their settings to ``SETTINGS`` (secret key, SMTP, Qdrant URL, ...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


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
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process. Build with :func:`load_settings`."""

    data_dir: Path
    env: str = "development"

    @property
    def database_path(self) -> Path:
        """The system of record: one SQLite file inside the data folder."""
        return self.data_dir / "crm.db"

    @property
    def backup_dir(self) -> Path:
        """Where automatic pre-migration copies (and later nightly backups) go."""
        return self.data_dir / "backups"


def load_settings(
    environ: Mapping[str, str] | None = None, *, data_dir: str | Path | None = None
) -> Settings:
    """Read settings from ``environ`` (default: the process environment).

    ``data_dir`` wins over ``CRM_DATA_DIR`` so a command-line flag can override the environment.
    """
    env = os.environ if environ is None else environ
    values = {s.name: env.get(s.env_var, s.default) for s in SETTINGS}
    chosen_dir = Path(data_dir) if data_dir is not None else Path(values["data_dir"])
    return Settings(data_dir=chosen_dir.expanduser().resolve(), env=values["env"])
