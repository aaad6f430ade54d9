"""The import panel of the grid: an Airtable CSV export in, investors out. Upload the file, check
the mapping table (what each column becomes, its inferred type, samples, and the cells that would
not convert), preview the changes (a dry run: counts, the first row changes, the problems as a
downloadable CSV), then import, with a progress bar.

The library does the work (:mod:`crm_lib.importers.airtable`); this panel keeps the staged upload
and the person's choices, and shows what the library reports. Reading a 30 MB export takes
seconds, so every step runs on a long-work thread (``apps.runtime.LONG_WORK``, apart from the pool
logins and API calls use) with the session's own Context (re-checked on each call, like every
action of the page), and its progress comes back through the document's next-tick callback, the
one thread-safe way into a Bokeh document. Without a browser (tests, notebooks) there is no event
loop to keep free, and the steps run inline.

"Import" is enabled only by a clean dry run of the current settings (mapping, key, options), so
what is written is what the person has just read.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import panel as pn

from apps.chrome import read_only_table, table_frame
from apps.formatting import PLAIN, Show, pills, plural
from apps.grid.fields_panel import TYPE_LABELS
from apps.markup import escape_text
from apps.record.changes import stored_value_text
from apps.runtime import run_long
from crm_lib import limits, services
from crm_lib.context import Context
from crm_lib.errors import CRMError
from crm_lib.importers import airtable
from crm_lib.importers.report import ColumnPreview, ImportPreview, ImportReport, Issue, RowDiff
from crm_lib.services.fields import EDITABLE_TYPES

if TYPE_CHECKING:
    from apps.grid.host import GridHost
    from apps.grid.outcome import Outcome

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Parts of a person that one column each can fill (``person:<part>``).
PERSON_PARTS = ("full_name", "email", "title", "phone")
#: Row changes shown after a dry run (the counts cover every row).
DIFFS_SHOWN = 50
#: Problems shown in the table (the download has all of them).
ISSUES_SHOWN = 500
DIFF_COLUMNS = {"line": "Line", "key": "Key", "action": "Action", "changes": "Changes"}
ISSUE_COLUMNS = {
    "line": "Line",
    "column": "Column",
    "value": "Value",
    "reason": "Reason",
    "severity": "Severity",
}
DIFF_SHOWS: dict[str, Show] = {"line": PLAIN, "action": pills("import_action")}
ISSUE_SHOWS: dict[str, Show] = {"line": PLAIN, "severity": pills("severity")}
#: How each phase the library reports fills the bar: phase -> (label, from %, to %).
PREVIEW_PHASES = {"reading": ("Reading the file", 0.0, 100.0)}
RUN_PHASES = {
    "reading": ("Reading the file", 0.0, 40.0),
    "importing": ("Importing", 40.0, 100.0),
}
#: Inline styles: each HTML pane renders in its own shadow root, out of reach of page CSS.
DETAILS_STYLE = (
    "font-size:var(--crm-font-size-xs);color:var(--crm-color-text-muted);margin-top:-6px"
)
FAIL_STYLE = "color:var(--crm-color-danger-text)"


@dataclass(frozen=True)
class Previewed:
    """A preview and the targets the mapping table offers (read together on a worker thread)."""

    preview: ImportPreview
    fields: dict[str, str]  # editable field key -> label
    funds: list[str]


def _guarded(work: Callable[[Context], T], what: str) -> Callable[[Context], T]:
    """``work`` with an unexpected failure (a bug, a full disk) turned into a message: the panel
    must never be left busy, and the person never sees a traceback."""

    def run(ctx: Context) -> T:
        try:
            return work(ctx)
        except CRMError:
            raise
        except Exception as exc:
            log.exception("%s failed", what)
            raise CRMError(
                f"{what} failed unexpectedly; the server log has the details. (An import is one"
                " transaction: nothing is ever half-written.)"
            ) from exc

    return run


def describe_changes(diff: RowDiff) -> str:
    """One row's changes in words: "Status: — → Meeting; Tags: — → AI, Climate", or why the
    row is skipped."""
    if diff.action == "skip":
        return "; ".join(str(new) for _label, _old, new in diff.changes)
    return "; ".join(
        f"{label}: {stored_value_text(old)} → {stored_value_text(new)}"
        for label, old, new in diff.changes
    )


def failure_text(column: ColumnPreview) -> str:
    """ "3 cells fail: 'abc' is not a number" (the commonest reasons, with their counts)."""
    if not column.failures:
        return ""
    cells = "1 cell fails" if column.failures == 1 else f"{column.failures:,} cells fail"
    reasons = [
        reason if len(column.reasons) == 1 else f"{reason} ({count:,})"
        for reason, count in column.reasons
    ]
    return f"{cells}: {'; '.join(reasons)}"


def column_details(column: ColumnPreview) -> str:
    """The line under a column's target: inferred type, how full it is, samples, failures."""
    parts = [
        f"looks like {TYPE_LABELS.get(column.inferred_type, column.inferred_type)}",
        f"{column.filled:,} filled",
    ]
    if column.samples:
        samples = ", ".join(f"“{escape_text(s[:40])}”" for s in column.samples[:3])
        parts.append(f"e.g. {samples}")
    if column.date_order:
        parts.append(
            "dates read as " + ("day/month" if column.date_order == "dmy" else "month/day")
        )
    text = " · ".join(parts)
    if column.failures:
        text += f"<br><span style='{FAIL_STYLE}'>{escape_text(failure_text(column))}</span>"
    if column.formula_errors:
        text += (
            f"<br><span style='{FAIL_STYLE}'>{column.formula_errors:,} Airtable formula"
            " errors: those cells are left as they are</span>"
        )
    if column.note:
        text += f"<br><i>{escape_text(column.note)}</i>"
    return f"<div style='{DETAILS_STYLE}'>{text}</div>"


