"""The Ask page, ``/ask``: a question in plain English, answered as a table with the SQL that
produced it.

The question box offers the curated questions as the user types (they run offline, with their
parameters asked for below the box); any other question goes to Claude when a key is set, with
"Show what would be sent" to see the exact request (scrubbed) without sending it. An answer
shows its explanation, the table (formatted as the grid formats values), the SQL (highlighted;
"Edit SQL" opens it for a change and "Run SQL" runs it through the same validator), "Open in
grid" when the rows are investors, "Open as notebook" (an analyst notebook written under the
notebooks folder and downloaded) and "CSV". Below, the asker's recent questions.

``/ask?q=...`` fills the box (a curated question also runs).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import panel as pn
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import SqlLexer

from apps.chrome import UserPage, Working, read_only_table, set_choices, table_frame
from apps.formatting import AUTO, NUMBER, PLAIN, Show, number, plural, table_time
from apps.links import grid_url, url_text
from apps.markup import column_titles, escape_text
from crm_lib import limits, services

#: Columns whose numbers are ids or years: no thousands separators.
_PLAIN_NAME = re.compile(r"(^|_)(id|year|vintage|vintage_year)$", re.IGNORECASE)
SQL_CSS = HtmlFormatter(style="friendly").get_style_defs(".crm-sql") + (
    ".crm-sql { background: var(--crm-color-surface-muted, #f6f8fa); padding: 8px 12px;"
    " border-radius: 6px; overflow-x: auto; white-space: pre-wrap; font-size: 13px; }"
    ".crm-sql pre { margin: 0; white-space: pre-wrap; }"
    # Pygments' SQL lexer does not know DuckDB's $NAME parameters: no error box around them
    ".crm-sql .err { border: none; color: inherit; }"
)
SENT_CSS = (
    ".crm-sent pre { white-space: pre-wrap; font-size: 12px; max-height: 420px; overflow: auto;"
    " background: #f6f8fa; padding: 8px; border-radius: 6px; }"
)
HISTORY_COLUMNS = {
    "created_at": "When",
    "question": "Question",
    "how": "How",
    "result": "Result",
}
HOW = {"curated": "Curated", "model": "Claude", "sql": "Edited SQL", "dry_run": "Dry run"}


class AskPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalogue = self.act(services.curated_questions) or []
        self.curated = {_normal(q["question"]): q for q in catalogue}
        self.model_ready = bool(self.act(services.model_ready))
        self.funds = [f["name"] for f in self.act(services.list_funds) or []]
        self.answer: dict[str, Any] | None = None
        self.question = pn.widgets.AutocompleteInput(
            label="Question",
            options=[q["question"] for q in catalogue],
            restrict=False,
            case_sensitive=False,
            search_strategy="includes",
            min_characters=1,
            placeholder="Ask about investors, funds, commitments or email",
            sizing_mode="stretch_width",
            css_classes=["crm-ask-question"],
        )
        self.ask_button = pn.widgets.Button(label="Ask", color="primary", align="end")
        self.show_sent = pn.widgets.Checkbox(
            label="Show what would be sent to Claude (sends nothing)",
            visible=True,
            css_classes=["crm-ask-dry-run"],
        )
        self.parameters = pn.Row(sizing_mode="stretch_width", visible=False)
        self.parameter_widgets: dict[str, Any] = {}
        self.working = Working(lambda: [self.ask_button, self.run_sql_button])
        self.explanation = pn.pane.HTML("", sizing_mode="stretch_width")
        self.sent = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[SENT_CSS])
        self.table = read_only_table(
            {}, pagination="local", page_size=25, visible=False, css_classes=["crm-ask-answer"]
        )
        self.sql_view = pn.pane.HTML(
            "", sizing_mode="stretch_width", stylesheets=[SQL_CSS], visible=False
        )
        self.sql_editor = pn.widgets.TextAreaInput(
            label="SQL (runs through the same checks: read-only, the views only)",
            max_length=limits.max_length("sql"),
            auto_grow=True,
            rows=6,
            sizing_mode="stretch_width",
            visible=False,
            css_classes=["crm-ask-sql-editor"],
            stylesheets=[":host textarea { font-family: ui-monospace, monospace; }"],
        )
        self.edit_button = pn.widgets.Button(label="Edit SQL", visible=False)
        self.run_sql_button = pn.widgets.Button(label="Run SQL", visible=False, color="primary")
        self.grid_link = pn.pane.HTML("", visible=False, margin=(12, 8))
        self.csv_download = pn.widgets.FileDownload(
            callback=self._csv, filename="answer.csv", label="CSV", visible=False
        )
        self.notebook_download = pn.widgets.FileDownload(
            callback=self._notebook,
            filename="answer.ipynb",
            label="Open as notebook",
            visible=False,
        )
        self.history = read_only_table(
            HISTORY_COLUMNS,
            {"created_at": Show(table_time)},
            empty="Questions you ask show here.",
            page_size=10,
            pagination="local",
            css_classes=["crm-ask-history"],
        )
        self.ask_button.on_click(lambda _: self.ask())
        self.question.param.watch(self._question_changed, "value")
        self.edit_button.on_click(lambda _: self._edit_sql())
        self.run_sql_button.on_click(lambda _: self.run_sql())
        self._show_history()
        asked = url_text("q", limit=limits.max_length("question"))
        if asked:
            self.question.value = asked
            if _normal(asked) in self.curated:
                self.ask()

    # -- asking ------------------------------------------------------------------------------
    def _question_changed(self, _event: Any = None) -> None:
        """A curated question picked: ask for its parameters (with their defaults)."""
        curated = self.curated.get(_normal(self.question.value or ""))
        self.parameter_widgets = {}
        for parameter in curated["parameters"] if curated else []:
            self.parameter_widgets[parameter["name"]] = self._parameter_widget(parameter)
        self.parameters.objects = list(self.parameter_widgets.values())
        self.parameters.visible = bool(self.parameter_widgets)
        self.show_sent.visible = curated is None

    def _parameter_widget(self, parameter: dict[str, Any]) -> Any:
        label, default, kind = parameter["label"], parameter["default"], parameter["kind"]
        if kind == "integer":
            return pn.widgets.IntInput(label=label, value=default or 0, start=0, width=140)
        if kind == "amount":
            return pn.widgets.FloatInput(label=label, value=default or 0.0, start=0, width=180)
        if kind == "fund" and self.funds:
            select = pn.widgets.Select(label=label, width=220)
            set_choices(select, {name: name for name in self.funds})
            if default in self.funds:
                select.value = default
            return select
        return pn.widgets.TextInput(
            label=label, value=default or "", width=260, max_length=limits.max_length("text")
        )

    def ask(self) -> None:
        # ``value``: what was picked from the suggestions or typed (set when the box loses
        # focus, as it does when Ask is clicked); ``value_input`` still holds the letters typed
        # before a suggestion was picked
        text = (self.question.value or self.question.value_input or "").strip()
        if not text:
            self._report("Type a question, or pick one of the curated questions", failed=True)
            return
        curated = self.curated.get(_normal(text))
        params = (
            {name: widget.value for name, widget in self.parameter_widgets.items()}
            if curated
            else None
        )
        dry_run = curated is None and self.show_sent.value
        engine = self.runtime.ask_engine

        def action(ctx: Any) -> dict[str, Any]:
            return services.ask(
                ctx,
                engine,
                text,
                key=curated["key"] if curated else None,
                params=params,
                dry_run=dry_run,
            )

        what = "writing the SQL with Claude…" if curated is None and not dry_run else "answering…"
        self.launch(action, self.show, working=self.working, what=what)

    def run_sql(self) -> None:
        sql = self.sql_editor.value_input or self.sql_editor.value or ""
        params = dict((self.answer or {}).get("params") or {})
        question = (self.answer or {}).get("question") or ""
        engine = self.runtime.ask_engine

        def action(ctx: Any) -> dict[str, Any]:
            return services.ask_sql(ctx, engine, sql, params=params, question=question)

        self.launch(action, self.show, working=self.working, what="running the SQL…")

    # -- showing -----------------------------------------------------------------------------
    def show(self, answer: dict[str, Any]) -> None:
        self._show_history()
        if answer["source"] == "dry_run":
            self.sent.object = _sent_html(answer)
            self.sent.visible = True
            return
        self.sent.visible = False
        self.answer = answer
        how = HOW.get(answer["source"], answer["source"])
        model = f" ({escape_text(answer['model'])})" if answer.get("model") else ""
        more = " (the first 1,000)" if answer["truncated"] else ""
        self.explanation.object = (
            f"<p><b>{escape_text(answer['explanation'] or answer['question'])}</b></p>"
            f"<p class='crm-muted'>{plural(answer['row_count'], 'row')}{more} ·"
            f" {number(answer['milliseconds'])} ms · {escape_text(how)}{model}</p>"
        )
        keys = [f"c{i}" for i in range(len(answer["columns"]))]
        titles = dict(zip(keys, _unique([_title(c) for c in answer["columns"]]), strict=True))
        shows = {
            key: _show(name, [row[i] for row in answer["rows"]])
            for i, (key, name) in enumerate(zip(keys, answer["columns"], strict=True))
        }
        rows = [dict(zip(keys, row, strict=True)) for row in answer["rows"]]
        fresh = read_only_table(
            column_titles(titles),
            {k: v for k, v in shows.items() if v is not AUTO},
            empty="No rows answer this question.",
            pagination="local",
            page_size=25,
        )
        self.table.param.update(
            value=table_frame(rows, column_titles(titles), shows),
            formatters=fresh.formatters,
            text_align=fresh.text_align,
            visible=True,
        )
        self.sql_view.object = highlight(
            answer["sql"], SqlLexer(), HtmlFormatter(cssclass="crm-sql")
        )
        self.sql_view.visible = True
        self.sql_editor.param.update(value=answer["sql"], visible=False)
        self.edit_button.visible = True
        self.run_sql_button.visible = False
        ids = answer.get("investor_ids")
        self.grid_link.object = (
            f'<a href="{escape_text(grid_url(ask=answer["ask_id"]))}" class="crm-ask-grid">'
            f"Open {plural(len(ids), 'investor')} in the grid</a>"
            if ids
            else ""
        )
        self.grid_link.visible = bool(ids)
        self.csv_download.visible = self.notebook_download.visible = True
        self.notebook_download.filename = f"ask-{answer['ask_id']}.ipynb"

    def _edit_sql(self) -> None:
        self.sql_editor.visible = not self.sql_editor.visible
        self.run_sql_button.visible = self.sql_editor.visible

    def _show_history(self) -> None:
        rows = self.act(lambda ctx: services.ask_history(ctx, limit=20)) or []
        shown = [
            {
                "created_at": row["created_at"],
                "question": row["question"],
                "how": HOW.get(row["source"], row["source"]),
                "result": _result(row),
            }
            for row in rows
        ]
        self.history.value = table_frame(shown, HISTORY_COLUMNS, {"created_at": Show(table_time)})

    def _csv(self) -> io.BytesIO:
        if self.answer is None:
            return io.BytesIO(b"")
        return io.BytesIO(services.answer_csv(self.answer).encode("utf-8"))

    def _notebook(self) -> io.BytesIO:
        """Write the answer's notebook under the notebooks folder, and download it too."""
        answer = self.answer
        if answer is None:
            return io.BytesIO(b"")
        path = self.act(
            lambda ctx: services.answer_notebook(ctx, answer),
            success="",
        )
        if path is None:
            return io.BytesIO(b"")
        self._report(f"Notebook written to {path}", failed=False)
        return io.BytesIO(path.read_bytes())

    def __panel__(self) -> pn.viewable.Viewable:
        mode = (
            "Curated questions run offline. Other questions go to Claude with every name,"
            " address, phone number and amount replaced by a placeholder, and the schema;"
            " never your data."
            if self.model_ready
            else "Curated questions run offline. Free-form questions need Claude, which is not"
            " set up here (ANTHROPIC_API_KEY)."
        )
        return self.frame(
            "/ask",
            "Ask",
            pn.pane.HTML(f"<p>{escape_text(mode)}</p>", sizing_mode="stretch_width"),
            pn.Row(self.question, self.ask_button, sizing_mode="stretch_width"),
            self.parameters,
            self.show_sent,
            self.working.layout,
            self.sent,
            self.explanation,
            pn.Row(self.grid_link, self.csv_download, self.notebook_download),
            self.table,
            pn.Row(self.edit_button, self.run_sql_button),
            self.sql_view,
            self.sql_editor,
            pn.pane.Markdown("### Your recent questions"),
            self.history,
        )


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[?.!]+$", "", text.strip()).casefold().split())


