"""One folder per model source: two callables of one file never overwrite each other, a
folder is not silently handed to another source, and `run NAME` reuses the recorded source."""

import json

import numpy as np
import pytest
from conftest import one_line_error, zkml

import zkml as library

pytestmark = pytest.mark.integration

MODELS = """
import torch

def _net(outputs, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),
                               torch.nn.Linear(6, outputs)).eval()

def wine():
    return _net(3, 1), torch.zeros(1, 4), ["a", "b", "c"]

def diabetes():
    return _net(2, 2), torch.zeros(1, 4)
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "models.py").write_text(MODELS)
    rows = np.random.default_rng(0).uniform(-1, 1, (24, 4))
    (tmp_path / "samples.json").write_text(json.dumps(rows.tolist()))
    return tmp_path


def test_two_callables_of_one_file_are_two_models(project):
    circuits = project / "circuits"
    for name in ("wine", "diabetes"):
        result = zkml(circuits, "export", f"{project}/models.py:{name}", "--samples",
                      project / "samples.json")
        assert result.exit_code == 0, result.stderr
        assert f"next: zkml compile models-{name}" in result.stderr
    wine, diabetes = circuits / "models-wine", circuits / "models-diabetes"
    assert wine.is_dir() and diabetes.is_dir()
    assert (wine / "model.onnx").read_bytes() != (diabetes / "model.onnx").read_bytes()
    assert library.load(f"{project}/models.py:wine", circuits_dir=circuits).layout.root == wine


def test_a_folder_is_not_handed_to_another_source_without_force(project):
    circuits = project / "circuits"
    assert zkml(circuits, "export", f"{project}/models.py:wine", "--name", "clinic").exit_code \
        == 0
    before = (circuits / "clinic" / "model.onnx").read_bytes()
    refused = zkml(circuits, "export", f"{project}/models.py:diabetes", "--name", "clinic")
    one_line_error(refused, "refusing to replace it", "models.py:wine", "--force")
    assert (circuits / "clinic" / "model.onnx").read_bytes() == before
    model = library.load(f"{project}/models.py:diabetes", name="clinic", circuits_dir=circuits)
    with pytest.raises(library.ZkmlError, match="refusing to replace"):
        model.export()
    replaced = zkml(circuits, "export", f"{project}/models.py:diabetes", "--name", "clinic",
                    "--force")
    assert replaced.exit_code == 0, replaced.stderr
    assert (circuits / "clinic" / "model.onnx").read_bytes() != before


def test_run_by_name_reuses_the_recorded_source(project, tmp_path_factory, monkeypatch):
    circuits = project / "circuits"
    exported = zkml(circuits, "export", f"{project}/models.py:wine", "--samples",
                    project / "samples.json")
    assert exported.exit_code == 0, exported.stderr
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))  # recorded paths are absolute
    result = zkml(circuits, "run", "models-wine", "--no-chain")
    assert result.exit_code == 0, result.stderr
    assert "verified" in result.stdout and "-> " in result.stdout  # with its recorded classes
    assert "no --samples" not in result.stderr  # calibrated on the recorded samples again