def target_label(target: str, fields: dict[str, str]) -> str | None:
    """How the mapping table names a target (None: a target it does not offer by name)."""
    kind, _, rest = target.partition(":")
    if kind == "field":
        return f"Field: {fields[rest]}" if rest in fields else None
    if kind == "new":
        return f"New field: {TYPE_LABELS.get(rest, rest)}"
    if kind == "person":
        return f"Person's {rest.replace('_', ' ')}"
    if kind == "commitment":
        return f"Commitment to {rest}"
    return {
        "people": "People (“Name <email>” list)",
        "skip": "Not imported",
        "crm_id": "Venture CRM id",
    }.get(target)


def target_options(
    column: ColumnPreview, fields: dict[str, str], funds: Sequence[str]
) -> dict[str, str]:
    """A column's choices, label -> target: its current target first, then every editable field,
    a new field of each type, people, a person's parts, a commitment to each fund, skip."""
    targets = [
        column.target,
        *(f"field:{key}" for key in fields),
        *(f"new:{kind}" for kind in EDITABLE_TYPES),
        "people",
        *(f"person:{part}" for part in PERSON_PARTS),
        *(f"commitment:{fund}" for fund in funds),
        "skip",
    ]
    options: dict[str, str] = {}
    for target in dict.fromkeys(targets):
        label = target_label(target, fields) or column.target_label
        if label in options:
            label = f"{label} [{target}]"
        options[label] = target
    return options


