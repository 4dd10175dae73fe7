"""Coverage: a dozen ONNX files zkml did not export (tests/coverage_models.py) through export,
compile, setup, prove and verify with zkml's defaults; the registry flow on chain for some
(all of them in the slow tier). Prints a table: model, ops, logrows, agreement, prove time.
Also: the input forms a user of several inputs gives (by name, ezkl's input_data, .npz) prove
the same subject under the same commitment; N subjects on a dynamic batch axis, and refusals
for what cannot be (--batch on fixed shapes, an op ezkl does not implement)."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
import coverage_models  # noqa: E402
from conftest import one_line_error, zkml  # noqa: E402

pytestmark = pytest.mark.integration

TABLE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("coverage")


@pytest.fixture(scope="module")
def built(folder):
    with warnings.catch_warnings():  # the exporters' advice about LSTMs and batch sizes
        warnings.simplefilter("ignore")
        return {b.__name__: b(folder) for b in coverage_models.BUILDERS}


def _ops(onnx_path: Path) -> str:
    import onnx

    ops = sorted({n.op_type for n in onnx.load(str(onnx_path)).graph.node} - {"Constant"})
    return ", ".join(ops)


def _through_the_pipeline(model, chain: bool) -> dict:
    import zkml

    model.export()
    compiled = model.compile()
    model.setup()
    proof = model.prove(model.holdout[:1])
    verification = model.verify(proof)
    assert verification.valid
    row = {"ops": _ops(model.layout.onnx), "logrows": compiled.logrows,
           "agreement": compiled.fidelity.agreement, "prove": proof.seconds,
           "outputs": proof.outputs, "chain": None}
    if chain:
        with zkml.chain.deploy(model) as registry:
            outcome = registry.submit(proof.path)
        (subject,) = outcome.subjects
        assert subject.recorded_now and subject.commitment == proof.instances.input_commitments[0]
        flat = [v for output in proof.outputs for v in output]
        assert subject.outputs == pytest.approx(flat)
        row["chain"] = outcome.gas
    return row


@pytest.mark.parametrize("name", [b.__name__ for b in coverage_models.BUILDERS])
def test_model(built, folder, name):
    import zkml

    spec = built[name]
    model = zkml.load(str(spec.onnx), samples=spec.samples, circuits_dir=folder / "circuits")
    TABLE[name] = _through_the_pipeline(model, spec.chain)
    fidelity = json.loads(model.layout.fidelity.read_text())
    assert TABLE[name]["agreement"] == 1.0, fidelity
    if name == "tree_gemm":  # its probabilities are exact: ezkl's Equal is scaled correctly
        assert max(o["max_abs_error"] for o in fidelity["outputs"]) < 1e-3
    if name == "int_affine":  # integers in, integers out, exactly
        assert fidelity["outputs"][0]["max_abs_error"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", [b.__name__ for b in coverage_models.BUILDERS])
def test_model_on_chain(built, folder, name):
    """Every model's outputs recorded by its registry (the default tier records a few)."""
    import zkml

    spec = built[name]
    model = zkml.load(str(spec.onnx), samples=spec.samples, circuits_dir=folder / "slow")
    _through_the_pipeline(model, chain=True)


def test_table():
    """The coverage table (after the models above; -s or the terminal shows it)."""
    assert TABLE, "run with the models above"
    lines = ["", "| model | ops | logrows | agreement | prove | on chain (gas) |",
             "|---|---|---|---|---|---|"]
    for name, row in TABLE.items():
        lines.append(f"| {name} | {row['ops']} | {row['logrows']} | {row['agreement']:.0%} | "
                     f"{row['prove']:.2f} s | {row['chain'] or '-'} |")
    print("\n".join(lines))


