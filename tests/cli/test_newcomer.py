"""What a new user runs into: flags where they type them, names and hints, labels, CSV inputs,
warnings, a proof of theirs that `run` keeps, and output that is not wrapped in a pipe."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import one_line_error, zkml

from zkml.export import ExportedModel
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

NET = """
import torch

def build():
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    return net.eval(), torch.zeros(1, 4)
"""


def test_json_and_verbose_after_the_subcommand(model_dir, tmp_path):
    result = zkml(model_dir, "verify", "breast_cancer", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"]
    failed = zkml(model_dir, "verify", "breast_cancer", tmp_path / "none.json", "-v")
    assert failed.exit_code == 1 and "Traceback" in failed.stderr


def test_export_names_the_next_step(tmp_path):
    result = zkml(tmp_path / "c", "export", "iris", "--name", "my_iris")
    assert result.exit_code == 0, result.stderr
    assert "next: zkml compile my_iris" in result.stderr


def test_a_mistyped_model_name_suggests_close_names(model_dir, tmp_path):
    result = zkml(model_dir, "prove", "breast_cancr", "--input", tmp_path / "x.json")
    assert result.exit_code == 1
    assert "did you mean breast_cancer" in result.stderr
    assert f"built in {model_dir}: breast_cancer" in result.stderr
    assert "zkml export breast_cancr" not in result.stderr  # no hint that would fail next


def test_prove_takes_a_csv_with_a_header_row(model_dir, tmp_path):
    row = ExportedModel.load(ModelLayout(model_dir / "breast_cancer")).holdout[2]
    csv = tmp_path / "patient.csv"
    csv.write_text(",".join(f"f{i}" for i in range(30)) + "\n" + ",".join(map(str, row)) + "\n")
    result = zkml(model_dir, "prove", "breast_cancer", "--input", csv, "-o", tmp_path / "p.json")
    assert result.exit_code == 0, result.stderr
    assert "header row" not in result.stderr  # a header row is normal: said only with -v
    verbose = zkml(model_dir, "prove", "breast_cancer", "--input", csv, "-o",
                   tmp_path / "q.json", "-v")
    assert verbose.exit_code == 0 and "skipped a header row" in verbose.stderr


def test_a_file_of_many_inputs_given_to_prove_points_to_prove_batch(model_dir, tmp_path):
    rows = ExportedModel.load(ModelLayout(model_dir / "breast_cancer")).holdout[:54]
    csv = tmp_path / "patients.csv"
    csv.write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
    result = zkml(model_dir, "prove", "breast_cancer", "--input", csv)
    one_line_error(result, "it holds 54 inputs", "zkml prove-batch")


def test_calibrating_on_the_example_alone_is_warned_about(tmp_path):
    (tmp_path / "net.py").write_text(NET)
    result = zkml(tmp_path / "c", "export", f"{tmp_path}/net.py:build")
    assert result.exit_code == 0, result.stderr
    assert "WARNING" in result.stderr and "--samples" in result.stderr


def test_custom_class_labels_are_printed(tmp_path):
    (tmp_path / "net.py").write_text(NET)
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(np.random.default_rng(0).uniform(-1, 1, (30, 4)).tolist()))
    result = zkml(tmp_path / "c", "run", f"{tmp_path}/net.py:build", "--samples", samples,
                  "--classes", "low,mid,high", "--no-chain")
    assert result.exit_code == 0, result.stderr
    verified = [line for line in result.stdout.splitlines() if "public output 0" in line]
    assert verified and all(line.split("-> ")[1] in {"low", "mid", "high"} for line in verified)


def test_an_onnx_file_from_torchs_default_exporter_is_proved(tmp_path):
    """torch.onnx.export with its defaults (the dynamo exporter: opset 20, a fixed batch, the
    weights in a .data file beside the graph) feeds `zkml run` as it is."""
    import torch
    from sklearn.datasets import load_iris

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    onnx_file = tmp_path / "iris_net.onnx"
    torch.onnx.export(net.eval(), (torch.zeros(1, 4),), str(onnx_file))
    assert (tmp_path / "iris_net.onnx.data").is_file()  # what made a copy lose its weights
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(load_iris().data[::5].tolist()))
    result = zkml(tmp_path / "c", "run", onnx_file, "--samples", samples, "--no-chain")
    assert result.exit_code == 0, result.stderr
    assert "verified" in result.stdout
    assert not list((tmp_path / "c" / "iris_net").glob("*.data"))  # one self-contained file


def test_labels_given_with_the_samples_fill_the_accuracy_columns(tmp_path):
    (tmp_path / "net.py").write_text(NET)
    rows = np.random.default_rng(0).uniform(-1, 1, (24, 4))
    samples = tmp_path / "labelled.json"
    samples.write_text(json.dumps({"input_data": rows.tolist(),
                                   "labels": ["low", "mid", "high"] * 8}))
    exported = zkml(tmp_path / "c", "export", f"{tmp_path}/net.py:build", "--samples", samples,
                    "--classes", "low,mid,high")
    assert exported.exit_code == 0, exported.stderr
    compiled = zkml(tmp_path / "c", "--json", "compile", "net-build")
    assert compiled.exit_code == 0, compiled.stderr
    (output,) = json.loads((tmp_path / "c" / "net-build" / "fidelity.json").read_text())["outputs"]
    assert output["float_accuracy"] is not None and output["circuit_accuracy"] is not None


def test_run_keeps_a_proof_the_user_made(model_dir, tmp_path):
    row = ExportedModel.load(ModelLayout(model_dir / "breast_cancer")).holdout[5]
    source = tmp_path / "mine.json"
    source.write_text(json.dumps(row.tolist()))
    assert zkml(model_dir, "prove", "breast_cancer", "--input", source).exit_code == 0
    mine = (model_dir / "breast_cancer" / "proof.json").read_bytes()
    result = zkml(model_dir, "run", "breast_cancer", "--no-chain")
    assert result.exit_code == 0, result.stderr
    assert (model_dir / "breast_cancer" / "proof.json").read_bytes() == mine
    assert "kept your" in result.stderr and "run-proof.json" in result.stderr
    assert "proved held-out sample 0" in result.stderr


def test_output_to_a_pipe_is_not_wrapped(model_dir, tmp_path):
    deep = tmp_path / ("a-long-folder-name-" * 6) / "proofs"
    deep.mkdir(parents=True)
    shutil.copy(model_dir / "breast_cancer" / "proof.json", deep / "proof.json")
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "zkml"), "--circuits-dir",
                             str(model_dir), "verify", "breast_cancer", str(deep / "proof.json")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"verified: {deep / 'proof.json'} is a valid proof" in result.stdout


@pytest.mark.slow  # scripts/test's `forge test` fails on a warning too (foundry.toml: deny)
def test_forge_builds_the_contracts_without_warnings():
    result = subprocess.run([str(ROOT / "node_modules" / ".bin" / "forge"), "build", "--force"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stdout + result.stderr
