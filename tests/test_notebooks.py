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


@pytest.mark.notebook
def test_quarterly_notebook_on_real_data_stops_at_send_these_workbooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pointed at a config that is not the built-in sample, nothing is decided for anyone:
    the workbooks are written, none is returned or collected, and the notebook says to send
    them; a second run resumes the same campaign."""
    if not _kernel_available():
        if os.environ.get("CI") == "true":
            pytest.fail("the python3 Jupyter kernel (ipykernel) is required in CI")
        pytest.skip("the python3 Jupyter kernel (ipykernel) is not installed")
    from nbclient import NotebookClient

    from accessaudit.sample import write_sample_organisation

    # Real as far as the notebook can tell: an audit.toml it did not write itself.
    config = write_sample_organisation(tmp_path / "ours", size=200)
    campaign = tmp_path / "campaign"
    monkeypatch.setenv("ACCESSAUDIT_CONFIG", str(config))
    monkeypatch.setenv("ACCESSAUDIT_CAMPAIGN", str(campaign))

    def run() -> str:
        book = nbformat.read(NOTEBOOKS / "quarterly-access-review.ipynb", as_version=4)
        NotebookClient(
            book, kernel_name="python3", timeout=300,
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()  # fmt: skip
        return "".join(
            output.get("text", "")
            for cell in book.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
        )

    text = run()
    assert "SIMULATED" not in text
    assert "send the workbooks above" in text
    assert list((campaign / "returned").iterdir()) == []
    assert not (campaign / "decisions.jsonl").exists()
    assert list((campaign / "workbooks").glob("*.xlsx"))
    assert "resuming campaign" in run()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_ends_with_what_to_do_next(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    last = book.cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## What to do next")
    # No two-slice pie charts; every plot names its axes.
    code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert ".pie(" not in code
    assert code.count("set_xlabel") >= 1 and code.count("set_ylabel") >= 1


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_with_outputs_cleared(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