def test_one_subject_in_many_forms_is_one_input(built, folder, tmp_path):
    """A model of three inputs (bool, float, float): the same subject given by input name
    (JSON true/false), as ezkl's input_data and as a .npz proves the same outputs, and each
    commitment is the one zkml.recompute.commitment makes of the named form with its salt (a
    KZG commitment is never proved twice, so each form has its own salt)."""
    from zkml import recompute
    from zkml.layout import ModelLayout

    circuits = folder / "circuits"
    if "where_bool" not in TABLE:  # run alone: build it first
        test_model(built, folder, "where_bool")
    named = {"mask": [True, False, True, True], "a": [0.5, -0.25, 1.0, 0.0],
             "b": [-1.0, 0.75, 0.125, 0.5]}
    salts = {"named.json": "0x" + "5a" * 32, "ezkl.json": "0x" + "6b" * 32}
    files = {"named.json": json.dumps({**named, "salt": salts["named.json"]}),
             "ezkl.json": json.dumps({"input_data": [[1, 0, 1, 1], named["a"], named["b"]],
                                      "salt": salts["ezkl.json"]})}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    np.savez(tmp_path / "arrays.npz", **{k: np.asarray(v) for k, v in named.items()})
    layout = ModelLayout.for_model("where_bool", circuits)
    outputs = []
    for name in ("named.json", "ezkl.json"):
        result = zkml(circuits, "--json", "prove", "where_bool", "--input", tmp_path / name,
                      "-o", tmp_path / f"{name}.proof.json")
        assert result.exit_code == 0, result.output
        proved = json.loads(result.stdout)["stages"][0]
        assert proved["instances"]["input_commitments"] == [
            recompute.commitment(layout, named, int(salts[name], 16))]
        outputs.append(proved["instances"]["outputs"])
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == pytest.approx([0.5, 0.75, 1.0, 0.0], abs=1e-3)  # where(mask, a, b)
    npz = zkml(circuits, "prove", "where_bool", "--input", tmp_path / "arrays.npz",
               "-o", tmp_path / "npz.proof.json")
    assert npz.exit_code == 0, npz.output
    # true/false belongs to the boolean input only
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**named, "a": [True, 0, 0, 0]}))
    one_line_error(zkml(circuits, "prove", "where_bool", "--input", bad),
                   "true/false where numbers belong (element 0 of input 'a')")


def test_several_subjects_on_a_dynamic_batch_axis(built, folder):
    """Two subjects of a two-input model in one proof, each with its own commitment; a model
    whose inputs have fixed shapes refuses --batch with the reason."""
    circuits = folder / "batch"
    spec = built["two_inputs"]
    result = zkml(circuits, "--json", "run", spec.onnx, "--samples", spec.samples,
                  "--batch", "2", "--no-chain")
    assert result.exit_code == 0, result.output
    proved = next(s for s in json.loads(result.stdout)["stages"] if s["stage"] == "prove")
    assert len(set(proved["instances"]["input_commitments"])) == 2
    assert len(proved["instances"]["outputs"][0]) == 4  # [2 subjects, 2 outputs]
    fixed = built["fixed_batch"]
    one_line_error(zkml(circuits, "run", fixed.onnx, "--samples", fixed.samples, "--batch", "2",
                        "--no-chain"),
                   "fixes its inputs' shapes (input 'x' is [1, 3, 4])", "not 2")


def test_an_op_ezkl_lacks_is_one_line_before_calibration(folder):
    """scikit-learn's converter writes a TreeEnsembleClassifier (ai.onnx.ml): ezkl has no such
    op. The error names the node and its op type before any scale is tried."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = coverage_models.skl2onnx_tree(folder)
    circuits = folder / "refused"
    assert zkml(circuits, "export", path, "--samples", folder / "skl_tree.csv").exit_code == 0
    started = time.perf_counter()
    result = zkml(circuits, "compile", "skl_tree")
    line = one_line_error(result, "unsupported node", "op type TreeEnsembleClassifier",
                          "domain ai.onnx.ml")
    assert "trying scale" not in result.stderr, line
    assert time.perf_counter() - started < 20
