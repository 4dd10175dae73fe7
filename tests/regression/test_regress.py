"""Proof regression against the committed baseline, and proof that it catches a changed model."""

import json

import pytest
from click.testing import CliRunner

from zkml import regress
from zkml.cli import main

pytestmark = pytest.mark.integration

NET = """
import torch

def build():
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    with torch.no_grad():
        net[2].weight[1, 2] += {delta}
    return net.eval(), torch.zeros(1, 4)
"""


def test_zoo_matches_committed_baseline(circuits, capsys):
    report = regress.run(regress.ZOO, circuits)
    with capsys.disabled():
        for name, metrics in report.current.items():
            print(f"\n{name}: verify gas {metrics['verify_gas']}, proof {metrics['proof_bytes']} B,"
                  f" pk {metrics['pk_bytes']} B, timings {metrics['timings_s']}")
    assert report.moved == [], "\n".join(
        f"{m.model} {m.metric}: {m.baseline} -> {m.current}" for m in report.moved)


def test_one_changed_weight_fails_naming_the_outputs(tmp_path):
    import numpy as np

    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(np.random.default_rng(0).uniform(-1, 1, (24, 4)).tolist()))
    net = tmp_path / "net.py"
    entry = regress.ZooEntry("tiny", f"{net}:build", samples=samples)
    baseline = tmp_path / "baseline.json"

    net.write_text(NET.format(delta=0.0))
    regress.run([entry], tmp_path / "c", baseline, update=True)
    assert regress.run([entry], tmp_path / "c", baseline).moved == []

    net.write_text(NET.format(delta=0.5))  # one weight of the second output's row
    moved = regress.run([entry], tmp_path / "c", baseline).moved
    names = {m.metric for m in moved}
    assert "output[0][1]" in names
    assert not {"output[0][0]", "output[0][2]"} & names  # the other outputs did not move


def test_cli_prints_a_table_of_what_moved(circuits, tmp_path):
    doctored = json.loads(regress.BASELINE.read_text())
    doctored["breast_cancer"]["outputs"][0][0] += 0.25
    doctored["breast_cancer"]["verify_gas"] = int(doctored["breast_cancer"]["verify_gas"] * 1.1)
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(doctored))
    result = CliRunner().invoke(main, ["--circuits-dir", str(circuits), "regress", "--baseline",
                                       str(path), "--only", "breast_cancer"])
    assert result.exit_code == 1
    assert "what moved" in result.stderr
    assert "output[0][0]" in result.stderr and "verify_gas" in result.stderr
    assert "2 regression(s)" in result.stderr
