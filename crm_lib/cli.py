"""``crm``: the operator's command line. Each command is a few lines over the library.

Only ``crm init`` (and the server) create a database; every other command opens an existing one
through :func:`_with_crm` and refuses, naming the path it looked at, when there is none.

Library errors (:class:`~crm_lib.errors.CRMError`) become a one-line ``Error: ...`` and exit code 1;
no traceback reaches the operator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from crm_lib import demo, doctor, services
from crm_lib.automations.templates import TEMPLATES
from crm_lib.config import Settings, load_settings
from crm_lib.database import init_database, open_crm
from crm_lib.errors import CRMError
from crm_lib.services import count_by_list
from crm_lib.storage.migrations import latest_version

LEVEL_STYLE = {"ok": ("OK  ", "green"), "warn": ("WARN", "yellow"), "fail": ("FAIL", "red")}


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _with_crm(ctx: click.Context, actor: str = "system:cli") -> Any:
    """Open the existing CRM (migrating it forward); never create one: that is `crm init`'s job."""
    return open_crm(settings=_settings(ctx), actor=actor, create=False)


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
@click.option(
    "--emails",
    type=int,
    default=None,
    help="Messages of demo mail between the team and investors (default: 1.5 per investor).",
)
@click.pass_context
@library_errors
def demo_data(
    ctx: click.Context,
    investors: int,
    seed: int,
    as_of: Any,
    if_empty: bool,
    emails: int | None,
) -> None:
    """Fill a new database with a realistic, deterministic demo fund and its mail."""
    crm = _with_crm(ctx, actor="system:demo")
    try:
        existing = count_by_list(crm)["all"]
        if existing and if_empty:
            click.echo(f"Database already holds {existing} investors; demo data not loaded.")
            return
        as_of_date: date | None = as_of.date() if as_of else None
        summary = demo.load_demo_data(crm, investors=investors, seed=seed, as_of=as_of_date)
        count = round(investors * 1.5) if emails is None else emails
        stored = demo.load_demo_email(crm, count, seed=seed, as_of=as_of_date)
    finally:
        crm.close()
    click.echo(
        f"Loaded demo fund: {summary.funds} funds, {summary.investors} investors, "
        f"{summary.people} people, {summary.commitments} commitments, {summary.users} team members"
        f", {stored} emails."
    )


def _public_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    problem = None if value is None else doctor.url_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value


