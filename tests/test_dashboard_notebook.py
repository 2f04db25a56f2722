"""docs/tutorial.ipynb runs from top to bottom (CI executes it on every commit)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"

nbformat = pytest.importorskip("nbformat", reason="pip install 'diffusion_sim[docs]'")
nbclient = pytest.importorskip("nbclient", reason="pip install 'diffusion_sim[docs]'")


def test_tutorial_notebook_executes():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    # The comparison of the four modes produced its table.
    texts = " ".join(
        output.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert "share_laggards" in texts and "embedded" in texts
