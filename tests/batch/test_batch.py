"""prove-batch: many inputs, failures alone, hostile ids and inputs, a changed input proved again,
resume after a kill, no orphaned worker, Ray with nothing left behind, and nothing leaked."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from privacy_search import leaks

from zkml import batch, proof
from zkml.circuit import CircuitSettings
from zkml.cli import main
from zkml.export import ExportedModel
from zkml.layout import BatchLayout

pytestmark = pytest.mark.integration


def write_jsonl(path, rows):
    path.write_text("".join(line + "\n" for line in rows))
    return path


def holdout_lines(layout, count, start=0):
    samples = ExportedModel.load(layout).holdout[start:start + count]
    return [json.dumps({"id": f"patient-{start + i}", "input": s.tolist()})
            for i, s in enumerate(samples)]


def test_batch_proves_each_input_and_fails_bad_ones_alone(breast_cancer, tmp_path):
    deep = "[" * 600 + "]" * 600
    bad = ['{"id": "nan", "input": [' + ", ".join(["0.1"] * 29 + ["NaN"]) + "]}",
           json.dumps({"id": "short", "input": [0.1] * 29}), "{garbled",
           '{"id": "deep", "input": ' + deep + "}"]
    long_id = "あ" * 100  # 300 bytes: too long for a file name as it is
    good = holdout_lines(breast_cancer, 5)
    good.append(json.dumps({"id": long_id,
                            "input": ExportedModel.load(breast_cancer).holdout[5].tolist()}))
    inputs = write_jsonl(tmp_path / "day.jsonl", good + bad)
    summary = batch.run(breast_cancer, inputs, tmp_path / "out", workers=2)
    assert (summary.total, summary.proved_now, summary.valid) == (10, 6, 6)
    reasons = {f["id"]: f["reason"] for f in summary.failures}
    assert set(reasons) == {"nan", "short", "line000009", "deep"}
    assert "NaN" in reasons["nan"] and "29 values" in reasons["short"]
    assert "not JSON" in reasons["line000009"] and "too deeply" in reasons["deep"]
    assert all("\n" not in reason for reason in reasons.values())
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["valid"] == 6 and saved["throughput_per_s"] > 0
    outputs = {r["id"]: r["outputs"] for r in saved["results"]}
    assert set(outputs) == {f"patient-{i}" for i in range(5)} | {long_id}
    proofs = BatchLayout(tmp_path / "out").proofs
    assert all(len(p.name.encode()) < 100 for p in proofs.iterdir())
    long_proof = proofs / f"{batch.file_id(long_id)}.json"
    assert proof.verify(breast_cancer, long_proof).instances.outputs == outputs[long_id]


def test_a_changed_input_under_the_same_id_is_proved_again(breast_cancer, tmp_path):
    holdout = ExportedModel.load(breast_cancer).holdout
    out = tmp_path / "out"
    inputs = tmp_path / "day.jsonl"
    write_jsonl(inputs, [json.dumps({"id": "patient-7", "input": holdout[0].tolist()})])
    first = batch.run(breast_cancer, inputs, out, workers=1)
    assert first.proved_now == 1
    again = batch.run(breast_cancer, inputs, out, workers=1)
    assert (again.already_done, again.proved_now) == (1, 0)
    old_salt = json.loads(BatchLayout(out).secret("patient-7").read_text())["subjects"]
    write_jsonl(inputs, [json.dumps({"id": "patient-7", "input": holdout[1].tolist()})])
    changed = batch.run(breast_cancer, inputs, out, workers=1)
    assert (changed.already_done, changed.proved_now, changed.changed) == (0, 1, 1)
    new_salt = json.loads(BatchLayout(out).secret("patient-7").read_text())["subjects"]
    for kept in (old_salt, new_salt):  # the copy is replaced; the store keeps both salts
        store = breast_cancer.secrets.salt(kept[0]["commitment"])
        assert json.loads(store.read_text())["subjects"] == kept
    now = proof.verify(breast_cancer, BatchLayout(out).proof("patient-7")).instances.outputs
    alone = proof.prove(breast_cancer, holdout[1], tmp_path / "alone.json").instances.outputs
    assert now == alone  # the proof stands for the new record, not the old one
    record = json.loads(BatchLayout(out).record("patient-7").read_text())
    scale = CircuitSettings.load(breast_cancer).input_scale
    assert not leaks(json.dumps(record), holdout[1], scale)  # a keyed digest, not the input
    assert BatchLayout(out).input_key.stat().st_mode & 0o077 == 0


def test_csv_header_only_when_no_cell_is_a_number(breast_cancer, tmp_path):
    samples = ExportedModel.load(breast_cancer).holdout[:2]
    rows = [",".join(map(str, s.tolist())) for s in samples]
    with_header = tmp_path / "rows.csv"
    with_header.write_text("\n".join([",".join(f"f{i}" for i in range(30)), *rows]) + "\n")
    assert batch.run(breast_cancer, with_header, tmp_path / "a", workers=1).valid == 2
    first_cell_empty = tmp_path / "data.csv"
    first_cell_empty.write_text("\n".join(["," + rows[0].split(",", 1)[1], rows[1]]) + "\n")
    summary = batch.run(breast_cancer, first_cell_empty, tmp_path / "b", workers=1)
    assert summary.total == 2  # the first row is data: it fails, it is not skipped
    assert summary.valid == 1 and [f["id"] for f in summary.failures] == ["row000001"]


def test_folder_inputs(breast_cancer, tmp_path):
    samples = ExportedModel.load(breast_cancer).holdout[:2]
    folder = tmp_path / "folder"
    folder.mkdir()
    for i, s in enumerate(samples):
        (folder / f"rec{i}.json").write_text(json.dumps(s.tolist()))
    summary = batch.run(breast_cancer, folder, tmp_path / "b", workers=1)
    assert summary.valid == 2
    assert {p.stem for p in BatchLayout(tmp_path / "b").proofs.glob("*.json")} >= {"rec0", "rec1"}


def children_of(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_batch_leaves_no_worker_and_resumes_without_proving_twice(breast_cancer,
                                                                         tmp_path):
    inputs = write_jsonl(tmp_path / "many.jsonl", holdout_lines(breast_cancer, 16))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(breast_cancer.root.parent),
               "prove-batch", "breast_cancer", str(inputs), "--out", str(out), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proofs = BatchLayout(out).proofs
    scratch = Path(tempfile.gettempdir())
    witness_modes: list[int] = []  # of witnesses (the private input and its salt) as written
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(list(proofs.glob("*.input.json"))) < 3
                                           or not witness_modes):
        for witness in scratch.glob(f"zkml-{process.pid}-*/witness.json"):
            with contextlib.suppress(FileNotFoundError):  # proved and removed meanwhile
                witness_modes.append(witness.stat().st_mode)
        time.sleep(0.01)
    assert witness_modes and all(mode & 0o077 == 0 for mode in witness_modes)
    workers = children_of(process.pid)
    assert len(workers) == 2  # one ezkl worker process per worker thread
    process.send_signal(signal.SIGKILL)  # the driver alone, mid-proof: its workers must follow
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)], "orphaned workers"
    deadline = time.monotonic() + 5  # the janitor removes what the driver left, at once
    while time.monotonic() < deadline and (list(scratch.glob(f"zkml-{process.pid}-*"))
                                           or list(proofs.glob(".*.tmp"))):
        time.sleep(0.1)
    assert not list(scratch.glob(f"zkml-{process.pid}-*")) and not list(proofs.glob(".*.tmp"))
    done = {p.name.removesuffix(".input.json") for p in proofs.glob("*.input.json")}
    assert 3 <= len(done) < 16
    summary = batch.run(breast_cancer, inputs, out, workers=2)
    assert summary.already_done == len(done)
    assert summary.proved_now == 16 - len(done)  # nothing proved twice
    assert summary.valid == 16 and summary.failures == []
    assert not list(proofs.glob(".*.tmp"))  # the killed worker's temporary file is gone
    stale = [p for p in Path(tempfile.gettempdir()).glob(f"zkml-{process.pid}-*")]
    assert stale == []  # its witness folder: removed by the next run


def test_ray_local_leaves_nothing_behind(breast_cancer, tmp_path):
    pytest.importorskip("ray")
    before = set(Path(tempfile.gettempdir()).glob("zkml-*-ray-*"))
    inputs = write_jsonl(tmp_path / "ray.jsonl", holdout_lines(breast_cancer, 4, start=10))
    summary = batch.run(breast_cancer, inputs, tmp_path / "out", ray_address="local")
    assert summary.valid == 4 and summary.proved_now == 4 and summary.engine == "ray (local)"
    for path in BatchLayout(tmp_path / "out").proofs.glob("patient-*[0-9].json"):
        (commitment,) = proof.verify(breast_cancer, path).instances.input_commitments
        assert breast_cancer.secrets.salt(commitment).is_file()  # kept by the driver
    deadline = time.monotonic() + 20  # Ray's workers exit after shutdown, then clean up
    while time.monotonic() < deadline and set(
            Path(tempfile.gettempdir()).glob("zkml-*-ray-*")) - before:
        time.sleep(0.2)
    assert set(Path(tempfile.gettempdir()).glob("zkml-*-ray-*")) - before == set()


def test_nothing_shareable_holds_private_inputs(breast_cancer, tmp_path):
    lines = holdout_lines(breast_cancer, 3, start=20)
    lines.append(json.dumps({"id": "huge", "input": [1e9] * 30}))
    inputs = write_jsonl(tmp_path / "private.jsonl", lines)
    result = CliRunner().invoke(main, ["--circuits-dir", str(breast_cancer.root.parent), "--json",
                                       "prove-batch", "breast_cancer", str(inputs), "--out",
                                       str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 1  # one input failed
    assert "failed huge: " in result.stderr and "outside the circuit's input range" in \
        result.stderr  # each failure's reason is printed
    values = [json.loads(line)["input"] for line in lines]
    scale = CircuitSettings.load(breast_cancer).input_scale
    out = BatchLayout(tmp_path / "out")
    shareable = [result.stdout, result.stderr, breast_cancer.manifest.read_text(),
                 out.summary.read_text()]
    shareable += [p.read_text() for p in out.proofs.iterdir() if ".secret." not in p.name]
    for text in shareable:
        assert not leaks(text, values, scale)
    assert not list(breast_cancer.root.rglob("*witness*"))
    for private in (breast_cancer.samples, breast_cancer.calibration_data, out.input_key,
                    *out.proofs.glob("*.secret.json")):
        assert private.stat().st_mode & 0o077 == 0
    assert os.environ.get("ZKML_CACHE_DIR")  # the SRS of these tests stays out of ~/.cache
