"""The analysts' notebooks run top to bottom on the simulated demo data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_NEEDED = ("nbformat", "nbclient", "ipykernel", "matplotlib")


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"executing notebooks needs {', '.join(missing)} (not installed)")
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors


def test_notebooks_follow_the_naming_convention() -> None:
    names = [p.name for p in NOTEBOOKS.glob("*.ipynb")]
    assert len(names) >= 3
    for name in names:
        step, initials, *what = name.removesuffix(".ipynb").split("-")
        assert step.replace(".", "").isdigit() and initials.isalpha() and what, name