@main.command("doctor")
@click.option(
    "--url",
    callback=_public_address,
    help="The address users type (e.g. https://crm.example.ts.net): also request /healthz "
    "through it and check HTTPS, the security headers and the scheme the app sees.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def doctor_command(ctx: click.Context, url: str | None, as_json: bool) -> None:
    """Check the install, the database, the data's permissions, backups, disk, secret key,
    time zone, proxy, mail and model endpoints; print what to fix; exit 1 if anything failed."""
    import json

    settings = _settings(ctx)
    report = doctor.run_checks(doctor.Setup(settings, url=url))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(f"Venture CRM doctor — data folder {settings.data_dir}")
        for name, findings in report.groups():
            for i, finding in enumerate(findings):
                label, colour = LEVEL_STYLE[finding.level]
                shown = name if i == 0 else ""
                click.echo(f"{shown:<12} {click.style(label, fg=colour)}  {finding.message}")
        to_fix = report.to_fix()
        if to_fix:
            click.echo("\nWhat to fix:")
            for name, finding in to_fix:
                label, colour = LEVEL_STYLE[finding.level]
                todo = finding.fix or finding.message
                click.echo(f"  {click.style(label, fg=colour)}  {name}: {todo}")
        plural = "" if report.warnings == 1 else "s"
        click.echo(f"\n{report.failed} failed, {report.warnings} warning{plural}")
    if report.failed:
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
    crm = _with_crm(ctx, actor="system:cli")
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
    crm = _with_crm(ctx, actor="system:cli")
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
    try:
        crm = _with_crm(ctx, actor=actor)
    except CRMError as exc:
        raise click.ClickException(exc.message) from None
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


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


@main.group("backup", invoke_without_command=True)
@click.pass_context
@library_errors
def backup(ctx: click.Context) -> None:
    """Take a backup now (the app may keep running); see the subcommands for the rest."""
    if ctx.invoked_subcommand is not None:
        return
    crm = _with_crm(ctx)
    try:
        row = services.create_backup(crm, "manual")
    finally:
        crm.close()
    click.echo(
        f"Backup {row['id']}: {row['file_name']}, {_size(row['size_bytes'])},"
        f" {row['duration_ms']} ms, integrity {row['integrity']}, sha256 {row['sha256'][:16]}…"
    )
    if row["integrity"] != "ok":
        ctx.exit(1)


@backup.command("list")
@click.option(
    "--from",
    "source",
    type=click.Choice(["folder", "s3"]),
    help="List the backups at this off-box destination instead (read from it, not from here).",
)
@click.pass_context
@library_errors
def backup_list(ctx: click.Context, source: str | None) -> None:
    """Backups on disk, newest first (id first on each line); with --from, off-box copies."""
    crm = _with_crm(ctx)
    try:
        if source is not None:
            remote = services.offbox_listing(crm, source)
        else:
            rows = services.list_backups(crm)
    finally:
        crm.close()
    if source is not None:
        _echo_offbox_listing(remote, source)
        return
    if not rows:
        click.echo("No backups yet: run `crm backup`.")
    for row in rows:
        click.echo(
            f"{row['id']:>5}  {row['started_at'][:19].replace('T', ' ')} UTC  {row['kind']:<13}"
            f" {_size(row['size_bytes']):>9}  verify {row['verify_status'] or '-':<6}"
            f" schema {row['schema_version']}  by {row['created_by']}  {row['file_name']}"
        )


@backup.command("verify")
@click.argument("backup_id", type=int)
@click.pass_context
@library_errors
def backup_verify(ctx: click.Context, backup_id: int) -> None:
    """Re-hash backup ID and re-run integrity_check; exit 1 if it failed."""
    crm = _with_crm(ctx)
    try:
        row = services.verify_backup(crm, backup_id)
    finally:
        crm.close()
    click.echo(f"Backup {backup_id}: {row['verify_status']} ({row['verify_detail']})")
    if row["verify_status"] != "ok":
        ctx.exit(1)


@backup.command("restore-test")
@click.pass_context
@library_errors
def backup_restore_test(ctx: click.Context) -> None:
    """Restore the newest verified backup into a temporary file and compare row counts."""
    crm = _with_crm(ctx)
    try:
        result = services.restore_test(crm)
    finally:
        crm.close()
    click.echo(f"Backup {result['backup_id']}: integrity {result['integrity']}")
    for table in result["tables"]:
        click.echo(f"  {table['table']:<28} backup {table['backup']:>9,}  live {table['live']:>9,}")
    click.echo("Restore test passed." if result["ok"] else "Restore test FAILED.")
    if not result["ok"]:
        ctx.exit(1)


def _echo_offbox_listing(rows: list[dict[str, Any]], source: str) -> None:
    if not rows:
        click.echo(f"No backups at the off-box {source}.")
    for row in rows:
        when = (row["backup_started_at"] or row["modified"])[:19].replace("T", " ")
        click.echo(
            f"{when} UTC  {row['kind'] or '?':<13} {_size(row['size_bytes']):>9}"
            f"  sha256 {(row['sha256'] or 'unknown')[:16]}  {row['name']}"
        )


def _ago(hours: float | None) -> str:
    if hours is None:
        return "?"
    return f"{hours:.0f} h old" if hours < 48 else f"{hours / 24:.1f} days old"


@backup.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
@library_errors
def backup_status(ctx: click.Context, as_json: bool) -> None:
    """The newest local backup and each off-box destination's newest copy, copies kept and
    last failure; exit 1 if anything needs attention (no verified local backup in 26 h, an
    off-box copy that failed last time or is of a backup over 2 days old)."""
    import json as json_module

    crm = _with_crm(ctx)
    try:
        status = services.offbox_status(crm)
    finally:
        crm.close()
    if as_json:
        click.echo(json_module.dumps(status, indent=2))
    else:
        local = status["local"]
        if local is None:
            click.echo("Local:   no backups yet (run `crm backup`)")
        else:
            click.echo(
                f"Local:   backup {local['id']} ({local['kind']}),"
                f" {local['started_at'][:16].replace('T', ' ')} UTC, {_ago(local['age_hours'])},"
                f" verify {local['verify_status'] or '-'}"
            )
        if not status["configured"]:
            click.echo("Off-box: not configured (set CRM_OFFBOX_DIR and/or CRM_OFFBOX_S3_URL)")
        for dest in status["destinations"]:
            last = dest["last_copy"]
            copied = (
                f"newest copy backup {last['backup_id']}"
                f" ({last['backup_started_at'][:16].replace('T', ' ')} UTC,"
                f" {_ago(last['age_hours'])}), {dest['copies']} kept"
                if last
                else "no copy yet"
            )
            click.echo(f"Off-box: {dest['destination']:<6} {dest['location']}: {copied}")
            failure = dest["last_failure"]
            if failure:
                click.echo(
                    f"         last failure {failure['at'][:16].replace('T', ' ')} UTC"
                    f" (backup {failure['backup_id']}): {failure['detail']}"
                )
        for problem in status["problems"]:
            click.echo(f"PROBLEM  {problem}")
        if status["ok"]:
            click.echo("All well.")
    if not status["ok"]:
        ctx.exit(1)


@backup.command("offbox")
@click.argument("backup_id", type=int, required=False)
@click.pass_context
@library_errors
def backup_offbox(ctx: click.Context, backup_id: int | None) -> None:
    """Copy backup BACKUP_ID (default: the newest verified) to each off-box destination now,
    read it back and check its SHA-256; exit 1 if a copy failed."""
    crm = _with_crm(ctx)
    try:
        copies = services.copy_offbox(crm, backup_id)
    finally:
        crm.close()
    if not copies:
        raise click.ClickException(
            "No off-box destination is configured: set CRM_OFFBOX_DIR and/or CRM_OFFBOX_S3_URL"
        )
    for row in copies:
        click.echo(
            f"Backup {row['backup_id']} → {row['destination']} {row['remote_key']}:"
            f" {row['status']} ({row['detail']})"
        )
    if any(row["status"] != "ok" for row in copies):
        ctx.exit(1)


@backup.command("fetch")
@click.argument("name", required=False)
@click.option("--latest", is_flag=True, help="The newest backup at the destination.")
@click.option(
    "--from",
    "source",
    type=click.Choice(["folder", "s3"]),
    required=True,
    help="The off-box destination to fetch from.",
)
@click.pass_context
@library_errors
def backup_fetch(ctx: click.Context, name: str | None, latest: bool, source: str) -> None:
    """Download off-box backup NAME (or --latest) into the backup folder, check its SHA-256
    and integrity_check, and list it as a backup; then restore it with `crm restore ID`."""
    if latest == (name is not None):
        raise click.UsageError("Give a NAME (see `crm backup list --from ...`) or --latest")
    crm = _with_crm(ctx)
    try:
        row = services.fetch_offbox(crm, source, name, latest=latest)
    finally:
        crm.close()
    done = "Fetched" if row["fetched"] else "Already on disk:"
    click.echo(
        f"{done} {row['file_name']} from {row['source']}: backup {row['id']}"
        f" ({row['kind']}, {row['started_at'][:16].replace('T', ' ')} UTC,"
        f" {_size(row['size_bytes'])}), SHA-256 and integrity_check ok."
    )
    click.echo(f"Restore it with: crm restore {row['id']}")


@main.command("restore")
@click.argument("backup_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@library_errors
def restore_command(ctx: click.Context, backup_id: int, yes: bool) -> None:
    """Replace the live data with backup ID (a pre-restore backup is taken first)."""
    crm = _with_crm(ctx)
    try:
        preview = services.restore_preview(crm, backup_id)
        if not preview["restorable"]:
            raise click.ClickException(preview["reason"])
        click.echo(f"Restoring backup {backup_id} ({preview['backup']['file_name']}):")
        for key, label in (
            ("investors_back", "come back"),
            ("investors_gone", "disappear"),
            ("investors_changed", "change"),
        ):
            part = preview[key]
            examples = ", ".join(part["examples"])
            click.echo(
                f"  {part['count']:,} investors {label}"
                + (f" (e.g. {examples})" if examples else "")
            )
        if not yes:
            click.confirm("Replace the live data with this backup?", abort=True)
        done = services.restore_backup(crm, backup_id)
    finally:
        crm.close()
    click.echo(
        f"Restored backup {done['restored']}; the data before it is backup"
        f" {done['pre_restore_backup']}."
    )


@main.group("jobs")
def jobs_group() -> None:
    """Scheduled notebook jobs (the server runs them; these run or list them by hand)."""


@jobs_group.command("run")
@click.argument("name")
@click.pass_context
@library_errors
def jobs_run(ctx: click.Context, name: str) -> None:
    """Run job NAME now (e.g. nightly_backup); exit 1 if it failed."""
    crm = _with_crm(ctx, actor=f"system:job:{name}")
    try:
        row = services.run_job_now(crm, name)
    finally:
        crm.close()
    click.echo(f"Run {row['id']} of {name}: {row['status']}")
    if row["html_file"]:
        click.echo(f"  notebook: {_settings(ctx).jobs_dir / 'runs' / row['html_file']}")
    if row["status"] != "ok":
        click.echo(f"  error: {row['error']}")
        ctx.exit(1)


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True)
@click.pass_context
@library_errors
def jobs_list(ctx: click.Context, limit: int) -> None:
    """Recent job runs, newest first, then any alerts."""
    crm = _with_crm(ctx)
    try:
        runs = services.list_job_runs(crm, limit=limit)
        warnings = services.alerts(crm)
    finally:
        crm.close()
    if not runs:
        click.echo("No job runs yet.")
    for run in runs:
        ended = (run["finished_at"] or "")[:19].replace("T", " ")
        click.echo(
            f"{run['id']:>5}  {run['job']:<16} {run['started_at'][:19].replace('T', ' ')} UTC"
            f" → {ended or 'running'}  {run['status']:<7} attempt {run['attempt']}"
            + (f"  {run['error'][:80]}" if run["error"] else "")
        )
    for alert in warnings:
        click.echo(f"ALERT {alert['message']}")


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "xlsx"]),
    default=None,
    help="Default: FILE's suffix (.csv, .json, .xlsx).",
)
@click.option("--view", "view_id", type=int, default=None, help="A shared view's id.")
@click.option(
    "--list",
    "list_membership",
    type=click.Choice(["all", "main", "follow_up", "graveyard", "longshot"]),
    default=None,
    help="Which list (default: the view's, else all).",
)
@click.option("--search", default=None, help="Only investors whose name, location or notes match.")
@click.pass_context
@library_errors
def export_command(
    ctx: click.Context,
    file: Path,
    fmt: str | None,
    view_id: int | None,
    list_membership: str | None,
    search: str | None,
) -> None:
    """Export investors as the grid shows them (a list or a shared view) to CSV, JSON or XLSX."""
    fmt = fmt or file.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json", "xlsx"):
        raise click.UsageError(f"Say --format csv, json or xlsx ({file.name} has no such suffix)")
    crm = _with_crm(ctx)
    partial = file.with_name(f".{file.name}.part")
    try:
        view = services.get_view(crm, view_id) if view_id is not None else None
        query = services.export_query(view, list_membership=list_membership, search=search)
        with partial.open("wb") as out:  # a failed export leaves no half-written FILE
            count = services.write_export(crm, fmt, out, bom=fmt == "csv", **query)
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
        crm.close()
    click.echo(f"Exported {count:,} investors to {file} ({fmt.upper()}).")