class ImportPanel:
    """Side panel of the grid page that imports an Airtable CSV export."""

    def __init__(self, page: GridHost) -> None:
        self.page = page
        self.path: Path | None = None  # the staged upload
        self.file_name = ""
        self.preview: ImportPreview | None = None
        self.report: ImportReport | None = None  # the last dry run or import
        self.overrides: dict[str, str] = {}  # column -> target the person chose
        self.key: str | None = None  # the key column the person chose (None: the library's)
        self.fields: dict[str, str] = {}
        self.funds: list[str] = []
        self.shown: tuple | None = None  # settings of the dry run on screen
        self.ready = False  # that dry run allows importing
        self.busy = False
        self._rendering = False  # widgets being set from a preview: their watchers stay quiet
        self.target_selects: dict[str, pn.widgets.Select] = {}
        self.file_input = pn.widgets.FileInput(accept=".csv", css_classes=["crm-import-file"])
        self.status = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["crm-import-status"]
        )
        self.facts = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-import-facts"])
        self.mapping_box = pn.Column(
            sizing_mode="stretch_width", css_classes=["crm-import-mapping"]
        )
        self.key_choice = pn.widgets.Select(
            label="Key column (rows match investors on it)",
            options=[],
            css_classes=["crm-import-key"],
        )
        self.skip_bad = pn.widgets.Checkbox(label="Skip bad rows")
        self.archive_missing = pn.widgets.Checkbox(label="Archive investors missing from the file")
        self.profile_name = pn.widgets.TextInput(
            label="Save this mapping as",
            css_classes=["crm-import-profile"],
            max_length=limits.max_length("import_profile"),
        )
        self.dry_run_button = pn.widgets.Button(label="Preview changes", disabled=True)
        self.import_button = pn.widgets.Button(label="Import", color="primary", disabled=True)
        self.progress = pn.indicators.Progress(
            value=0, max=100, visible=False, sizing_mode="stretch_width"
        )
        self.progress_text = pn.pane.HTML("", visible=False)
        self.summary = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["crm-import-summary"]
        )
        self.diffs_table = read_only_table(
            DIFF_COLUMNS, DIFF_SHOWS, empty="No changes to show: upload a file to preview them."
        )
        self.diffs_table.param.update(height=200, visible=False)
        self.issues_table = read_only_table(
            ISSUE_COLUMNS, ISSUE_SHOWS, empty="No problems found in the file."
        )
        self.issues_table.param.update(height=200, visible=False)
        self.problems_download = pn.widgets.FileDownload(
            callback=self.problems_file,
            filename="problems.csv",
            label="Download the problems (CSV)",
            visible=False,
        )
        self._wire()
        self.layout = self._layout()
        if page.document is not None:  # a staged upload goes when the session does
            pn.state.on_session_destroyed(lambda _ctx: self.discard())

    def _layout(self) -> pn.Column:
        self.settings_box = pn.Column(
            pn.pane.Markdown("**Columns**"),
            self.mapping_box,
            self.key_choice,
            self.skip_bad,
            self.archive_missing,
            self.profile_name,
            pn.Row(self.dry_run_button, self.import_button),
            visible=False,
            sizing_mode="stretch_width",
        )
        return pn.Column(
            pn.pane.Markdown("### Import an Airtable CSV export"),
            self.file_input,
            self.status,
            self.facts,
            self.settings_box,
            self.progress_text,
            self.progress,
            self.summary,
            self.diffs_table,
            self.issues_table,
            self.problems_download,
            sizing_mode="stretch_width",
            css_classes=["crm-import"],
        )

    def _wire(self) -> None:
        self.file_input.param.watch(self._on_file, "value")
        self.key_choice.param.watch(self._on_key, "value")
        self.skip_bad.param.watch(lambda _: self._settings_changed(), "value")
        self.archive_missing.param.watch(lambda _: self._settings_changed(), "value")
        self.dry_run_button.on_click(lambda _: self.dry_run())
        self.import_button.on_click(lambda _: self.commit())

    def refresh(self) -> None:
        """Nothing to re-read when the panel is shown again (GridPage.show_side): a staged
        upload, its mapping and its dry run stay as they were."""

    # -- running steps -----------------------------------------------------------------------
    def _launch(
        self,
        work: Callable[[Context], Any],
        done: Callable[[Outcome], None],
        what: str,
    ) -> None:
        """Run ``work`` as the user off the event loop, then ``done`` with its outcome on it."""
        self._set_busy(True, what)
        action = _guarded(work, what)
        document = self.page.document
        if document is None:
            self._finish(self.page._run(action), done)
            return

        async def off_loop() -> None:
            outcome = await run_long(self.page._run, action)
            self._finish(outcome, done)

        pn.state.execute(off_loop)

    def _finish(self, outcome: Outcome, done: Callable[[Outcome], None]) -> None:
        try:
            done(outcome)
        finally:
            self._set_busy(False)

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self.busy = busy
        self.file_input.disabled = busy
        self.key_choice.disabled = busy
        for select in self.target_selects.values():
            select.disabled = busy
        self.dry_run_button.disabled = busy or self.path is None
        self.progress.param.update(value=0 if busy else self.progress.value, visible=busy)
        self.progress_text.param.update(object=f"{escape_text(what)}…", visible=busy)
        self._update_import_button()

    def _progress_feed(
        self, phases: dict[str, tuple[str, float, float]]
    ) -> Callable[[str, float], None]:
        """The library's ``progress(phase, fraction)``, called on the worker thread: each new
        whole percent goes to the bar on the document's next tick (inline without a document)."""
        document = self.page.document
        last = [-1]

        def feed(phase: str, fraction: float) -> None:
            label, low, high = phases.get(phase, (phase.title(), 0.0, 100.0))
            value = int(low + (high - low) * min(max(fraction, 0.0), 1.0))
            if value == last[0]:
                return
            last[0] = value
            if document is None:
                self._show_progress(label, value)
                return
            try:
                document.add_next_tick_callback(partial(self._show_progress, label, value))
            except Exception:  # the session closed under the import: nobody is watching
                log.debug("Import progress after the session ended", exc_info=True)

        return feed

    def _show_progress(self, label: str, value: int) -> None:
        self.progress.value = value
        self.progress_text.object = f"{escape_text(label)}… {value}%"

    def _failed(self, outcome: Outcome) -> bool:
        """Show the library's message (never a traceback) in the panel and as a notification."""
        error = outcome.error
        if error is None:
            return False
        self.status.object = (
            f"<div class='crm-import-error' style='{FAIL_STYLE}'>{escape_text(error.message)}</div>"
        )
        self.page._report(error.message, failed=True)
        if outcome.ended and pn.state.location is not None:
            pn.state.location.reload = True
        return True

    # -- upload and preview ------------------------------------------------------------------
    def _on_file(self, event: Any) -> None:
        if event.new is None or self._rendering:
            return  # cleared, in the browser or by us
        content = event.new if isinstance(event.new, bytes) else b"".join(event.new)
        self.upload(content, self.file_input.filename or "upload.csv")

    def upload(self, content: bytes, file_name: str) -> None:
        """Stage an upload and show its mapping table (a new upload replaces the last one)."""
        if self.busy:
            self.page._report("Wait for the current step to finish.", failed=True)
            return
        self.discard()
        self._reset_results()
        self.status.object = ""
        self.file_name = Path(str(file_name)).name
        name = self.file_name

        def stage(ctx: Context) -> tuple[Path, Previewed]:
            path = airtable.stage_upload(ctx, content, name)
            try:
                return path, self._read(ctx, path, name, {}, None)
            except CRMError:
                airtable.discard_upload(path)
                raise

        self._launch(stage, self._after_upload, f"Reading {name}")

    def _after_upload(self, outcome: Outcome) -> None:
        with self._quiet():
            self.file_input.value = None  # the staged copy is what counts: free the bytes
        self.file_input.clear()  # and let the browser pick the same (fixed) file again
        if self._failed(outcome):
            self.facts.object = ""
            self.settings_box.visible = False
            return
        self.path, previewed = outcome.result
        self._show_preview(previewed)
        with self._quiet():
            self.profile_name.value = previewed.preview.profile

    def _read(
        self,
        ctx: Context,
        path: Path,
        file_name: str,
        mapping: dict[str, str],
        key: str | None,
    ) -> Previewed:
        """The library's preview of the staged file, and the fields and funds it can map to."""
        preview = airtable.preview(
            path,
            ctx,
            key=key,
            mapping=mapping or None,
            file_name=file_name,
            progress=self._progress_feed(PREVIEW_PHASES),
        )
        fields = {f.key: f.label for f in services.list_fields(ctx) if f.is_editable}
        funds = [fund["name"] for fund in services.list_funds(ctx)]
        return Previewed(preview, fields, funds)

    def _repreview(self, undo: Callable[[], None]) -> None:
        """Preview again with the person's choices; on a refusal, undo the choice."""
        path, name = self.path, self.file_name
        overrides, key = dict(self.overrides), self.key
        if path is None:
            return

        def done(outcome: Outcome) -> None:
            if self._failed(outcome):
                undo()
                if self.preview is not None:
                    self._show_preview(Previewed(self.preview, self.fields, self.funds))
                return
            self.status.object = ""
            self._show_preview(outcome.result)

        self._launch(
            lambda ctx: self._read(ctx, path, name, overrides, key), done, "Reading the file"
        )

    def set_target(self, header: str, target: str) -> None:
        """Map a column to ``target`` and preview again. A field (or a person's part) is fed by
        one column, so a column that had it is set to "Not imported", and the person told."""
        if self.preview is None or self.preview.mapping.get(header) == target:
            return
        if self.busy:
            self.page._report("Wait for the current step to finish.", failed=True)
            return
        before = dict(self.overrides)
        self.overrides[header] = target
        if target.startswith(("field:", "person:")):
            for other, current in self.preview.mapping.items():
                if other != header and current == target:
                    self.overrides[other] = "skip"
                    self.page._report(
                        f"Column {other!r} is now not imported: {header!r} feeds"
                        f" {target_label(target, self.fields) or target}.",
                        failed=False,
                    )

        def undo() -> None:
            self.overrides = before

        self._repreview(undo)

    def _on_key(self, event: Any) -> None:
        if self._rendering or self.preview is None or event.new == self.preview.key_column:
            return
        self.set_key(event.new)

    def set_key(self, header: str) -> None:
        """Match rows on another column, and preview again."""
        before = self.key
        self.key = header

        def undo() -> None:
            self.key = before

        self._repreview(undo)

    def _show_preview(self, previewed: Previewed) -> None:
        preview = self.preview = previewed.preview
        self.fields, self.funds = previewed.fields, previewed.funds
        self.facts.object = self._facts_html(preview)
        with self._quiet():
            self.target_selects = {}
            rows = [self._mapping_row(column) for column in preview.columns]
            self.mapping_box.objects = rows
            self.key_choice.options = [c.header for c in preview.columns]
            self.key_choice.value = preview.key_column
        self.settings_box.visible = True
        self._settings_changed()

    def _facts_html(self, preview: ImportPreview) -> str:
        file = preview.file
        size = (
            f"{file.size / 1024:,.0f} KB"
            if file.size < 1024**2
            else f"{file.size / 1024**2:,.1f} MB"
        )
        profile = escape_text(preview.profile)
        lines = [
            f"<b>{escape_text(file.name)}</b>: {plural(preview.rows, 'row')}, {size}, read as"
            f" {escape_text(file.encoding)}",
            f"Rows match investors on <b>{escape_text(preview.key_column)}</b>.",
            f"Reusing the saved mapping “{profile}”."
            if preview.profile_found
            else "No saved mapping for these columns: the mapping below is proposed from them.",
        ]
        if preview.new_fields:
            lines.append("New fields: " + escape_text(", ".join(preview.new_fields)))
        if preview.new_funds:
            lines.append("New funds: " + escape_text(", ".join(preview.new_funds)))
        if preview.issues:
            first = "; ".join(i.describe() for i in preview.issues[:3])
            lines.append(
                f"<span style='{FAIL_STYLE}'>{plural(len(preview.issues), 'problem')} in the file:"
                f" {escape_text(first)}</span>"
            )
        return "<br>".join(lines)

    def _mapping_row(self, column: ColumnPreview) -> pn.Column:
        select = pn.widgets.Select(
            options=target_options(column, self.fields, self.funds),
            value=column.target,
            width=250,
            css_classes=["crm-import-target"],
        )
        select.param.watch(lambda e: self._on_target(column.header, e.new), "value")
        self.target_selects[column.header] = select
        header = pn.pane.HTML(f"<b>{escape_text(column.header)}</b>", width=170)
        return pn.Column(
            pn.Row(header, select),
            pn.pane.HTML(column_details(column), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def _on_target(self, header: str, target: str) -> None:
        if not self._rendering:
            self.set_target(header, target)

    # -- dry run and import ------------------------------------------------------------------
    def settings(self) -> tuple:
        """What decides what the import writes: the file, the whole mapping, key and options."""
        preview = self.preview
        return (
            str(self.path),
            tuple(sorted(preview.mapping.items())) if preview else (),
            preview.key_column if preview else None,
            self.skip_bad.value,
            self.archive_missing.value,
        )

    def _run_options(self, *, dry_run: bool) -> dict[str, Any]:
        preview = self.preview
        return {
            "key": preview.key_column,
            "mapping": dict(preview.mapping),
            "profile": self.profile_name.value.strip() or None,
            "file_name": self.file_name,
            "dry_run": dry_run,
            "skip_bad_rows": self.skip_bad.value,
            "archive_missing": self.archive_missing.value,
            "progress": self._progress_feed(RUN_PHASES),
        }

    def dry_run(self) -> None:
        """Say exactly what importing would do, and list the problems; writes nothing."""
        if self.path is None or self.preview is None or self.busy:
            return
        path, settings, options = self.path, self.settings(), self._run_options(dry_run=True)

        def done(outcome: Outcome) -> None:
            if self._failed(outcome):
                return
            report: ImportReport = outcome.result
            self.status.object = ""
            self._show_report(report)
            blocked = self._blocked(report)
            self.shown, self.ready = settings, blocked is None
            if blocked:
                self.summary.object += f"<p><b>{escape_text(blocked)}</b></p>"

        self._launch(lambda ctx: airtable.run(path, ctx, **options), done, "Checking every row")

    def _blocked(self, report: ImportReport) -> str | None:
        """Why this dry run does not allow importing (None: it does)."""
        whole_file = [i for i in report.errors if i.line is None]
        if whole_file:  # e.g. new funds a member may not create: skipping rows cannot help
            return whole_file[0].reason
        if report.errors and not self.skip_bad.value:
            return "Fix the problems in the file, or tick “Skip bad rows” and preview again."
        if report.changes == 0:
            return "Nothing to import: the database already matches this file."
        return None

    def commit(self) -> None:
        """Import what the last dry run showed, in one transaction; then show it in the grid."""
        if self.path is None or self.preview is None or self.busy:
            return
        if not self._ready():
            self.page._report("Preview the changes of these settings first.", failed=True)
            return
        path, options = self.path, self._run_options(dry_run=False)
        self._launch(
            lambda ctx: airtable.run(path, ctx, **options), self._after_import, "Importing"
        )

    def _after_import(self, outcome: Outcome) -> None:
        if self._failed(outcome):
            return
        report: ImportReport = outcome.result
        self._show_report(report)
        self.ready = False
        if not report.committed:
            message = (
                "Nothing to import: the database already matches this file."
                if report.unchanged
                else "Nothing was written: the file has errors (see the problems below)."
            )
            self.page._report(message, failed=not report.unchanged)
            self._update_import_button()
            return
        counts = report.counts
        self.summary.object += (
            f"<p>Import {report.import_id} recorded in {report.seconds:.1f} s.</p>"
        )
        self.page._report(
            f"Imported {self.file_name}: {counts['created']:,} created,"
            f" {counts['updated']:,} updated.",
            failed=False,
        )
        self.discard()
        self.settings_box.visible = False
        self.page.reload(columns=True)  # new fields, funds and rows

    def _show_report(self, report: ImportReport) -> None:
        self.report = report
        self.summary.object = "".join(
            f"<div>{escape_text(line)}</div>" for line in report.summary()
        )
        diffs = [
            {
                "line": d.line or "",
                "key": d.key,
                "action": d.action,
                "changes": describe_changes(d),
            }
            for d in report.diffs[:DIFFS_SHOWN]
        ]
        self.diffs_table.param.update(
            value=table_frame(diffs, DIFF_COLUMNS, DIFF_SHOWS), visible=bool(diffs)
        )
        issues = [_issue_row(i) for i in report.issues[:ISSUES_SHOWN]]
        self.issues_table.param.update(
            value=table_frame(issues, ISSUE_COLUMNS, ISSUE_SHOWS), visible=bool(issues)
        )
        self.problems_download.param.update(
            filename=f"{Path(self.file_name).stem}-problems.csv", visible=bool(report.issues)
        )

    def problems_file(self) -> io.BytesIO:
        """Every problem of the last report as CSV: line, column, value, reason, severity."""
        text = self.report.issues_csv() if self.report is not None else ""
        return io.BytesIO(text.encode("utf-8-sig"))

    # -- state -------------------------------------------------------------------------------
    def _settings_changed(self) -> None:
        """A choice changed: the dry run on screen no longer says what would be written."""
        if self.shown is not None and self.shown != self.settings():
            self.shown, self.ready = None, False
            self.summary.object = (
                "<p>The settings changed: preview the changes again before importing.</p>"
            )
            self.diffs_table.visible = self.issues_table.visible = False
            self.problems_download.visible = False
        self._update_import_button()

    def _ready(self) -> bool:
        """Is there a staged file whose dry run, of exactly these settings, allows importing?"""
        return self.path is not None and self.ready and self.shown == self.settings()

    def _update_import_button(self) -> None:
        self.import_button.disabled = self.busy or not self._ready()

    def _reset_results(self) -> None:
        self.preview, self.report, self.shown, self.ready = None, None, None, False
        self.overrides, self.key = {}, None
        self.summary.object = ""
        self.diffs_table.visible = self.issues_table.visible = False
        self.problems_download.visible = False

    def discard(self) -> None:
        """Forget the staged upload (imported, replaced, or the session ended)."""
        if self.path is not None:
            airtable.discard_upload(self.path)
            self.path = None
        self._update_import_button()
        self.dry_run_button.disabled = True

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """While widgets are set from a preview, their watchers do not act on it."""
        self._rendering = True
        try:
            yield
        finally:
            self._rendering = False


def _issue_row(issue: Issue) -> dict[str, Any]:
    return {
        "line": issue.line or "",
        "column": issue.column or "",
        "value": issue.value or "",
        "reason": issue.reason,
        "severity": issue.severity,
    }
