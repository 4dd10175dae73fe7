"""The error budget on real circuits: a budget no setting meets is one line naming the output
(CLI and library), a single-output model's decision flips, and the report's per-output figures."""

import json
import shutil

import numpy as np
import pytest
from conftest import one_line_error, zkml

import zkml as lib
from zkml import circuit
from zkml.errors import CircuitError
from zkml.export import ExportedModel
from zkml.felts import felts_to_floats
from zkml.fidelity import BudgetExceeded
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration

NETS = """
import torch

def classifier():
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    return net.eval(), torch.zeros(1, 4)

def score():
    torch.manual_seed(4)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 1))
    return net.eval(), torch.zeros(1, 4)
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both tiny models exported once; each test compiles a copy."""
    folder = tmp_path_factory.mktemp("fidelity")
    (folder / "nets.py").write_text(NETS)
    samples = folder / "samples.json"
    samples.write_text(json.dumps(np.random.default_rng(0).uniform(-1, 1, (48, 4)).tolist()))
    circuits = folder / "circuits"
    for name in ("classifier", "score"):
        result = zkml(circuits, "export", f"{folder}/nets.py:{name}", "--samples", samples,
                      "--name", name)
        assert result.exit_code == 0, result.output
    return circuits


@pytest.fixture
def circuits(exported, tmp_path):
    shutil.copytree(exported, tmp_path / "circuits")
    return tmp_path / "circuits"


def test_a_budget_no_setting_meets_is_one_line_from_the_cli(circuits):
    result = zkml(circuits, "compile", "classifier", "--max-error", "1e-9")
    line = one_line_error(result, "no setting meets the error budget: output 0 misses it by",
                          "(max |error| ", "budget 1e-09", "at the closest setting tried, scale",
                          "raise --max-error-pct or --max-error")
    assert "logrows" in line


def test_a_budget_no_setting_meets_is_one_error_from_the_library(circuits):
    model = lib.load("classifier", circuits_dir=circuits)
    with pytest.raises(BudgetExceeded) as caught:
        model.compile(max_error_pct=1e-6)
    error = caught.value
    assert isinstance(error, CircuitError) and "\n" not in str(error)
    assert str(error).startswith("no setting meets the error budget: output 0 misses it by")
    worst = error.report.worst
    assert worst.output == 0 and not worst.within_budget
    assert worst.max_abs_error > worst.budget and worst.budget_pct == pytest.approx(1e-6)


def test_the_report_gives_each_outputs_budget_error_and_margin(circuits):
    result = zkml(circuits, "--json", "compile", "classifier", "--max-error-pct", "0.4")
    assert result.exit_code == 0, result.output
    (stage,) = json.loads(result.stdout)["stages"]
    (output,) = stage["fidelity"]["outputs"]
    assert output["budget_pct"] == pytest.approx(0.4)
    assert output["budget"] == pytest.approx(0.004 * output["spread"])
    assert output["error_pct"] == pytest.approx(100 * output["max_abs_error"] / output["spread"])
    assert output["margin"] == pytest.approx(output["budget"] - output["max_abs_error"])
    assert output["within_budget"] and output["agreement"] == 1.0
    assert output["agreement_kind"] == "argmax" and output["decision_flips"] is None
    values = ExportedModel.load(ModelLayout(circuits / "classifier")).holdout_reference[0][:50]
    assert output["spread"] == pytest.approx(np.percentile(values, 99) - np.percentile(values, 1))
    assert json.loads((circuits / "classifier" / "fidelity.json").read_text())["outputs"][0] \
        == output
    for column in ("spread", "budget", "max |err|", "margin", "flips"):
        assert column in result.stderr
    assert "budget: max |error| <= 0.4 % of each output's spread" in result.stderr


def circuit_outputs(layout):
    """The compiled circuit's single output on each held-out sample, as fidelity.json saw it."""
    settings = circuit.CircuitSettings.load(layout)
    exported = ExportedModel.load(layout)
    salts = [0] if settings.salted else None
    return np.asarray([
        felts_to_floats(circuit.witness(layout, row[None], salts, exported.signature)["outputs"][0],
                        settings.output_scales[0])[0]
        for row in exported.holdout[:50]])


def test_a_single_output_models_decision_flips(circuits):
    """At the default budget no decision flips; at a coarse scale with a threshold between a
    sample's float and circuit values, the flips are counted (as an independent count finds)
    and compile refuses them."""
    layout = ModelLayout(circuits / "score")
    reference = ExportedModel.load(layout).holdout_reference[0][:50, 0]
    threshold = float(np.median(reference))
    result = zkml(circuits, "--json", "compile", "score", "--decision-threshold", threshold)
    assert result.exit_code == 0, result.output
    (output,) = json.loads(result.stdout)["stages"][0]["fidelity"]["outputs"]
    assert output["agreement_kind"] == "within budget" and output["decision_flips"] == 0
    assert output["decision_threshold"] == threshold and f"0 at {threshold:g}" in result.stderr

    model = lib.load("score", circuits_dir=circuits)
    coarse_scale = dict(calibration_scales=(2,), scale_rebase_multiplier=(1,), max_error_pct=100)
    model.compile(**coarse_scale)
    coarse = circuit_outputs(model.layout)
    worst = int(np.argmax(np.abs(coarse - reference)))
    between = float((coarse[worst] + reference[worst]) / 2)
    expected = int(np.sum((reference > between) != (coarse > between)))
    assert expected >= 1
    with pytest.raises(BudgetExceeded, match=f"{expected} decision flip") as caught:
        model.compile(**coarse_scale, decision_threshold=between)
    (counted,) = caught.value.report.outputs  # the closest setting's, measured on them all
    assert counted.decision_flips == expected and not counted.within_budget
    assert caught.value.report.samples == len(ExportedModel.load(layout).holdout[:50])


def test_a_decision_threshold_on_a_classifier_is_refused(circuits):
    one_line_error(zkml(circuits, "compile", "classifier", "--decision-threshold", "0.5"),
                   "--decision-threshold applies to a model with one output value")
