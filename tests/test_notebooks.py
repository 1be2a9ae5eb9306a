"""The notebooks in notebooks/ run top to bottom on the built-in sample organisation."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["quarterly-access-review", "data-inventory", "breach-scope"]


def _kernel_available() -> bool:
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        return False
    return "python3" in KernelSpecManager().find_kernel_specs()


@pytest.mark.notebook
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_without_errors(name: str, tmp_path: Path) -> None:
    if not _kernel_available():
        if os.environ.get("CI") == "true":
            pytest.fail("the python3 Jupyter kernel (ipykernel) is required in CI")
        pytest.skip("the python3 Jupyter kernel (ipykernel) is not installed")
    from nbclient import NotebookClient

    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        book,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    # Any cell that raises makes nbclient raise CellExecutionError with the traceback.
    client.execute()
    errors = [
        output
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    assert any(cell.get("outputs") for cell in book.cells if cell.cell_type == "code")
    # Plots are there to be looked at: every notebook shows at least one, inline.
    plots = [
        output
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert plots, f"{name} displayed no plot"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_with_outputs_cleared(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
