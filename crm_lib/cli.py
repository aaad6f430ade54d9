"""``crm``: the operator's command line. Each command is a few lines over the library.

Library errors (:class:`~crm_lib.errors.CRMError`) become a one-line ``Error: ...`` and exit code 1;
no traceback reaches the operator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from crm_lib import demo, doctor, services
from crm_lib.config import Settings, load_settings
from crm_lib.database import init_database, open_crm
from crm_lib.errors import CRMError
from crm_lib.services import count_by_list
from crm_lib.storage.migrations import latest_version

LEVEL_STYLE = {"ok": ("OK  ", "green"), "warn": ("WARN", "yellow"), "fail": ("FAIL", "red")}


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def library_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into clean CLI errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CRMError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding crm.db (default: $CRM_DATA_DIR or ./data).",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Venture CRM operator commands."""
    ctx.ensure_object(dict)
    ctx.obj["settings"] = load_settings(data_dir=data_dir)


@main.command()
@click.pass_context
@library_errors
def init(ctx: click.Context) -> None:
    """Create the data folder and database, or migrate it to the current schema."""
    settings = _settings(ctx)
    applied = init_database(settings)
    where = settings.database_path
    if applied:
        click.echo(f"Migrated {where} to schema {applied[-1]} (applied {applied}).")
    else:
        click.echo(f"{where} is up to date (schema {latest_version()}).")


@main.command("demo-data")
@click.option("--investors", default=2000, show_default=True, help="How many investors.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same data.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the demo's history leads up to (default: today).",
)
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) if data exists.")
@click.pass_context
@library_errors
def demo_data(ctx: click.Context, investors: int, seed: int, as_of: Any, if_empty: bool) -> None:
    """Fill a new database with a realistic, deterministic demo fund."""
    crm = open_crm(settings=_settings(ctx), actor="system:demo")
    try:
        existing = count_by_list(crm)["all"]
        if existing and if_empty:
            click.echo(f"Database already holds {existing} investors; demo data not loaded.")
            return
        as_of_date: date | None = as_of.date() if as_of else None
        summary = demo.load_demo_data(crm, investors=investors, seed=seed, as_of=as_of_date)
    finally:
        crm.close()
    click.echo(
        f"Loaded demo fund: {summary.funds} funds, {summary.investors} investors, "
        f"{summary.people} people, {summary.commitments} commitments, {summary.users} team members."
    )


@main.command("doctor")
@click.pass_context
def doctor_command(ctx: click.Context) -> None:
    """Check the install, the database and disk space; exit 1 if anything failed."""
    settings = _settings(ctx)
    click.echo(f"Venture CRM doctor — data folder {settings.data_dir}")
    report = doctor.run_checks(settings)
    for name, finding in report:
        label, colour = LEVEL_STYLE[finding.level]
        click.echo(f"{click.style(label, fg=colour)}  {name:<12} {finding.message}")
    failures = sum(f.level == "fail" for _, f in report)
    warnings = sum(f.level == "warn" for _, f in report)
    click.echo(f"{failures} failed, {warnings} warnings")
    if failures:
        ctx.exit(1)


def _print_link(link: Any, what: str) -> None:
    expires = link.invite["expires_at"][:16].replace("T", " ")
    click.echo(f"{what}. Send this one-time link (valid until {expires} UTC, works once):")
    click.echo(f"    {link.url}")


@main.command("create-admin")
@click.argument("email")
@click.pass_context
@library_errors
def create_admin(ctx: click.Context, email: str) -> None:
    """Print a one-time link that creates an admin account for EMAIL (also a way back in)."""
    crm = open_crm(settings=_settings(ctx), actor="system:cli")
    try:
        link = services.create_admin_link(crm, email)
    finally:
        crm.close()
    _print_link(link, f"Admin invite for {link.invite['email']}")


@main.command("invite")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["member", "admin"]),
    default="member",
    show_default=True,
    help="Members use the grid; admins also manage users, backups and security.",
)
@click.pass_context
@library_errors
def invite(ctx: click.Context, email: str, role: str) -> None:
    """Invite EMAIL to the CRM and print the invite link (valid 7 days)."""
    crm = open_crm(settings=_settings(ctx), actor="system:cli")
    try:
        link = services.invite_user(crm, email, role)
    finally:
        crm.close()
    _print_link(link, f"Invited {link.invite['email']} as {role}")


