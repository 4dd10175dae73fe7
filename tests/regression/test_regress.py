"""Proof regression: the bundled zoo against the committed baseline, and a team's own zoo
declared in a project outside this repository, where one changed weight is caught."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import one_line_error

from zkml import regress
from zkml.cli import main

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

NET = """
import torch

class Net(torch.nn.Module):
    def __init__(self, outputs=3):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),
                                        torch.nn.Linear(6, outputs))
        self.example_input = torch.zeros(1, 4)

    def forward(self, x):
        return self.body(x)

class Price(Net):
    def __init__(self):
        super().__init__(outputs=1)
"""

TEAM_CONFIG = """
[project]
name = "team-models"
version = "0.1.0"

[tool.zkml.regress]
baseline = "ci/zkml-baseline.json"

[[tool.zkml.regress.models]]
name = "classifier"
source = "net.py:Net"
weights = "net.pt"
samples = "data/samples.json"
inputs = ["data/input.json"]

[[tool.zkml.regress.models]]
name = "price"
source = "net.py:Price"
weights = "price.pt"
samples = "data/samples.json"
inputs = ["data/input.json"]
abs-tolerance = 0.01
rel-tolerance = 0.001
"""


def test_zoo_matches_committed_baseline(circuits):
    zoo = regress.load_zoo(REPO / "pyproject.toml")
    report = regress.run(zoo.entries, circuits, zoo.baseline)
    for name, metrics in report.current.items():
        print(f"\n{name}: verify gas {metrics['verify_gas']}, proof {metrics['proof_bytes']} B,"
              f" pk {metrics['pk_bytes']} B, timings {metrics['timings_s']}")
    assert report.moved == [], "\n".join(
        f"{m.model} {m.metric}: {m.baseline} -> {m.current}" for m in report.moved)


@pytest.fixture
def team_project(tmp_path_factory):
    """A team's own project, outside this repository: two models with committed weights."""
    import numpy as np
    import torch

    project = tmp_path_factory.mktemp("team-project")
    assert REPO not in project.parents
    (project / "pyproject.toml").write_text(TEAM_CONFIG)
    (project / "net.py").write_text(NET)
    namespace: dict = {}
    exec(NET, namespace)  # noqa: S102 - the project's own model code, as the test wrote it
    torch.manual_seed(3)
    torch.save(namespace["Net"]().state_dict(), project / "net.pt")
    torch.save(namespace["Price"]().state_dict(), project / "price.pt")
    data = project / "data"
    data.mkdir()
    rows = np.random.default_rng(0).uniform(-1, 1, (24, 4))
    (data / "samples.json").write_text(json.dumps(rows.tolist()))
    (data / "input.json").write_text(json.dumps(rows[-1].tolist()))
    return project


def zkml_in(folder, monkeypatch, *args, circuits=None):
    monkeypatch.chdir(folder)
    circuits = circuits or folder / "circuits"
    return CliRunner().invoke(main, ["--circuits-dir", str(circuits), *args])


def test_team_zoo_outside_the_repo_catches_one_changed_weight(team_project, monkeypatch):
    import torch

    recorded = zkml_in(team_project, monkeypatch, "regress", "--update-baseline")
    assert recorded.exit_code == 0, recorded.output
    baseline = json.loads((team_project / "ci" / "zkml-baseline.json").read_text())
    assert set(baseline) == {"classifier", "price"}
    assert len(baseline["price"]["outputs"][0][0]) == 1  # a regression model: one output
    assert baseline["price"]["fidelity_agreement"] == 1.0  # within its budget, not argmax
    (price,) = baseline["price"]["fidelity"]  # each output's error against its budget
    assert price["within_budget"] and price["budget_pct"] == 0.5
    assert price["error_pct"] == pytest.approx(100 * price["max_abs_error"] / price["spread"])

    again = zkml_in(team_project, monkeypatch, "regress")
    assert again.exit_code == 0, again.output
    assert "no regressions" in again.stdout

    state = torch.load(team_project / "net.pt", weights_only=True)
    state["body.2.weight"][1, 2] += 0.5  # one weight of the second output's row
    torch.save(state, team_project / "net.pt")
    changed = zkml_in(team_project, monkeypatch, "--json", "regress", "--only", "classifier")
    assert changed.exit_code == 1
    moved = {m["metric"] for m in json.loads(changed.stdout)["regression"]["moved"]}
    assert "model changed: net.pt" in moved
    assert "output[0][1]" in moved
    assert not {"output[0][0]", "output[0][2]"} & moved  # the other outputs did not move


def test_cli_prints_a_table_of_what_moved(circuits, tmp_path, monkeypatch):
    doctored = json.loads((REPO / "regression" / "baseline.json").read_text())
    doctored["breast_cancer"]["outputs"][0][0][0] += 0.25
    doctored["breast_cancer"]["verify_gas"] = int(doctored["breast_cancer"]["verify_gas"] * 1.1)
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(doctored))
    result = zkml_in(REPO, monkeypatch, "regress", "--baseline", str(path), "--only",
                     "breast_cancer", circuits=circuits)
    assert result.exit_code == 1
    assert "what moved" in result.stderr
    assert "output[0][0]" in result.stderr and "verify_gas" in result.stderr
    assert "2 regression(s)" in result.stderr


def test_regress_from_a_subfolder_builds_beside_its_config(team_project, monkeypatch):
    monkeypatch.delenv("ZKML_CIRCUITS_DIR", raising=False)
    sub = team_project / "data"
    monkeypatch.chdir(sub)
    recorded = CliRunner().invoke(main, ["regress", "--update-baseline", "--only", "price"])
    assert recorded.exit_code == 0, recorded.output
    assert (team_project / "circuits" / "price" / "keys.json").is_file()
    assert not (sub / "circuits").exists()
    again = CliRunner().invoke(main, ["regress", "--only", "price"])  # reuses what it built
    assert again.exit_code == 0 and "no regressions" in again.stdout


TIGHT_ZOO = """
[regress]
baseline = "baseline.json"

[[regress.models]]
name = "tight"
source = "net.py:Net"
weights = "net.pt"
samples = "data/samples.json"
max-error = 1e-9
"""


def test_a_model_that_leaves_its_budget_fails_naming_the_output(team_project, monkeypatch):
    """The error budget is checked apart from what moved: a model no setting keeps inside it
    fails the run, by name and output, and no baseline is written."""
    (team_project / "zkml.toml").write_text(TIGHT_ZOO)
    result = zkml_in(team_project, monkeypatch, "regress", "--config", "zkml.toml",
                     "--update-baseline")
    line = one_line_error(result, "tight left its error budget: no setting meets the error "
                          "budget: output 0 misses it by", "budget 1e-09")
    assert "closest setting tried" in line
    assert "left the error budget" in result.stderr and "what moved" not in result.stderr
    assert not (team_project / "baseline.json").exists()