@main.command("load-snapshot")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@library_errors
def load_snapshot_command(ctx: click.Context, file: Path) -> None:
    """Load a grid snapshot (GET /api/fundraising/export) into an empty database."""
    import json

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file} is not a JSON export: {exc}") from None
    crm = _with_crm(ctx)
    try:
        counts = services.load_snapshot(crm, document)
    finally:
        crm.close()
    click.echo("Loaded " + ", ".join(f"{n:,} {what}" for what, n in counts.items()) + ".")


@main.group("email")
def email_group() -> None:
    """Captured email: import mailbox files, mailbox status, the proposal queue."""


@email_group.command("import-mbox")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--account", required=True, metavar="EMAIL", help="The mailbox's address.")
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
@click.pass_context
@library_errors
def email_import_mbox(ctx: click.Context, file: Path, account: str, dry_run: bool) -> None:
    """Import an mbox (Google Takeout or any), an .eml file or a folder of .eml files.

    Exit 0 when every message was read, 1 when some could not be (listed with their reasons),
    2 when none could be read."""
    crm = _with_crm(ctx)
    try:
        report = services.import_mailbox(crm, file, account, dry_run=dry_run)
    finally:
        crm.close()
    prefix = "Dry run, nothing written: would have " if dry_run else ""
    click.echo(
        f"{prefix}read {report.read:,} messages: {report.stored:,} stored,"
        f" {report.duplicates:,} already stored (duplicates), {report.linked:,} linked to"
        f" investors, {report.proposed:,} proposed for review, {report.skipped_total:,} skipped,"
        f" {len(report.failed):,} unreadable."
    )
    for reason, count in report.skipped.most_common():
        click.echo(f"  skipped {count:,}: {reason}")
    for source, reason in report.failed[:50]:
        click.echo(f"  unreadable: {source}: {reason}")
    if len(report.failed) > 50:
        click.echo(f"  … and {len(report.failed) - 50:,} more unreadable messages")
    if report.read == 0 or len(report.failed) == report.read:
        ctx.exit(2)
    if report.failed:
        ctx.exit(1)


