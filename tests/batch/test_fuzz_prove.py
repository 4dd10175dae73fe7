"""Property test through the prover: any 30 numbers give an InputError or a proof whose bound
outputs are exactly what the circuit computes for those numbers, never anything else."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkml import circuit, proof
from zkml.errors import InputError
from zkml.export import ExportedModel
from zkml.felts import felts_to_floats

pytestmark = pytest.mark.integration

values = st.lists(st.one_of(st.floats(-4, 4), st.floats(-1e9, 1e9)), min_size=30, max_size=30)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sample=values)
def test_prove_is_exact_or_refuses(breast_cancer, tmp_path, sample):
    array = np.asarray(sample, dtype=np.float32).reshape(1, 30)
    try:
        result = proof.prove(breast_cancer, array, tmp_path / "p.json")
    except InputError as exc:
        assert "\n" not in exc.message
        return
    signature = ExportedModel.load(breast_cancer).signature
    witness = circuit.witness(breast_cancer, array, [1], signature)  # the salt changes no output
    scale = circuit.CircuitSettings.load(breast_cancer).output_scales[0]
    assert result.instances.outputs[0] == felts_to_floats(witness["outputs"][0], scale)
    assert proof.verify(breast_cancer, tmp_path / "p.json").instances.outputs == \
        result.instances.outputs
