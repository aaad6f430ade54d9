"""What an import preview and an import run report: plain data, JSON-able, printable, and an
error list that downloads as CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

#: How many row diffs a report keeps in full (the counts are always exact).
DIFF_LIMIT = 500
#: How many problems a report keeps (a file where every row is wrong still reports usefully).
ISSUE_LIMIT = 100_000


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int
    sha256: str
    encoding: str
    delimiter: str


@dataclass(frozen=True)
class Issue:
    """One problem: where (line as a text editor counts, column), the value, and why."""

    line: int | None
    column: str | None
    value: str | None
    reason: str
    severity: str = "error"  # "error": the row cannot be imported; "warning": a cell was left out

    def describe(self) -> str:
        where = f"Line {self.line}" if self.line is not None else "File"
        if self.column:
            where += f", column {self.column!r}"
        value = f" {self.value[:60]!r}" if self.value else ""
        return f"{where}:{value} {self.reason}".replace(":  ", ": ")


@dataclass(frozen=True)
class ColumnPreview:
    """One row of the mapping table."""

    header: str
    target: str
    target_label: str
    inferred_type: str
    samples: tuple[str, ...]
    filled: int
    failures: int
    reasons: tuple[tuple[str, int], ...]
    formula_errors: int
    date_order: str | None = None
    note: str | None = None


@dataclass
class ImportPreview:
    """The mapping table and what a first look at the whole file found."""

    file: FileInfo
    rows: int
    columns: list[ColumnPreview]
    key_column: str
    profile: str
    profile_found: bool
    duplicates: list[tuple[str, list[int]]]
    blank_keys: list[int]
    new_fields: list[str]
    new_funds: list[str]
    issues: list[Issue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def mapping(self) -> dict[str, str]:
        return {c.header: c.target for c in self.columns}


@dataclass
class RowDiff:
    """What the import does to one investor."""

    line: int
    key: str
    investor_id: int | None
    action: str  # create | update | restore | unchanged | archive
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of :func:`~crm_lib.importers.airtable.run` (a dry run or a real one)."""

    preview: ImportPreview
    dry_run: bool
    committed: bool = False
    unchanged: bool = False  # a real run that found nothing to change, and so wrote nothing
    import_id: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    changed_fields: Counter[str] = field(default_factory=Counter)
    new_options: dict[str, list[str]] = field(default_factory=dict)
    diffs: list[RowDiff] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def changes(self) -> int:
        """Everything the import writes (or would): 0 means re-importing changed nothing."""
        keys = ("created", "updated", "restored", "archived", "people_added", "people_updated")
        keys += ("commitments_added", "commitments_changed", "commitments_removed")
        return sum(self.counts[k] for k in keys) + len(self.preview.new_fields)

    @property
    def accounted(self) -> bool:
        """Every row of the file is created, updated, restored, unchanged or skipped."""
        c = self.counts
        outcomes = ("created", "updated", "restored", "unchanged", "skipped")
        return sum(c[k] for k in outcomes) == c["rows"]

    def issue(self, issue: Issue) -> None:
        if len(self.issues) < ISSUE_LIMIT:
            self.issues.append(issue)
        self.counts["errors" if issue.severity == "error" else "warnings"] += 1

    def diff(self, row: RowDiff) -> None:
        if len(self.diffs) < DIFF_LIMIT:
            self.diffs.append(row)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = dict(self.counts)
        data["changed_fields"] = dict(self.changed_fields)
        data["changes"] = self.changes
        return data

    def issues_csv(self) -> str:
        """The problems as CSV (line, column, value, reason, severity), for a spreadsheet."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["line", "column", "value", "reason", "severity"])
        for issue in self.issues:
            value = issue.value or ""
            if value.startswith(("=", "+", "-", "@")):
                value = "'" + value  # never a live formula in the user's spreadsheet
            writer.writerow(
                [issue.line or "", issue.column or "", value, issue.reason, issue.severity]
            )
        return buffer.getvalue()

    def summary(self) -> list[str]:
        """Lines a person reads first: what happened (or would), then the problems."""
        c = self.counts
        verb = "Did" if self.committed else "Would"
        rows = _count(self.preview.rows, "row", "rows")
        lines = [
            f"{self.preview.file.name}: {rows}, key column"
            f" {self.preview.key_column!r}, read as {self.preview.file.encoding}",
        ]
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        elif self.unchanged:
            lines.append("Nothing was written: the database already matches this file.")
        elif not self.committed:
            lines.append("Nothing was written: the file has errors (fix them, or skip bad rows).")
        lines.append(
            f"{verb} create {c['created']:,}, update {c['updated']:,}, restore {c['restored']:,},"
            f" leave {c['unchanged']:,} unchanged, archive {c['archived']:,} investors"
        )
        lines.append(
            f"People: add {c['people_added']:,}, update {c['people_updated']:,}. Commitments: add"
            f" {c['commitments_added']:,}, change {c['commitments_changed']:,}, remove"
            f" {c['commitments_removed']:,}."
        )
        if self.preview.new_fields:
            lines.append("New fields: " + ", ".join(self.preview.new_fields))
        if self.preview.new_funds:
            lines.append("New funds: " + ", ".join(self.preview.new_funds))
        for label, options in self.new_options.items():
            if options:
                shown = (f'"{o}"' if "," in o else o for o in options[:10])
                lines.append(f"New options for {label}: " + ", ".join(shown))
        if self.changed_fields:
            top = ", ".join(f"{k} ({v:,})" for k, v in self.changed_fields.most_common(8))
            lines.append(f"Changed cells by field: {top}")
        if c["skipped"]:
            skipped = "Skipped" if self.committed else "Would skip"
            lines.append(
                f"{skipped} {_count(c['skipped'], 'row', 'rows')} that cannot go in (reasons below)."
            )
        kept = sum(1 for i in self.warnings if "kept as text in" in i.reason)
        if kept:
            lines.append(
                f"{_count(kept, 'cell', 'cells')} did not fit their column: each is kept as text in the"
                " column's '(as imported)' field and listed below."
            )
        if not self.accounted:
            lines.append(f"Rows read: {self.preview.rows:,}.")
        errors, warnings = (
            _count(c["errors"], "error", "errors"),
            _count(c["warnings"], "warning", "warnings"),
        )
        lines.append(f"{errors}, {warnings}.")
        if self.changes == 0 and not self.errors:
            lines.append("0 changes: the database already matches this file.")
        return lines


def _count(number: int, one: str, many: str) -> str:
    """``number`` with its noun in the right number ("1 row", "2 rows"): the summary is read
    by people, on the import page and in the command line."""
    return f"{number:,} {one if number == 1 else many}"