@email_group.command("sync")
@click.option("--account", metavar="EMAIL", help="Only this mailbox (even if paused or failed).")
@click.pass_context
@library_errors
def email_sync(ctx: click.Context, account: str | None) -> None:
    """Sync the chosen team members' Gmail now; exit 1 if a mailbox failed."""
    crm = _with_crm(ctx, actor="system:cli:email-sync")
    try:
        results = services.sync_email(crm, account)
    finally:
        crm.close()
    if not results:
        click.echo("No mailbox is due: choose mailboxes to sync on the admin page.")
    for row in results:
        counts = (
            f"{row.get('stored', 0):,} stored, {row.get('linked', 0):,} linked,"
            f" {row.get('proposed', 0):,} proposed, {row.get('deleted', 0):,} removed"
        )
        click.echo(
            f"{row['account']}: {row['status']}"
            + (f" ({row.get('stage')}) {counts}" if row["status"] == "idle" else "")
            + (f" - {row['error']}" if row.get("error") else "")
        )
    if any(row["status"] == "failed" for row in results):
        ctx.exit(1)


@email_group.command("status")
@click.pass_context
@library_errors
def email_status(ctx: click.Context) -> None:
    """Each mailbox: owner, source, sharing, status, last sync, stored messages, failures."""
    crm = _with_crm(ctx)
    try:
        accounts = services.email_accounts(crm)
        pending = services.list_proposals(crm, limit=1)["total"]
    finally:
        crm.close()
    if not accounts:
        click.echo("No mailboxes yet: `crm email import-mbox FILE --account EMAIL` adds one.")
    for row in accounts:
        last = (row["last_sync_at"] or "never")[:19].replace("T", " ")
        click.echo(
            f"{row['email']:<32} {row['source']:<6} sharing {row['sharing']:<10}"
            f" {row['status']:<7} last {last}  {row['messages_stored']:,} stored"
            f"  {row['failures']:,} unreadable"
            + (f"  error: {row['last_error']}" if row["last_error"] else "")
        )
    click.echo(f"{pending:,} proposals waiting for review.")


@email_group.command("proposals")
@click.option("--approve", "approve", type=int, multiple=True, metavar="ID", help="Approve.")
@click.option("--reject", "reject", type=int, multiple=True, metavar="ID", help="Reject.")
@click.option("--add-people", is_flag=True, help="Approving adds the correspondent as a person.")
@click.pass_context
@library_errors
def email_proposals(
    ctx: click.Context, approve: tuple[int, ...], reject: tuple[int, ...], add_people: bool
) -> None:
    """List pending proposals (id first), or decide the ones named."""
    crm = _with_crm(ctx)
    try:
        if approve:
            done = services.decide_proposals(crm, approve, approve=True, add_person=add_people)
            click.echo(f"Approved {done['approved']:,}; {done['people_added']:,} people added.")
        if reject:
            done = services.decide_proposals(crm, reject, approve=False)
            click.echo(f"Rejected {done['rejected']:,} (their domains are not proposed again).")
        if not (approve or reject):
            listed = services.list_proposals(crm, limit=200)
            for row in listed["proposals"]:
                when = (row["sent_at"] or "")[:10]
                click.echo(
                    f"{row['id']:>6}  {when}  {row['investor_name']}  ←  {row['address']}"
                    f"  ({row['confidence']:.0%})  {row['subject']}"
                )
            click.echo(f"{listed['total']:,} pending.")
    finally:
        crm.close()


