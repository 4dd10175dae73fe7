"""Real ezkl runs of the default model: artifacts, caching, proof and its public outputs."""

import json

import numpy as np
import pytest

from zkml import keys, pipeline, proof
from zkml.circuit import CircuitOptions
from zkml.export import ExportedModel
from zkml.layout import Manifest, sha256_file

pytestmark = pytest.mark.integration


def test_artifacts_and_manifest(breast_cancer):
    layout = breast_cancer
    for path in (layout.onnx, layout.samples, layout.settings, layout.compiled, layout.fidelity,
                 layout.vk, layout.pk, layout.key_record, layout.proof, layout.circuit_onnx):
        assert path.is_file(), path
    manifest = json.loads(layout.manifest.read_text())
    assert set(manifest["stages"]) >= {"export", "compile", "setup"}
    assert manifest["files"]["pk.key"]["sha256"] == sha256_file(layout.pk)
    assert manifest["files"]["pk.key"]["size"] == layout.pk.stat().st_size


def test_visibility_is_explicit(breast_cancer):
    run_args = json.loads(breast_cancer.settings.read_text())["run_args"]
    assert run_args["input_visibility"] == "KZGCommit"  # one subject: the KZG commitment
    assert run_args["output_visibility"] == "Public"
    assert run_args["param_visibility"] == "Fixed"


def test_rerun_is_cached_and_force_redoes(breast_cancer, copy_of):
    from zkml import models
    from zkml.export import export

    layout = copy_of(breast_cancer)
    assert not export(models.resolve("breast_cancer"), layout).cached  # always runs again...
    assert pipeline.compile_model(layout).cached  # ...and what it wrote is unchanged
    assert keys.setup(layout).cached
    vk_before = layout.vk.read_bytes()
    redone = keys.setup(layout, force=True)
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
    assert len(result.instances.input_commitments) == 1  # the salted commitment to the input
    fidelity = json.loads(breast_cancer.fidelity.read_text())["outputs"][0]
    reference = exported.holdout_reference[0][0]
    assert np.max(np.abs(outputs - reference)) <= max(fidelity["max_abs_error"], 1e-2)
    assert outputs.argmax() == reference.argmax()


def test_fidelity_report_on_holdout(breast_cancer):
    report = json.loads(breast_cancer.fidelity.read_text())
    assert report["samples"] == 50
    (output,) = report["outputs"]
    assert output["agreement"] >= 0.95 and output["agreement_kind"] == "argmax"
    assert output["circuit_accuracy"] >= 0.85
    assert len(output["max_abs_error_per_element"]) == 2


def test_key_record_pins_what_the_keys_were_made_from(breast_cancer):
    record = keys.KeyRecord.load(breast_cancer)
    assert record.srs_local and record.srs_sha256 == sha256_file(record.srs_path)
    for path, digest in [(breast_cancer.vk, record.vk_sha256), (breast_cancer.pk, record.pk_sha256),
                         (breast_cancer.compiled, record.compiled_sha256),
                         (breast_cancer.settings, record.settings_sha256)]:
        assert digest == sha256_file(path), path
    assert record.weights_commitment == [] and record.input_commitments == 1


def test_library_prove_checks_shape_and_finiteness(breast_cancer, tmp_path):
    from zkml.errors import InputError

    with pytest.raises(InputError, match="29 values"):
        proof.prove(breast_cancer, np.zeros(29, dtype=np.float32), tmp_path / "p.json")
    bad = np.zeros(30, dtype=np.float32)
    bad[3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        proof.prove(breast_cancer, bad, tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()