def _title(name: str) -> str:
    """A column's title: a SQL name as a person reads it ("total_invested" reads "Total
    invested"); a name with capitals or spaces (an alias someone wrote) as it is."""
    if re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return name.replace("_", " ").capitalize()
    return name


def _unique(names: list[str]) -> list[str]:
    """Column titles, each once ("name", "name (2)"): a query may repeat a column name."""
    seen: dict[str, int] = {}
    titles = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        titles.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return titles


def _show(name: str, values: list[Any]) -> Show:
    """How a column shows: ids and years plain, other numbers with separators, the rest as
    the grid shows values (timestamps in the user's zone, blanks blank)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return PLAIN if _PLAIN_NAME.search(name) else NUMBER
    return AUTO


def _result(row: dict[str, Any]) -> str:
    if row["status"] == "answered":
        return plural(row["row_count"] or 0, "row")
    if row["status"] == "refused":
        return f"refused ({row['rule']})"
    return "dry run" if row["status"] == "dry_run" else "failed"


def _sent_html(answer: dict[str, Any]) -> str:
    body = json.dumps(answer["request_body"], indent=1, ensure_ascii=False)
    state = (
        "Nothing was sent."
        if answer.get("model_ready")
        else "Nothing was sent (ANTHROPIC_API_KEY is not set here)."
    )
    return (
        "<div class='crm-sent'>"
        f"<p><b>Would send:</b> {escape_text(answer['scrubbed_question'])}</p>"
        f"<p class='crm-muted'>{escape_text(state)} The exact request body:</p>"
        f"<pre>{escape_text(body)}</pre></div>"
    )