def _moment(text: str | None, option: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date or time", param_hint=option
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.group("digest")
def digest_group() -> None:
    """The daily digest: preview it, send it, test the mail transport, see the last sends."""


@digest_group.command("preview")
@click.option("--since", metavar="ISO", help="Window start (default: the last digest's end).")
@click.option("--until", metavar="ISO", help="Window end (default: now).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html"]), default="text", show_default=True
)
@click.pass_context
@library_errors
def digest_preview(ctx: click.Context, since: str | None, until: str | None, fmt: str) -> None:
    """Print the digest without sending it (narratives by the local model when one is
    configured, else written from the data)."""
    crm = _with_crm(ctx, actor="system:cli:digest")
    try:
        preview = services.preview_digest(
            crm, since=_moment(since, "--since"), until=_moment(until, "--until")
        )
    finally:
        crm.close()
    click.echo(preview[fmt], nl=False)


@digest_group.command("send")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="EMAIL",
    help="Only these admins (a copy: the next"
    " digest still starts where the last one ended). Default: every admin.",
)
@click.pass_context
@library_errors
def digest_send(ctx: click.Context, to: tuple[str, ...]) -> None:
    """Send the digest now (to admins only); exit 1 if no transport delivered it."""
    crm = _with_crm(ctx, actor="system:cli:digest")
    try:
        row = services.send_digest(crm, to=list(to) or None)
    finally:
        crm.close()
    click.echo(
        f"Sent “{row['subject']}” to {', '.join(row['recipients'])} by {row['transport']}"
        f" ({row['html_bytes']:,} bytes HTML, narratives from the {row['narrative']})."
    )


@digest_group.command("test-email")
@click.option("--to", "to", multiple=True, metavar="EMAIL", help="Admins to send it to.")
@click.pass_context
@library_errors
def digest_test_email(ctx: click.Context, to: tuple[str, ...]) -> None:
    """Send a short test message through the digest's transport (to admins only)."""
    crm = _with_crm(ctx, actor="system:cli:digest")
    try:
        row = services.send_test_email(crm, to=list(to) or None)
    finally:
        crm.close()
    click.echo(f"Test email sent to {', '.join(row['recipients'])} by {row['transport']}.")


@digest_group.command("status")
@click.pass_context
@library_errors
def digest_status(ctx: click.Context) -> None:
    """The digest policy, the next send and the last sends."""
    crm = _with_crm(ctx, actor="system:cli:digest")
    try:
        policy = services.digest_policy(crm)
        sends = services.digest_sends(crm, limit=10)
    finally:
        crm.close()
    state = "on" if policy["enabled"] else "off (an admin turns it on on the admin page)"
    click.echo(
        f"Digest {state}; at {policy['send_at']} {policy['timezone']}, transport"
        f" {policy['transport']}; next {(policy['next_send_at'] or '-')[:16]} UTC."
    )
    for row in sends:
        click.echo(
            f"{row['started_at'][:16].replace('T', ' ')}  {row['kind']:<9} {row['status']:<11}"
            f" {row['transport'] or '-':<6} {len(row['recipients'])} recipient(s)"
            + (f"  {row['error']}" if row["error"] else "")
        )


class _SearchGroup(click.Group):
    """`crm search QUERY ...` searches; `crm search reindex` and `crm search status` manage."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@main.group("search", cls=_SearchGroup)
def search_group() -> None:
    """Search email, notes, long-text fields and titles: `crm search QUERY [--mode hybrid]`."""


@search_group.command("query")
@click.argument("text", nargs=-1, required=True)
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "semantic", "keyword"]),
    default="hybrid",
    show_default=True,
)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--type", "doc_type", type=click.Choice(["email", "note", "field"]))
@click.option("--investor", "investor_id", type=int, help="One investor's id.")
@click.option("--json", "as_json", is_flag=True, help="Hits as JSON (lp_id, lp_name, ...).")
@click.pass_context
@library_errors
def search_query(
    ctx: click.Context,
    text: tuple[str, ...],
    mode: str,
    limit: int,
    doc_type: str | None,
    investor_id: int | None,
    as_json: bool,
) -> None:
    """Search for TEXT. While the server runs it holds the index: set CRM_API_TOKEN (a token
    from your account page) and the search goes through the server's API."""
    import json as json_module

    from crm_lib.search_client import search

    result = search(
        " ".join(text),
        mode=mode,
        limit=limit,
        doc_type=doc_type,
        investor_id=investor_id,
        settings=_settings(ctx),
        actor="system:cli:search",
    )
    hits = result["hits"]
    if as_json:
        keys = ("lp_id", "lp_name", "doc_type", "email_id", "thread_id", "date", "score", "snippet")
        click.echo(json_module.dumps([{k: h.get(k) for k in keys} for h in hits], indent=1))
        return
    if not hits:
        click.echo("No matches.")
    for hit in hits:
        when = (hit.get("date") or "")[:10]
        click.echo(
            f"{hit['score']:.3f}  {hit['lp_name']}  [{hit['doc_type']}] {when}  {hit['title']}"
        )
        click.echo(f"       {hit['snippet']}")


