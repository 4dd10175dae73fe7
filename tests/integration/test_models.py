"""The other bundled model, committed weights and inputs, and models users bring."""

import json

import numpy as np
import pytest
from conftest import build

from zkml import keys, models, pipeline, proof
from zkml.export import ExportedModel, export
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration


def prove_and_verify(layout, index=0):
    sample = ExportedModel.load(layout).holdout[index:index + 1]
    proved = proof.prove(layout, sample, layout.proof)
    checked = proof.verify(layout, layout.proof)
    assert checked.instances.outputs == proved.instances.outputs
    return checked


def test_digits_cnn(digits):
    layout = digits
    fidelity = json.loads(layout.fidelity.read_text())["outputs"][0]
    assert fidelity["agreement"] >= 0.95 and fidelity["circuit_accuracy"] >= 0.9
    result = prove_and_verify(layout)
    reference = ExportedModel.load(layout).holdout_reference[0][0]
    assert np.argmax(result.instances.outputs[0]) == reference.argmax()


USER_MODEL = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.example_input = torch.zeros(1, 4)

    def forward(self, x):
        return torch.relu(self.fc(x))

def build():
    torch.manual_seed(1)
    return Net().eval(), torch.zeros(1, 4)
"""


def user_samples(tmp_path):
    path = tmp_path / "samples.json"
    path.write_text(json.dumps(np.random.default_rng(0).uniform(-1, 1, (40, 4)).tolist()))
    return path


def run_user_model(source, tmp_path, **kwargs):
    model = models.resolve(source, samples=user_samples(tmp_path), **kwargs)
    layout = ModelLayout.for_model(model.name, tmp_path / "circuits")
    exported = export(model, layout)
    pipeline.compile_model(layout)
    keys.setup(layout)
    prove_and_verify(layout)
    return layout, exported


def test_user_python_callable(tmp_path):
    (tmp_path / "net.py").write_text(USER_MODEL)
    layout, exported = run_user_model(f"{tmp_path}/net.py:build", tmp_path)
    assert layout.name == "net-build" and exported.max_abs_difference < 1e-4


def test_user_state_dict_and_class(tmp_path):
    import torch

    (tmp_path / "net.py").write_text(USER_MODEL)
    module = models.resolve(f"{tmp_path}/net.py:build").module
    torch.save(module.state_dict(), tmp_path / "weights.pt")
    layout, _ = run_user_model(f"{tmp_path}/net.py:Net", tmp_path, name="net_sd",
                               weights=tmp_path / "weights.pt")
    assert layout.name == "net_sd"


def test_user_onnx_file(tmp_path):
    (tmp_path / "net.py").write_text(USER_MODEL)
    first, _ = run_user_model(f"{tmp_path}/net.py:build", tmp_path)
    onnx_copy = tmp_path / "plain.onnx"
    onnx_copy.write_bytes(first.onnx.read_bytes())
    layout, exported = run_user_model(str(onnx_copy), tmp_path)
    assert layout.name == "plain" and exported.max_abs_difference is None


def check_committed(layout, tmp_path):
    run_args = json.dumps(json.loads(layout.settings.read_text())["run_args"])
    assert '"param_visibility": {"Hashed"' in run_args
    assert '"input_visibility": "KZGCommit"' in run_args
    record = keys.KeyRecord.load(layout)
    assert len(record.weights_commitment) == 1 and record.input_commitments == 1
    result = prove_and_verify(layout)
    assert result.instances.weights_commitment == record.weights_commitment
    assert len(result.instances.input_commitments) == 1
    other = proof.prove(layout, ExportedModel.load(layout).holdout[1], tmp_path / "o.json")
    assert other.instances.input_commitments != result.instances.input_commitments
    # every artifact holds the private weights: owner-only
    assert layout.root.stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in layout.root.iterdir() if p.is_file())


def test_private_committed_weights_and_committed_input(tmp_path):
    """Weights private but pinned by a public Poseidon hash; the input's commitment public too."""
    from zkml.circuit import CircuitOptions

    (tmp_path / "net.py").write_text(USER_MODEL)
    model = models.resolve(f"{tmp_path}/net.py:build", samples=user_samples(tmp_path))
    layout = ModelLayout.for_model("committed", tmp_path / "circuits")
    export(model, layout)
    pipeline.compile_model(layout, CircuitOptions(weights="hashed", input_visibility="committed"))
    keys.setup(layout)
    check_committed(layout, tmp_path)


@pytest.mark.slow
def test_default_model_with_committed_weights(tmp_path):
    """~70 s: hashing 530 weights in-circuit takes logrows 15 and a 330 MB proving key."""
    layout = build("breast_cancer", tmp_path, rename="bc_private",
                   weights="hashed", input_visibility="committed")
    check_committed(layout, tmp_path)
