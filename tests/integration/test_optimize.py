"""compile --optimize: candidates built for real, the bound kept, the choice recorded."""

import json

import numpy as np
import pytest

from zkml import models, optimize, pipeline
from zkml.circuit import CircuitOptions
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "tiny.py").write_text(
        "import torch\n"
        "def build():\n"
        "    torch.manual_seed(1)\n"
        "    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),"
        " torch.nn.Linear(6, 3))\n"
        "    return net.eval(), torch.zeros(1, 4)\n")
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(np.random.default_rng(0).uniform(-1, 1, (40, 4)).tolist()))
    layout = ModelLayout.for_model("tiny", tmp_path / "circuits")
    pipeline.export_model(models.resolve(f"{tmp_path}/tiny.py:build", samples=samples), layout)
    return layout


def test_search_measures_every_candidate_and_picks_the_goal(tiny):
    trial = optimize.grid(CircuitOptions(), "size", [(16384, 2), (256, 4)], [2])
    chosen, candidates, reason = optimize.search(tiny, "size", candidates_to_try=trial)
    assert len(candidates) == 2 and all(c.rejected is None for c in candidates)
    by_decomp = {c.options.decomp_base: c for c in candidates}
    assert by_decomp[256].pk_bytes < by_decomp[16384].pk_bytes  # the lever the issue measured
    assert chosen.decomp_base == 256 and "smallest proving key" in reason
    assert all(c.prove_seconds > 0 and c.argmax_agreement >= 0.95 for c in candidates)


def test_unreachable_bound_rejects_every_candidate(tiny):
    from zkml.errors import CircuitError

    trial = optimize.grid(CircuitOptions(min_agreement=1.0, decomp_legs=1), "time",
                          [(2, 1)], [2])
    with pytest.raises(CircuitError):
        optimize.search(tiny, "time", CircuitOptions(min_agreement=1.0), candidates_to_try=trial)


def test_optimize_records_choice_and_compiles_with_it(tiny, monkeypatch):
    monkeypatch.setattr(optimize, "DECOMPOSITIONS", [(1024, 3), (256, 4)])
    monkeypatch.setattr(optimize, "INNER_COLUMNS", [1])
    monkeypatch.setattr(optimize, "SCALES", [9])
    result = optimize.optimize(tiny, "time")
    report = json.loads(tiny.optimize_report.read_text())
    assert report["goal"] == "time" and len(report["candidates"]) == 4
    first, second = report["candidates"][:2], report["candidates"][2:]
    assert all(c["options"]["calibration_scales"] is None for c in first)
    # the scale round runs on both first-round leaders
    assert all(c["options"]["calibration_scales"] == [9] for c in second)
    assert {c["options"]["decomp_base"] for c in second} == {1024, 256}
    settings = json.loads(tiny.settings.read_text())["run_args"]
    assert settings["decomp_base"] == report["chosen"]["decomp_base"]
    assert settings["num_inner_cols"] == 1
    assert result.details["optimize"]["reason"] == report["reason"]
    again = optimize.optimize(tiny, "time")
    assert again.cached and again.details["optimize"]["search_cached"]