@contextmanager
def _search_index(ctx: click.Context) -> Iterator[tuple[Any, Any]]:
    """The CRM and the local search index, both closed afterwards (the index refuses with a
    message naming the fix while the server holds it)."""
    from crm_lib.services.search import open_search_index

    index = open_search_index(_settings(ctx))
    crm = _with_crm(ctx, actor="system:cli:search")
    try:
        yield crm, index
    finally:
        crm.close()
        index.client.close()


@search_group.command("reindex")
@click.pass_context
@library_errors
def search_reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database (the server must be stopped: it holds the
    index and keeps it in step by itself)."""
    with _search_index(ctx) as (crm, index):
        report = services.reindex_search(crm, index)
    click.echo(f"Indexed {report.documents:,} documents in {report.chunks:,} chunks.")


@search_group.command("status")
@click.pass_context
@library_errors
def search_status_command(ctx: click.Context) -> None:
    """What built the index, whether it is current, and how many chunks it holds."""
    with _search_index(ctx) as (crm, index):
        status = services.search_status(crm, index)
    state = "current" if status["current"] else "to be rebuilt"
    click.echo(f"{status['chunks']:,} chunks, {state}; built with {status['stamp']}")


@main.command("ask")
@click.argument("question", nargs=-1)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the scrubbed question and the exact request body for Claude; send nothing.",
)
@click.option("--sql", default=None, help="Run this SQL (through the same validator) instead.")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value for a curated question's or the SQL's parameter (DAYS=30, FUND=Fund II).",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"sql", "params", "columns", "rows"}.')
@click.option("--list", "list_questions", is_flag=True, help="List the curated questions.")
@click.pass_context
def ask_command(
    ctx: click.Context,
    question: tuple[str, ...],
    dry_run: bool,
    sql: str | None,
    params: tuple[str, ...],
    as_json: bool,
    list_questions: bool,
) -> None:
    """Ask QUESTION in plain English: a curated question (`crm ask --list`; its key works too)
    runs offline; any other goes to Claude when ANTHROPIC_API_KEY is set, scrubbed of names,
    addresses, phone numbers and amounts. The answer's SQL is shown; rows are read-only."""
    import json as json_module

    from crm_lib.ask.validate import QueryRefused
    from crm_lib.services.ask import AskEngine

    given = dict(_parameter(text) for text in params)
    crm = _with_crm(ctx, actor="system:cli:ask")
    engine = AskEngine(_settings(ctx))
    try:
        if list_questions:
            for item in services.curated_questions(crm):
                names = " ".join(
                    f"{p['name']}={'?' if p['default'] is None else p['default']}"
                    for p in item["parameters"]
                )
                click.echo(
                    f"{item['key']:<32} {item['question']}" + (f"  [{names}]" if names else "")
                )
            return
        text = " ".join(question).strip()
        if sql is None and not text:
            raise click.UsageError("Give a QUESTION, --sql SQL or --list")
        key = text if text in {q["key"] for q in services.curated_questions(crm)} else None
        if sql is not None:
            answer = services.ask_sql(crm, engine, sql, params=given, question=text)
        else:
            answer = services.ask(crm, engine, text, params=given, key=key, dry_run=dry_run)
    except QueryRefused as exc:
        raise click.ClickException(f"{exc.message} (rule: {exc.rule})") from None
    except CRMError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.close()
        crm.close()
    if answer["source"] == "dry_run":
        click.echo(f"Would send (scrubbed): {answer['scrubbed_question']}")
        if not answer["model_ready"]:
            click.echo("ANTHROPIC_API_KEY is not set: nothing would be sent until it is.")
        click.echo(json_module.dumps(answer["request_body"], indent=1, ensure_ascii=False))
        return
    if as_json:
        shown = {k: answer[k] for k in ("sql", "params", "columns", "rows")}
        click.echo(json_module.dumps(shown, indent=1, ensure_ascii=False))
        return
    click.echo(answer["explanation"] or answer["question"])
    click.echo(f"SQL: {' '.join(answer['sql'].split())}")
    if answer["params"]:
        click.echo("Params: " + ", ".join(f"${k}={v!r}" for k, v in answer["params"].items()))
    click.echo(_table(answer["columns"], answer["rows"]))
    more = " (the first 1,000)" if answer["truncated"] else ""
    click.echo(f"{answer['row_count']:,} row{'s' if answer['row_count'] != 1 else ''}{more}.")


