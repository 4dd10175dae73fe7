"""Shared fixtures. Each bundled circuit is built once per test session, through the real
pipeline, into one session folder that the regression zoo reuses (same name, same options)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# SRS files are generated into a per-run cache so tests never depend on a developer's ~/.cache.
os.environ.setdefault("ZKML_CACHE_DIR", tempfile.mkdtemp(prefix="zkml-test-cache-"))


def pytest_collection_modifyitems(items):
    """Everything that is neither integration, slow nor browser is the fast tier:
    `scripts/test -m fast` (no ezkl proving, no chain)."""
    for item in items:
        if not {"integration", "slow", "browser"} & set(item.keywords):
            item.add_marker(pytest.mark.fast)


def build(name: str, root: Path, *, rename: str | None = None, **options):
    """Export, compile and setup a bundled model into root; return its layout."""
    from zkml import keys, models, pipeline
    from zkml.circuit import CircuitOptions
    from zkml.export import export
    from zkml.layout import ModelLayout

    model = models.resolve(name, name=rename)
    layout = ModelLayout.for_model(model.name, root)
    export(model, layout)
    pipeline.compile_model(layout, CircuitOptions(**options))
    keys.setup(layout)
    return layout


def logrows(model_root: Path) -> int:
    """The logrows of a built model's circuit (its SRS needs 2^logrows points)."""
    import json

    return json.loads((model_root / "settings.json").read_text())["run_args"]["logrows"]


def first_rows(layout):
    """The rows of one proof of layout's circuit: its first held-out samples."""
    from zkml.circuit import CircuitSettings
    from zkml.export import ExportedModel

    n = CircuitSettings.load(layout).subjects
    return ExportedModel.load(layout).holdout[:n]


@pytest.fixture(scope="session")
def circuits(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("circuits")


@pytest.fixture(scope="session")
def breast_cancer(circuits):
    """The default model, set up, with one proof of its first held-out sample."""
    from zkml import proof

    layout = build("breast_cancer", circuits)
    proof.prove(layout, first_rows(layout), layout.proof)
    return layout


@pytest.fixture(scope="session")
def digits(circuits):
    from zkml import proof

    layout = build("digits", circuits)
    proof.prove(layout, first_rows(layout), layout.proof)
    return layout


@pytest.fixture(scope="session")
def iris_committed(circuits):
    """Iris with private, hash-committed weights, exactly as the regression zoo builds it (the
    zoo then finds it compiled and set up)."""
    return build("iris", circuits, rename="iris_committed", weights="hashed")


@pytest.fixture(scope="session")
def chain_mlp(circuits):
    """tests/segment_models.py's MLP at --max-logrows 12 in its pinned layout: two segments,
    set up, exactly as the regression zoo builds it."""
    import segment_models

    from zkml import models, pipeline, proving
    from zkml.circuit import CircuitOptions
    from zkml.export import export
    from zkml.layout import ModelLayout

    onnx = ROOT / "regression" / "models" / "chain_mlp.onnx"  # the zoo's: built once a run
    model = models.resolve(str(onnx), name="chain_mlp", samples=onnx.with_suffix(".samples.json"))
    layout = ModelLayout.for_model(model.name, circuits)
    export(model, layout)
    pipeline.compile_model(layout, CircuitOptions(max_logrows=segment_models.MAX_LOGROWS,
                                                  **segment_models.LAYOUT))
    proving.setup(layout)
    return layout


@pytest.fixture
def copy_of(tmp_path):
    """A private copy of a built model directory, for tests that damage artifacts."""

    def make(layout):
        from zkml.layout import ModelLayout

        target = tmp_path / layout.name
        shutil.copytree(layout.root, target)
        return ModelLayout(target)

    return make


@pytest.fixture
def model_dir(breast_cancer, tmp_path):
    """A private circuits folder holding a copy of the built default model."""
    root = tmp_path / "circuits"
    shutil.copytree(breast_cancer.root, root / "breast_cancer")
    return root


def zkml(circuits, *args, env=None):
    """The CLI as a user types it, on this circuits folder."""
    from click.testing import CliRunner

    from zkml.cli import main

    return CliRunner().invoke(main, ["--circuits-dir", str(circuits), *map(str, args)], env=env)


def one_line_error(result, *fragments, code=1):
    """A failure as the CLI must show it: this exit code, one `error:`/`INVALID:` line holding
    every fragment, no traceback. Returns that line."""
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines()
              if line.startswith(("error:", "INVALID:"))]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]
