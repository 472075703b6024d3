"""The analysts' notebooks run top to bottom against demo databases with simulated outcomes.

One demo database (``jobmatch demo`` content) is built once and copied; each copy gets a
seeded twelve-week history recorded through the service: a clean one for exploring and
retraining, one with a biased employer for the fairness audit. Each notebook reads its
database from ``JOBMATCH_DATABASE_URL``, as an analyst's would.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: the demo databases are built once per module (about 45 s).
pytestmark = pytest.mark.xdist_group("notebooks")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_NEEDED = ("nbformat", "nbclient", "ipykernel", "matplotlib")
#: Which simulated history each notebook reads (the fairness audit gets the biased one).
_HISTORY = {"1.0": "clean", "2.0": "clean", "3.0": "biased"}


def _missing() -> list[str]:
    return [name for name in _NEEDED if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="module")
def demo_databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Database URLs by history: ``clean`` (learnable preference) and ``biased``."""
    if _missing():
        pytest.skip(f"executing notebooks needs {', '.join(_missing())} (not installed)")
    from service.learning_demo import add_simulated_history, demo_database_with_outcomes

    root = tmp_path_factory.mktemp("notebook-databases")
    demo_database_with_outcomes(root / "base.db", history=False)
    urls = {}
    for name, biased in (("clean", None), ("biased", "busiest")):
        shutil.copyfile(root / "base.db", root / f"{name}.db")
        urls[name] = f"sqlite:///{root / f'{name}.db'}"
        add_simulated_history(urls[name], biased_employer=biased)
    return urls


def _outputs(notebook: object) -> tuple[list[dict[str, object]], str]:
    cells = [c for c in notebook.cells if c.cell_type == "code"]  # type: ignore[attr-defined]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    text = json.dumps([o.get("text") or o.get("data", {}).get("text/plain") for o in outputs])
    return outputs, text


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(
    path: Path, demo_databases: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    from service.learning_demo import learning_data

    history = _HISTORY[path.name.split("-")[0]]
    monkeypatch.setenv("JOBMATCH_DATABASE_URL", demo_databases[history])
    monkeypatch.setenv("JOBMATCH_MODELS_DIR", str(tmp_path / "models"))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    outputs, text = _outputs(notebook)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # plots were drawn
    if history == "clean" and path.name.startswith("2.0"):
        # The learnable preference passes the gate and is published as a loadable version.
        from matching.persistence import list_versions, load_model

        versions = list_versions(tmp_path / "models", "ranker")
        assert len(versions) == 1 and "published ranker/" in text
        _, metadata = load_model(versions[0].path)
        assert metadata["metrics"]["ndcg@10"] > metadata["metrics"]["reference_ndcg@10"]
    if history == "biased":
        biased = learning_data(demo_databases[history]).simulation["biased_employer"]
        assert biased in text  # the employer-level audit names the biased employer


def test_notebooks_follow_the_naming_convention() -> None:
    names = [p.name for p in NOTEBOOKS.glob("*.ipynb")]
    assert len(names) >= 3
    for name in names:
        step, initials, *what = name.removesuffix(".ipynb").split("-")
        assert step.replace(".", "").isdigit() and initials.isalpha() and what, name
        assert step in _HISTORY, f"{name}: say which history it reads in _HISTORY"
