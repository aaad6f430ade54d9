"""notebooks/explore.ipynb runs top to bottom under papermill, so it never rots: its
numbers, its chart and its search are those of the data."""

from __future__ import annotations

import html
import sqlite3
from contextlib import closing
from pathlib import Path

import nbformat
import papermill

import crm_lib
from crm_lib import analytics, services
from crm_lib.services.search import open_search_index

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explore.ipynb"


def outputs(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(output.get("data", {}).get("text/plain", ""))
            texts.append(output.get("data", {}).get("text/html", ""))  # tables in full
    return "\n".join(texts)


def test_explore_notebook_executes_and_shows_the_real_top_investor(
    demo_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"  # a copy: the notebook's search builds an index beside it
    data_dir.mkdir()
    with (
        closing(sqlite3.connect(demo_dir / "crm.db")) as source,
        closing(sqlite3.connect(data_dir / "crm.db")) as copy,
    ):
        source.backup(copy)
    executed = papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "explore.out.ipynb"),
        parameters={"data_dir": str(data_dir), "top_n": 3, "search_query": "side-letter draft"},
        kernel_name="python3",
        progress_bar=False,
    )
    text = outputs(executed)
    duck = analytics.connect(demo_dir)
    [(top_name,)] = duck.sql(
        "SELECT name FROM investors ORDER BY total_invested DESC, name LIMIT 1"
    ).fetchall()
    live = duck.sql("SELECT count(*) FROM investors").fetchone()[0]
    assert f"{live:,} live investors" in text
    assert top_name in text
    assert "Fund III" in text
    figures = [
        o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(figures) == 1
    ctx = crm_lib.open_crm(data_dir, actor="system:test")
    try:
        index = open_search_index(ctx.settings)
        top = services.run_search(ctx, index, "side-letter draft", limit=1)["hits"][0]
        index.client.close()
    finally:
        ctx.close()
    assert top["doc_type"] == "note" and "side-letter draft" in top["snippet"]
    assert html.escape(top["lp_name"]) in text and "side-letter draft" in text
