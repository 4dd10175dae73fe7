"""Choosing settings: the scale ladder of a plain compile, and `--optimize`, which ranks every
candidate by cheap figures and gives keys and timed proofs to a shortlist only."""

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
    """A Sigmoid's lookup table at a high scale needs far more rows than the model: the ladder
    steps down until the model's rows, not the table, set logrows."""
    result = pipeline.compile_model(tiny)
    assert result.logrows <= np.ceil(np.log2(result.num_rows)) + 2
    assert result.fidelity.agreement >= 0.95
    assert result.search.startswith("scale ") and "scale 12: logrows" in result.search
    high = pipeline.compile_model(tiny, CircuitOptions(calibration_scales=(12,)), force=True)
    assert high.logrows > result.logrows  # what the ladder stepped away from


def test_search_times_only_a_shortlist(tiny, monkeypatch):
    monkeypatch.setattr(optimize, "SHORTLIST", 2)
    trials = [CircuitOptions(num_inner_cols=c, calibration_scales=(s,))
              for c in (1, 2) for s in (6, 8)]
    chosen, candidates, reason = optimize.search(tiny, "time", candidates_to_try=trials)
    assert len(candidates) == 4 and all(c.logrows for c in candidates)
    timed = [c for c in candidates if c.prove_seconds is not None]
    assert len(timed) == 2  # keys and proofs for the shortlist alone
    ranked = sorted(candidates, key=optimize._cheap_rank)
    assert {id(c) for c in timed} == {id(c) for c in ranked[:2]}
    assert chosen in [c.options for c in timed] and "the fastest proof" in reason
    assert all(c.cheap_seconds and c.cheap_seconds > 0 for c in candidates)


def test_unreachable_bound_rejects_every_candidate(tiny):
    from zkml.errors import CircuitError

    trial = [CircuitOptions(min_agreement=1.0, decomp_base=2, decomp_legs=1,
                            calibration_scales=(8,))]
    with pytest.raises(CircuitError):
        optimize.search(tiny, "time", CircuitOptions(min_agreement=1.0), candidates_to_try=trial)


def test_optimize_records_choice_and_compiles_with_it(tiny, monkeypatch):
    monkeypatch.setattr(optimize, "DECOMPOSITIONS", [(256, 4)])
    monkeypatch.setattr(optimize, "INNER_COLUMNS", [1, 2])
    monkeypatch.setattr(optimize, "SEARCH_SCALES", [8])
    result = optimize.optimize(tiny, "size")
    report = json.loads(tiny.optimize_report.read_text())
    assert report["goal"] == "size" and len(report["candidates"]) == 2
    settings = json.loads(tiny.settings.read_text())["run_args"]
    assert settings["num_inner_cols"] == report["chosen"]["num_inner_cols"]
    assert result.search == report["reason"] and "smallest proving key" in result.search
    again = optimize.optimize(tiny, "size")
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
