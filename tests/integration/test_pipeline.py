"""Real ezkl runs of the default model: artifacts, caching, proof and its public outputs."""

import json

import numpy as np
import pytest

from zkml import pipeline, proof
from zkml.circuit import CircuitOptions
from zkml.export import ExportedModel
from zkml.layout import Manifest, sha256_file

pytestmark = pytest.mark.integration


def test_artifacts_and_manifest(breast_cancer):
    layout = breast_cancer
    for path in (layout.onnx, layout.samples, layout.settings, layout.compiled, layout.fidelity,
                 layout.vk, layout.pk, layout.srs_record, layout.proof):
        assert path.is_file(), path
    manifest = json.loads(layout.manifest.read_text())
    assert set(manifest["stages"]) >= {"export", "compile", "setup"}
    assert manifest["files"]["pk.key"]["sha256"] == sha256_file(layout.pk)
    assert manifest["files"]["pk.key"]["size"] == layout.pk.stat().st_size


def test_visibility_is_explicit(breast_cancer):
    run_args = json.loads(breast_cancer.settings.read_text())["run_args"]
    assert run_args["input_visibility"] == "Private"
    assert run_args["output_visibility"] == "Public"
    assert run_args["param_visibility"] == "Fixed"


def test_rerun_is_cached_and_force_redoes(breast_cancer, copy_of):
    layout = copy_of(breast_cancer)
    assert pipeline.compile_model(layout).cached
    assert pipeline.setup_keys(layout).cached
    vk_before = layout.vk.read_bytes()
    redone = pipeline.setup_keys(layout, force=True)
    assert not redone.cached
    assert layout.vk.read_bytes() == vk_before  # same circuit + same cached SRS -> same key


def test_changed_options_invalidate_compile(breast_cancer, copy_of):
    layout = copy_of(breast_cancer)
    manifest = Manifest(layout)
    key_now = manifest.stage_key([layout.onnx, layout.samples], {})
    assert not manifest.is_fresh("compile", key_now)  # different options, different key
    result = pipeline.compile_model(layout, CircuitOptions(min_agreement=0.9))
    assert not result.cached


def test_proof_outputs_match_float_model(breast_cancer):
    exported = ExportedModel.load(breast_cancer)
    result = proof.verify(breast_cancer, breast_cancer.proof)
    outputs = np.asarray(result.instances.outputs[0])
    fidelity = json.loads(breast_cancer.fidelity.read_text())["outputs"][0]
    reference = exported.holdout_reference[0][0]
    assert np.max(np.abs(outputs - reference)) <= max(fidelity["max_abs_error"], 1e-2)
    assert outputs.argmax() == reference.argmax()


def test_fidelity_report_on_holdout(breast_cancer):
    report = json.loads(breast_cancer.fidelity.read_text())
    assert report["samples"] == 50
    (output,) = report["outputs"]
    assert output["agreement"] >= 0.95
    assert output["circuit_accuracy"] >= 0.85
    assert len(output["max_abs_error_per_element"]) == 2


def test_key_record_pins_srs_and_vk(breast_cancer):
    keys = proof.KeyRecord.load(breast_cancer)
    assert keys.srs_local
    assert keys.vk_sha256 == sha256_file(breast_cancer.vk)
    assert keys.weights_commitment == [] and keys.input_hash_count == 0


def test_library_prove_checks_shape_and_finiteness(breast_cancer, tmp_path):
    from zkml.errors import InputError

    with pytest.raises(InputError, match="29 values"):
        proof.prove(breast_cancer, np.zeros(29, dtype=np.float32), tmp_path / "p.json")
    bad = np.zeros(30, dtype=np.float32)
    bad[3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        proof.prove(breast_cancer, bad, tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()
