"""Two processes on one model folder, a stage killed midway, and disks that refuse writes."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from zkml import keys, proof
from zkml.cli import main
from zkml.export import ExportedModel
from zkml.layout import Manifest, ModelLayout

pytestmark = pytest.mark.integration


def zkml_process(circuits, *args):
    return subprocess.Popen([sys.executable, "-m", "zkml.cli", "--circuits-dir", str(circuits),
                             *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


@pytest.fixture
def model(breast_cancer, tmp_path):
    circuits = tmp_path / "circuits"
    shutil.copytree(breast_cancer.root, circuits / "breast_cancer")
    return circuits


def test_prove_during_setup_and_two_proves_at_once(model, tmp_path):
    sample = tmp_path / "input.json"
    layout = ModelLayout.for_model("breast_cancer", model)
    sample.write_text(str(ExportedModel.load(layout).holdout[2].tolist()))
    setup = zkml_process(model, "setup", "breast_cancer", "--force")
    time.sleep(0.2)
    proves = [zkml_process(model, "prove", "breast_cancer", "--input", sample, "-o",
                           tmp_path / f"p{i}.json") for i in range(2)]
    for process in [setup, *proves]:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    for i in range(2):  # made with the keys that setup left, whichever finished first
        proof.verify(layout, tmp_path / f"p{i}.json")


def test_setup_killed_midway_is_redone(model):
    """Killed while ezkl writes the keys. Setup saves the manifest (its own temporary file),
    removes keys.json, then opens the keys' temporary files: waiting for those, not for any
    temporary file, makes the state at the kill the same on every run."""
    layout = ModelLayout.for_model("breast_cancer", model)
    process = zkml_process(model, "setup", "breast_cancer", "--force")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(layout.root.glob(f".{layout.pk.name}.*.tmp")):
        assert process.poll() is None, "setup ended before it was killed"
        time.sleep(0.01)  # until ezkl is writing the keys
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert "setup" not in Manifest(layout).data["stages"]  # not recorded as done
    assert not layout.key_record.exists()  # no record of keys that may not match
    refused = CliRunner().invoke(main, ["--circuits-dir", str(model), "prove", "breast_cancer",
                                        "--input", str(sample_file(layout, model))])
    assert refused.exit_code == 1 and "zkml setup breast_cancer" in refused.stderr
    assert "calibrated range" not in refused.stderr  # the cause, not a misleading hint
    result = keys.setup(layout)
    assert not result.cached  # redone, not trusted
    assert not list(layout.root.glob(".*.tmp"))
    proof.prove(layout, ExportedModel.load(layout).holdout[0], layout.proof)


def sample_file(layout, folder):
    path = folder / "sample.json"
    path.write_text(str(ExportedModel.load(layout).holdout[0].tolist()))
    return path


def test_full_disk_is_one_clear_line(model, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "circuits/breast_cancer/pk.key")

    monkeypatch.setattr(os, "replace", full)
    result = CliRunner().invoke(main, ["--circuits-dir", str(model), "setup", "breast_cancer",
                                       "--force"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write circuits/breast_cancer/pk.key: No space")
    assert "Traceback" not in result.stderr
    assert not list((model / "breast_cancer").glob(".*.tmp"))


def test_unwritable_circuits_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["--circuits-dir", str(blocker), "export", "breast_cancer"])
    assert result.exit_code == 1 and "error: cannot write" in result.stderr
