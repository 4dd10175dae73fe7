"""Outputs of any shape, several outputs, and N subjects per proof: natively and on-chain through
`zkml run`, one transaction each."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from zkml.cli import main

pytestmark = pytest.mark.integration

MODELS = """
import torch

class Grid(torch.nn.Module):
    \"\"\"One output of shape [1, 2, 3].\"\"\"
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 6)

    def forward(self, x):
        return self.fc(x).reshape(-1, 2, 3)

class TwoHeads(torch.nn.Module):
    \"\"\"Two outputs: a class score pair and a single value.\"\"\"
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(4, 8)
        self.classes = torch.nn.Linear(8, 2)
        self.value = torch.nn.Linear(8, 1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.classes(h), self.value(h)

def grid():
    torch.manual_seed(0)
    return Grid().eval(), torch.zeros(1, 4)

def two_heads():
    torch.manual_seed(0)
    return TwoHeads().eval(), torch.zeros(1, 4), ["no", "yes"]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    (folder / "nets.py").write_text(MODELS)
    (folder / "samples.json").write_text(
        json.dumps(np.random.default_rng(0).uniform(-1, 1, (40, 4)).tolist()))
    return folder


def run(project, *args):
    result = CliRunner().invoke(main, ["--circuits-dir", str(project / "circuits"), "--json",
                                       "run", *map(str, args), "--samples",
                                       str(project / "samples.json")])
    assert result.exit_code == 0, result.stderr[-3000:]
    return {s["stage"]: s for s in json.loads(result.stdout)["stages"]}


def test_an_output_of_shape_1_2_3_is_recorded_on_chain(project):
    stages = run(project, f"{project}/nets.py:grid")
    (subject,) = stages["onchain"]["subjects"]
    assert len(subject["outputs"]) == 6 and subject["recorded_now"]
    assert subject["outputs"] == stages["verify"]["instances"]["outputs"][0]


def test_two_outputs_with_their_own_scales_are_recorded_on_chain(project):
    stages = run(project, f"{project}/nets.py:two_heads")
    (subject,) = stages["onchain"]["subjects"]
    native = stages["verify"]["instances"]["outputs"]
    assert [len(o) for o in native] == [2, 1]
    assert subject["outputs"] == native[0] + native[1]
    assert len(stages["onchain"]["output_scales"]) == 2


def test_two_subjects_in_one_proof_and_one_transaction(tmp_path):
    """N inputs per proof (`--batch N`; N = 4 is in the forge fixtures, N = 1..32 in the
    benchmark): each recorded under its own commitment by the one transaction."""
    circuits = tmp_path / "circuits"
    result = CliRunner().invoke(main, ["--circuits-dir", str(circuits), "--json", "run",
                                       "iris", "--name", "iris2", "--batch", "2"])
    assert result.exit_code == 0, result.stderr[-3000:]
    stages = {s["stage"]: s for s in json.loads(result.stdout)["stages"]}
    onchain = stages["onchain"]
    assert onchain["recorded"] == 2 and len(onchain["subjects"]) == 2
    assert len({s["commitment"] for s in onchain["subjects"]}) == 2
    native = stages["verify"]["instances"]["outputs"][0]
    assert [s["outputs"] for s in onchain["subjects"]] == [native[3 * j:3 * j + 3]
                                                          for j in range(2)]
    assert "held-out samples 0-1" in result.stderr
