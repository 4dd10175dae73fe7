"""A changed public instance, proof byte or pretty field must never pass as a verified result."""

import json

import pytest

from zkml import proof
from zkml.errors import ProofError, VerificationFailed
from zkml.felts import FIELD_MODULUS, felt_to_int, int_to_felt

pytestmark = pytest.mark.integration


def rewrite(layout, tmp_path, change):
    data = json.loads(layout.proof.read_text())
    change(data)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    return path


def instance_cases():
    cases = []
    for index in range(2):  # both outputs (the input's KZG commitment is in the proof bytes)
        for label, fn in [
            ("+1", lambda v: (v + 1) % FIELD_MODULUS),
            ("-1", lambda v: (v - 1) % FIELD_MODULUS),
            ("zero", lambda v: 0),
            ("+p", lambda v: v + FIELD_MODULUS),
        ]:
            cases.append(pytest.param(index, fn, id=f"instance{index}{label}"))
    return cases


@pytest.mark.parametrize(("index", "fn"), instance_cases())
def test_changed_public_instance_is_rejected(breast_cancer, tmp_path, index, fn):
    def change(data):
        row = data["instances"][0]
        row[index] = int_to_felt(fn(felt_to_int(row[index])))

    with pytest.raises(VerificationFailed):
        proof.verify(breast_cancer, rewrite(breast_cancer, tmp_path, change))


def test_swapped_outputs_are_rejected(breast_cancer, tmp_path):
    def change(data):
        data["instances"][0].reverse()

    with pytest.raises(VerificationFailed):
        proof.verify(breast_cancer, rewrite(breast_cancer, tmp_path, change))


@pytest.mark.parametrize("position", [0, 31, 32, 63, 100, 1000, -1])  # 0..63: the commitment
def test_flipped_proof_byte_is_rejected(breast_cancer, tmp_path, position):
    def change(data):
        data["proof"][position] ^= 0x01
        data.pop("hex_proof", None)

    with pytest.raises((VerificationFailed, ProofError)):
        proof.verify(breast_cancer, rewrite(breast_cancer, tmp_path, change))


def test_dropped_or_extra_instance_is_rejected(breast_cancer, tmp_path):
    with pytest.raises(VerificationFailed, match="publishes 2"):
        proof.verify(breast_cancer, rewrite(breast_cancer, tmp_path,
                                            lambda d: d["instances"][0].pop()))
    with pytest.raises(VerificationFailed, match="publishes 2"):
        proof.verify(breast_cancer, rewrite(breast_cancer, tmp_path,
                                            lambda d: d["instances"][0].append("00" * 32)))


def test_pretty_public_inputs_are_never_trusted(breast_cancer, tmp_path):
    """ezkl does not bind pretty_public_inputs; zkml reports the outputs from instances."""
    honest = proof.verify(breast_cancer, breast_cancer.proof).instances.outputs

    def change(data):
        data["pretty_public_inputs"]["rescaled_outputs"] = [["999.0", "-999.0"]]

    result = proof.verify(breast_cancer, rewrite(breast_cancer, tmp_path, change))
    assert result.instances.outputs == honest


def test_proof_of_another_input_cannot_carry_these_outputs(breast_cancer, tmp_path):
    from zkml.export import ExportedModel

    exported = ExportedModel.load(breast_cancer)
    other = proof.prove(breast_cancer, exported.holdout[1:2], tmp_path / "other.json")
    mine = json.loads(breast_cancer.proof.read_text())
    honest = proof.verify(breast_cancer, breast_cancer.proof).instances.outputs
    assert other.instances.outputs != honest
    forged = json.loads(other.path.read_text())
    forged["instances"] = mine["instances"]  # this input's commitment and outputs
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    with pytest.raises(VerificationFailed):
        proof.verify(breast_cancer, path)
