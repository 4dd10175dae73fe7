"""prove-batch: many inputs, failures alone, resume after a kill, Ray, and nothing leaked."""

import json
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from privacy_search import leaks

from zkml import batch, proof
from zkml.circuit import CircuitSettings
from zkml.cli import main
from zkml.export import ExportedModel

pytestmark = pytest.mark.integration


def write_jsonl(path, rows):
    path.write_text("".join(line + "\n" for line in rows))
    return path


def holdout_lines(layout, count, start=0):
    samples = ExportedModel.load(layout).holdout[start:start + count]
    return [json.dumps({"id": f"patient-{start + i}", "input": s.tolist()})
            for i, s in enumerate(samples)]


def test_batch_proves_each_input_and_fails_bad_ones_alone(breast_cancer, tmp_path):
    bad = ['{"id": "nan", "input": [' + ", ".join(["0.1"] * 29 + ["NaN"]) + "]}",
           json.dumps({"id": "short", "input": [0.1] * 29}), "{garbled"]
    inputs = write_jsonl(tmp_path / "day.jsonl", holdout_lines(breast_cancer, 6) + bad)
    summary = batch.run(breast_cancer, inputs, tmp_path / "out", workers=2)
    assert (summary.total, summary.proved_now, summary.valid) == (9, 6, 6)
    reasons = {f["id"]: f["reason"] for f in summary.failures}
    assert set(reasons) == {"nan", "short", "line000009"}
    assert "NaN" in reasons["nan"] and "29 values" in reasons["short"]
    assert "not JSON" in reasons["line000009"]
    assert sorted(p.stem for p in (tmp_path / "out" / "proofs").iterdir()) == [
        f"patient-{i}" for i in range(6)]
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["valid"] == 6 and saved["throughput_per_s"] > 0


def test_csv_and_folder_inputs(breast_cancer, tmp_path):
    samples = ExportedModel.load(breast_cancer).holdout[:2]
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("\n".join([",".join(f"f{i}" for i in range(30))]
                                  + [",".join(map(str, s.tolist())) for s in samples]) + "\n")
    assert batch.run(breast_cancer, csv_file, tmp_path / "a", workers=1).valid == 2
    folder = tmp_path / "folder"
    folder.mkdir()
    for i, s in enumerate(samples):
        (folder / f"rec{i}.json").write_text(json.dumps(s.tolist()))
    summary = batch.run(breast_cancer, folder, tmp_path / "b", workers=1)
    assert summary.valid == 2 and {p.stem for p in (tmp_path / "b" / "proofs").iterdir()} == {
        "rec0", "rec1"}


def test_killed_batch_resumes_without_proving_twice(breast_cancer, tmp_path):
    inputs = write_jsonl(tmp_path / "many.jsonl", holdout_lines(breast_cancer, 16))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(breast_cancer.root.parent),
               "prove-batch", "breast_cancer", str(inputs), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    proofs = out / "proofs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(proofs.glob("*.json"))) < 3:
        time.sleep(0.1)
    import os

    os.killpg(process.pid, signal.SIGKILL)  # the batch and its worker, mid-proof
    process.wait()
    done = {p.stem for p in proofs.glob("*.json")}
    assert 3 <= len(done) < 16
    summary = batch.run(breast_cancer, inputs, out, workers=2)
    assert summary.already_done == len(done)
    assert summary.proved_now == 16 - len(done)  # nothing proved twice
    assert summary.valid == 16 and summary.failures == []
    assert not list(proofs.glob(".*.tmp"))  # the killed worker's temporary file is gone


def test_ray_local(breast_cancer, tmp_path):
    pytest.importorskip("ray")
    inputs = write_jsonl(tmp_path / "ray.jsonl", holdout_lines(breast_cancer, 4, start=10))
    summary = batch.run(breast_cancer, inputs, tmp_path / "out", ray_address="local")
    assert summary.valid == 4 and summary.proved_now == 4 and summary.engine == "ray (local)"
    for path in (tmp_path / "out" / "proofs").iterdir():
        proof.verify(breast_cancer, path)


def test_nothing_shareable_holds_private_inputs(breast_cancer, tmp_path):
    lines = holdout_lines(breast_cancer, 3, start=20)
    lines.append(json.dumps({"id": "huge", "input": [1e6] * 30}))
    inputs = write_jsonl(tmp_path / "private.jsonl", lines)
    result = CliRunner().invoke(main, ["--circuits-dir", str(breast_cancer.root.parent), "--json",
                                       "prove-batch", "breast_cancer", str(inputs), "--out",
                                       str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 1  # one input failed
    values = [json.loads(line)["input"] for line in lines]
    scale = CircuitSettings.load(breast_cancer).input_scale
    shareable = [result.stdout, result.stderr, breast_cancer.manifest.read_text(),
                 (tmp_path / "out" / "summary.json").read_text()]
    shareable += [p.read_text() for p in (tmp_path / "out" / "proofs").iterdir()]
    for text in shareable:
        assert not leaks(text, values, scale)
    assert not list(breast_cancer.root.rglob("*witness*"))
    for private in (breast_cancer.samples, breast_cancer.calibration_data):
        assert private.stat().st_mode & 0o077 == 0
