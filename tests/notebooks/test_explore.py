"""notebooks/explore.ipynb runs top to bottom under papermill, so it never rots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill

from crm_lib import analytics

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explore.ipynb"


def outputs(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def test_explore_notebook_executes_and_shows_the_real_top_investor(
    demo_dir: Path, tmp_path: Path
) -> None:
    executed = papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "explore.out.ipynb"),
        parameters={"data_dir": str(demo_dir), "top_n": 3},
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
