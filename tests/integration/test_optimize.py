"""Choosing settings: the search of a plain compile (the least area inside the error budget),
and `--optimize`, which ranks candidates by cheap figures and gives keys and timed proofs to a
shortlist only."""

import json

import numpy as np
import pytest

from zkml import models, optimize, pipeline
from zkml.circuit import CircuitOptions
from zkml.export import export
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration

SIGMOID = """
import torch

def build():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 3))
    return net.eval(), torch.zeros(1, 4)
"""


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "tiny.py").write_text(SIGMOID)
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(np.random.default_rng(0).uniform(-2, 2, (40, 4)).tolist()))
    layout = ModelLayout.for_model("tiny", tmp_path / "circuits")
    export(models.resolve(f"{tmp_path}/tiny.py:build", samples=samples), layout)
    return layout


def test_plain_compile_sizes_lookups_to_the_rows(tiny):
    """A Sigmoid's lookup table at a high scale needs far more rows than the model: the search
    keeps the area under the floor below which fewer columns come first (a tiny model has such
    settings), and says what it built."""
    result = pipeline.compile_model(tiny)
    settings = json.loads(tiny.settings.read_text())
    tables = len(settings["required_lookups"]) + len(settings["required_range_checks"])
    area = (settings["run_args"]["num_inner_cols"] + tables) * 2**result.logrows
    assert area <= optimize.AREA_FLOOR
    assert result.fidelity.agreement == 1.0 and result.fidelity.within_budget
    assert result.search.startswith("scale ") and "settings estimated" in result.search
    assert any(line.startswith("chosen: ") for line in result.tried)
    assert all("estimated logrows" in line for line in result.tried if "scale" in line[:20])
    high = pipeline.compile_model(tiny, CircuitOptions(calibration_scales=(12,)), force=True)
    assert high.logrows > result.logrows  # what the search stayed away from


def test_a_model_above_a_logrows_step_gets_the_scale_in_between(tiny):
    """Scale 12's Sigmoid table needs logrows more than the budget does: with a budget scale 10
    meets (and 9 does not), the search builds the scale in between, which fits fewer logrows
    than 12, and not a coarser one that misses the budget."""
    from zkml.fidelity import BudgetExceeded

    ten = pipeline.compile_model(tiny, CircuitOptions(calibration_scales=(10,)), force=True)
    budget = 1.1 * ten.fidelity.worst.error_pct
    twelve = pipeline.compile_model(tiny, CircuitOptions(calibration_scales=(12,),
                                                         max_error_pct=budget), force=True)
    result = pipeline.compile_model(tiny, CircuitOptions(max_error_pct=budget), force=True)
    scale = json.loads(tiny.settings.read_text())["run_args"]["input_scale"]
    assert 8 < scale < 12 and result.fidelity.within_budget
    assert result.logrows < twelve.logrows
    with pytest.raises(BudgetExceeded):
        pipeline.compile_model(tiny, CircuitOptions(calibration_scales=(scale - 1,),
                                                    max_error_pct=budget), force=True)


def test_a_tighter_budget_costs_work_never_error(tiny):
    """The search keeps to the budget: a tighter one gives a finer scale (a narrower lookup
    margin or more logrows), never a circuit outside it."""
    loose = pipeline.compile_model(tiny, CircuitOptions(max_error_pct=2.0))
    tight = pipeline.compile_model(tiny, CircuitOptions(max_error_pct=0.05))
    for result, pct in ((loose, 2.0), (tight, 0.05)):
        (output,) = result.fidelity.outputs
        assert output.within_budget and output.error_pct <= pct
        assert output.budget_pct == pytest.approx(pct)
    assert tight.fidelity.max_abs_error < loose.fidelity.max_abs_error
    assert tight.logrows >= loose.logrows


def test_search_times_only_a_shortlist(tiny, monkeypatch):
    monkeypatch.setattr(optimize, "SHORTLIST", 2)
    monkeypatch.setattr(optimize, "PROVE_REPEATS", 1)
    trials = [CircuitOptions(num_inner_cols=c, calibration_scales=(s,), max_error_pct=5)
              for c in (1, 2) for s in (6, 8)]
    chosen, candidates, reason = optimize.search(tiny, "time", candidates_to_try=trials)
    assert len(candidates) == 4 and all(c.logrows for c in candidates)
    timed = [c for c in candidates if c.prove_seconds is not None]
    assert len(timed) == 2  # keys and proofs for the shortlist alone
    ranked = sorted(candidates, key=optimize._rank)
    assert {id(c) for c in timed} == {id(c) for c in ranked[:2]}
    assert chosen in [c.options for c in timed] and "the fastest proof" in reason
    assert all(c.cheap_seconds and c.cheap_seconds > 0 for c in candidates)


def test_a_budget_no_candidate_meets_is_refused(tiny):
    from zkml.fidelity import BudgetExceeded

    trial = [CircuitOptions(calibration_scales=(s,), max_error=1e-9) for s in (6, 8)]
    with pytest.raises(BudgetExceeded, match="output 0 misses it by .* at the closest setting "
                       r"tried, scale 8, logrows \d+; the least area tried, scale 6"):
        optimize.search(tiny, "time", CircuitOptions(max_error=1e-9), candidates_to_try=trial)


def test_optimize_records_choice_and_compiles_with_it(tiny, monkeypatch):
    monkeypatch.setattr(optimize, "PROVE_REPEATS", 1)
    result = pipeline.optimize_model(tiny, "size")
    report = json.loads(tiny.optimize_report.read_text())
    assert report["goal"] == "size" and len(report["candidates"]) >= 2
    assert all(c["rejected"] is None for c in report["candidates"][:2])  # inside the budget
    settings = json.loads(tiny.settings.read_text())["run_args"]
    assert settings["num_inner_cols"] == report["chosen"]["num_inner_cols"]
    assert result.search == report["reason"] and "smallest proving key" in result.search
    assert result.fidelity.within_budget
    again = pipeline.optimize_model(tiny, "size")
    assert again.cached


def test_an_input_past_a_lookup_table_is_refused_not_hung(tiny, tmp_path):
    """ezkl's prover deadlocks on a witness whose nonlinearity leaves its lookup table; zkml
    checks the witness first and refuses with one line."""
    import time

    from zkml import keys, proof
    from zkml.errors import InputError

    pipeline.compile_model(tiny)
    keys.setup(tiny)
    start = time.monotonic()
    with pytest.raises(InputError, match="drives a nonlinearity outside the range"):
        proof.prove(tiny, np.full((1, 4), 60.0, dtype=np.float32), tmp_path / "p.json")
    assert time.monotonic() - start < 15 and not (tmp_path / "p.json").exists()
    proof.prove(tiny, np.zeros((1, 4), dtype=np.float32), tmp_path / "ok.json")