def _parameter(text: str) -> tuple[str, str | int]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="--param")
    return name.strip(), int(value) if value.isascii() and value.isdigit() else value


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    """Rows as aligned text columns (each cell cut at 40 characters)."""

    def cell(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 75000000, not 75000000.0
        text = "" if value is None else " ".join(str(value).split())
        return text if len(text) <= 40 else text[:39] + "…"

    cells = [[cell(c) for c in columns], *([cell(v) for v in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _money(amount: float | None) -> str:
    return "-" if amount is None else f"{amount:,.0f}"


@main.command("pipeline")
@click.option("--fund", "fund_name", default=None, help="One fund, by name (default: every fund).")
@click.option("--json", "as_json", is_flag=True, help="The summaries as JSON.")
@click.pass_context
@library_errors
def pipeline_command(ctx: click.Context, fund_name: str | None, as_json: bool) -> None:
    """Each fund's pipeline per stage: count, expected and weighted totals, and the fund's
    target and committed total."""
    import json as json_module

    crm = _with_crm(ctx, actor="system:cli:pipeline")
    try:
        funds = services.list_funds(crm)
        if fund_name is not None:
            funds = [f for f in funds if f["name"].casefold() == fund_name.strip().casefold()]
            if not funds:
                raise click.ClickException(f"No fund is named {fund_name!r}")
        summaries = [services.pipeline_summary(crm, fund["id"]) for fund in funds]
    finally:
        crm.close()
    if as_json:
        click.echo(json_module.dumps(summaries, indent=1, ensure_ascii=False))
        return
    for summary in summaries:
        click.echo(
            f"{summary['name']}: target {_money(summary['target_size'])},"
            f" committed {_money(summary['committed'])}; open pipeline"
            f" {_money(summary['open_expected'])} expected,"
            f" {_money(summary['open_weighted'])} weighted ({summary['open_count']:,} open)"
        )
        for stage in summary["stages"]:
            click.echo(
                f"  {stage['name']:<16} {stage['count']:>6,}  expected {_money(stage['expected']):>14}"
                f"  weighted {_money(stage['weighted']):>14}  ({stage['probability']:.0%})"
            )


def _team_member(crm: Any, email: str) -> Any:
    """``crm`` acting as the active team member with this email."""
    found = [u for u in services.list_users(crm) if u["email"].casefold() == email.casefold()]
    if not found or not found[0]["is_active"]:
        raise click.ClickException(f"No active team member {email}")
    return crm.as_user(found[0])


class _TasksGroup(click.Group):
    """`crm tasks [--mine] [--overdue] [--json]` lists; `crm tasks add TITLE` adds."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@main.group("tasks", cls=_TasksGroup)
def tasks_group() -> None:
    """Tasks: `crm tasks [--mine --as EMAIL] [--overdue] [--json]`, `crm tasks add TITLE`."""


@tasks_group.command("list")
@click.option("--mine", is_flag=True, help="Only the tasks of the team member given by --as.")
@click.option("--overdue", is_flag=True, help="Only tasks due before today.")
@click.option("--as", "as_email", default=None, help="The team member you are (for --mine).")
@click.option("--json", "as_json", is_flag=True, help="The tasks as JSON.")
@click.pass_context
@library_errors
def tasks_list(
    ctx: click.Context, mine: bool, overdue: bool, as_email: str | None, as_json: bool
) -> None:
    """Open tasks by due date (undated last)."""
    import json as json_module

    from crm_lib.clock import today

    if mine and not as_email:
        raise click.UsageError("--mine needs --as EMAIL: the shell does not know who you are")
    crm = _with_crm(ctx, actor="system:cli:tasks")
    try:
        acting = _team_member(crm, as_email) if as_email else crm
        tasks = services.list_tasks(
            acting,
            assignee_id=acting.user_id if mine else None,
            due_before=today(crm.clock) if overdue else None,
        )
    finally:
        crm.close()
    if as_json:
        keys = (
            "id",
            "title",
            "due_on",
            "priority",
            "status",
            "investor_id",
            "investor_name",
            "assignee_name",
            "version",
        )
        click.echo(json_module.dumps([{k: t[k] for k in keys} for t in tasks], indent=1))
        return
    if not tasks:
        click.echo("No open tasks.")
    for task in tasks:
        about = f"  [{task['investor_name']}]" if task["investor_name"] else ""
        click.echo(
            f"{task['id']:>6}  {task['due_on'] or '(no date)':<10}  {task['priority']:<6}"
            f"  {task['assignee_name'] or '-':<14}  {task['title']}{about}"
        )


@tasks_group.command("add")
@click.argument("title")
@click.option("--investor", "investor_name", default=None, help="The investor, by name.")
@click.option("--due", default=None, help="Due date, YYYY-MM-DD.")
@click.option("--assignee", default=None, help="The team member it is for, by email.")
@click.option("--priority", type=click.Choice(["low", "normal", "high"]), default="normal")
@click.pass_context
@library_errors
def tasks_add(
    ctx: click.Context,
    title: str,
    investor_name: str | None,
    due: str | None,
    assignee: str | None,
    priority: str,
) -> None:
    """Add a task (for --assignee, about --investor, due --due)."""
    crm = _with_crm(ctx, actor="system:cli:tasks")
    try:
        values: dict[str, Any] = {"title": title, "due_on": due, "priority": priority}
        if investor_name:
            values["investor_id"] = services.investor_named(crm, investor_name)["id"]
        if assignee:
            values["assignee_id"] = _team_member(crm, assignee).user_id
        task = services.create_task(crm, values)
    finally:
        crm.close()
    click.echo(f"Added task {task['id']}: {task['title']}")


@main.group("automations")
def automations_group() -> None:
    """Automation rules: list them, run one (or dry-run it), turn one on or off."""


def _rule_named(crm: Any, name: str) -> dict[str, Any]:
    wanted = " ".join(name.split()).casefold()
    for rule in services.list_rules(crm):
        if rule["name"].casefold() == wanted:
            return rule
    names = ", ".join(repr(r["name"]) for r in services.list_rules(crm)) or "none yet"
    raise click.ClickException(f"No rule is named {name!r} (rules: {names})")


@automations_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@library_errors
def automations_list(ctx: click.Context, as_json: bool) -> None:
    """Every rule as its sentence, on or off, with its last run."""
    import json as json_module

    crm = _with_crm(ctx, actor="system:cli:automations")
    try:
        rules = services.list_rules(crm)
    finally:
        crm.close()
    if as_json:
        click.echo(json_module.dumps(rules, indent=1, ensure_ascii=False, default=str))
        return
    if not rules:
        click.echo("No rules yet (templates: crm automations add TEMPLATE).")
    for rule in rules:
        last = rule["last_run"]
        ran = f"last run {last['finished_at'][:16]}: {last['message']}" if last else "never run"
        click.echo(f"[{'on ' if rule['enabled'] else 'off'}] {rule['name']}: {rule['sentence']}")
        click.echo(f"      {ran}")


@automations_group.command("add")
@click.argument("template", type=click.Choice(sorted(TEMPLATES)))
@click.pass_context
@library_errors
def automations_add(ctx: click.Context, template: str) -> None:
    """Create a rule from a template (off: dry-run it, then enable it)."""
    crm = _with_crm(ctx, actor="system:cli:automations")
    try:
        rule = services.create_rule_from_template(crm, template)
    finally:
        crm.close()
    click.echo(f"Added (off): {rule['name']}: {rule['sentence']}")


@automations_group.command("run")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.pass_context
@library_errors
def automations_run(ctx: click.Context, name: str, dry_run: bool, as_json: bool) -> None:
    """Run the rule called NAME now (or dry-run it), and print what it changed."""
    import json as json_module

    crm = _with_crm(ctx, actor="system:cli:automations")
    try:
        rule = _rule_named(crm, name)
        run = (services.dry_run_rule if dry_run else services.run_rule)(crm, rule["id"])
    finally:
        crm.close()
    if as_json:
        click.echo(json_module.dumps(run, indent=1, ensure_ascii=False, default=str))
    else:
        click.echo(run["message"])
        for change in run["changes"][:50]:
            click.echo(
                f"  {change['name']}: {change['field']} {change['before']!r} -> {change['after']!r}"
            )
        for error in run["errors"][:20]:
            click.echo(f"  not changed: {error['name']}: {error['error']}")
    if run["status"] == "refused":
        raise SystemExit(1)


def _set_enabled(ctx: click.Context, name: str, enabled: bool) -> None:
    crm = _with_crm(ctx, actor="system:cli:automations")
    try:
        rule = _rule_named(crm, name)
        if rule["enabled"] != enabled:
            rule = services.update_rule(
                crm, rule["id"], {"enabled": enabled}, expected_version=rule["version"]
            )
    finally:
        crm.close()
    click.echo(f"{rule['name']} is {'on' if rule['enabled'] else 'off'}.")


@automations_group.command("enable")
@click.argument("name")
@click.pass_context
@library_errors
def automations_enable(ctx: click.Context, name: str) -> None:
    """Turn the rule called NAME on."""
    _set_enabled(ctx, name, True)


@automations_group.command("disable")
@click.argument("name")
@click.pass_context
@library_errors
def automations_disable(ctx: click.Context, name: str) -> None:
    """Turn the rule called NAME off."""
    _set_enabled(ctx, name, False)


@main.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@library_errors
def upgrade_command(ctx: click.Context, as_json: bool) -> None:
    """Bring the database to this release: back up, migrate, verify; or, if a migration or a
    check fails, restore the backup and say why (exit 1). A newer database is refused."""
    import json as json_module

    from crm_lib.upgrade import upgrade

    report = upgrade(_settings(ctx))
    if as_json:
        click.echo(json_module.dumps(report.as_dict(), indent=1))
    elif report.outcome == "current":
        click.echo(f"Already at schema version {report.to_version}: nothing to do.")
    elif report.outcome == "upgraded":
        click.echo(
            f"Upgraded schema {report.from_version} -> {report.to_version}"
            f" (backup first: {report.backup})."
        )
        for check in report.checks:
            click.echo(f"  ok: {check}")
    else:
        click.echo(
            f"The upgrade failed; the database is back at schema version {report.from_version}"
            f" (restored from {report.backup})."
        )
        for problem in report.problems:
            click.echo(f"  problem: {problem}")
    if report.outcome == "restored":
        raise SystemExit(1)


@main.command("env-template")
def env_template_command() -> None:
    """Print every setting as an environment file (for systemd or docker compose), each line
    commented out at its default (deploy/venture-crm.env.example is this output)."""
    from crm_lib.config import env_template

    click.echo(env_template(), nl=False)