def _parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        column, sep, value = pair.rpartition("=")
        if not sep or not column.strip() or not value.strip():
            raise click.UsageError(f"{option} takes COLUMN=VALUE, not {pair!r}")
        parsed[column.strip()] = value.strip()
    return parsed


@main.command("import-airtable")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key", metavar="COLUMN", help="Column rows match investors on.")
@click.option("--profile", metavar="NAME", help="Saved mapping to use (and to save this one as).")
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows, report the bad ones.")
@click.option("--archive-missing", is_flag=True, help="Archive investors not in the file.")
@click.option("--encoding", help="Override the detected encoding (utf-8, utf-16, cp1252...).")
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="COLUMN=TARGET",
    help="Map a column: field:<key>, new:<type>, people, person:email, commitment:<fund>, skip.",
)
@click.option(
    "--date-order",
    "date_orders",
    multiple=True,
    metavar="COLUMN=mdy|dmy",
    help="How to read 1/2/2024 in a column (default: what its values show, else mdy).",
)
@click.option(
    "--errors-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the problems here as CSV.",
)
@click.option(
    "--as", "actor", default="system:import", show_default=True, help="Who history names."
)
@click.pass_context
def import_airtable(
    ctx: click.Context,
    file: Path,
    key: str | None,
    profile: str | None,
    dry_run: bool,
    skip_bad_rows: bool,
    archive_missing: bool,
    encoding: str | None,
    mappings: tuple[str, ...],
    date_orders: tuple[str, ...],
    errors_csv: Path | None,
    actor: str,
) -> None:
    """Import an Airtable CSV export: upsert investors, people and commitments.

    Exit status 0 when it succeeded (or the dry run found no errors), 1 when the file has data
    errors (nothing written unless --skip-bad-rows), 2 for usage errors.
    """
    from crm_lib.importers import airtable

    mapping = _parse_pairs(mappings, "--map")
    orders = _parse_pairs(date_orders, "--date-order")
    if any(v not in ("mdy", "dmy") for v in orders.values()):
        raise click.UsageError("--date-order takes COLUMN=mdy or COLUMN=dmy")
    crm = open_crm(settings=_settings(ctx), actor=actor)
    phases = {"reading": "Reading  ", "importing": "Importing"}
    bar: Any = None
    current = {"phase": "", "done": 0}

    def progress(phase: str, fraction: float) -> None:
        nonlocal bar
        if current["phase"] != phase:
            if bar is not None:
                bar.update(1000 - current["done"])
                bar.render_finish()
            bar = click.progressbar(
                length=1000, label=phases.get(phase, phase), file=click.get_text_stream("stderr")
            )
            current.update(phase=phase, done=0)
        step = int(fraction * 1000) - current["done"]
        if step > 0:
            bar.update(step)
            current["done"] += step

    large = file.stat().st_size > 2 * 1024 * 1024
    try:
        report = airtable.run(
            file,
            crm,
            key=key,
            profile=profile,
            mapping=mapping or None,
            encoding=encoding,
            date_orders=orders or None,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            archive_missing=archive_missing,
            progress=progress if large else None,
        )
    except CRMError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        if bar is not None:
            bar.render_finish()
        crm.close()
    for line in report.summary():
        click.echo(line)
    shown = report.issues[:20]
    for issue in shown:
        click.echo(f"  {issue.severity.upper():7} {issue.describe()}")
    if len(report.issues) > len(shown):
        click.echo(f"  ... and {len(report.issues) - len(shown):,} more (use --errors-csv FILE)")
    if errors_csv is not None:
        errors_csv.write_text(report.issues_csv(), encoding="utf-8")
        click.echo(f"Problems written to {errors_csv}")
    if report.committed:
        click.echo(f"Import {report.import_id} recorded ({report.seconds:.1f} s).")
    if report.errors and not (skip_bad_rows and (report.committed or dry_run or report.unchanged)):
        ctx.exit(1)
