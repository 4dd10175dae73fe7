"""Shared fixtures. Models are built once per test session through the real pipeline."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# SRS files are generated into a per-run cache so tests never depend on a developer's ~/.cache.
os.environ.setdefault("ZKML_CACHE_DIR", tempfile.mkdtemp(prefix="zkml-test-cache-"))


def build(name: str, root: Path, **options):
    """Run export, compile and setup for a bundled model into root; return its layout."""
    from zkml import models, pipeline
    from zkml.circuit import CircuitOptions
    from zkml.layout import ModelLayout

    model = models.resolve(name)
    if options.get("rename"):
        model.name = options.pop("rename")
    layout = ModelLayout.for_model(model.name, root)
    pipeline.export_model(model, layout)
    pipeline.compile_model(layout, CircuitOptions(**options))
    pipeline.setup_keys(layout)
    return layout


@pytest.fixture(scope="session")
def circuits(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("circuits")


@pytest.fixture(scope="session")
def breast_cancer(circuits):
    """The default model, set up, with one proof of its first held-out sample."""
    from zkml import proof
    from zkml.export import ExportedModel

    layout = build("breast_cancer", circuits)
    sample = ExportedModel.load(layout).holdout[0]
    proof.prove(layout, sample, layout.proof)
    return layout


@pytest.fixture(scope="session")
def digits(circuits):
    from zkml import proof
    from zkml.export import ExportedModel

    layout = build("digits", circuits)
    proof.prove(layout, ExportedModel.load(layout).holdout[0], layout.proof)
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
