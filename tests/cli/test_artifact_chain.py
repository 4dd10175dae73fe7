"""Stale or foreign artifacts are refused with one line, never hang, and leave nothing private."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import logrows, one_line_error, zkml

from zkml.export import ExportedModel
from zkml.keys import KeyRecord

pytestmark = pytest.mark.integration


def input_file(folder, circuits):
    from zkml.layout import ModelLayout

    path = folder / "input.json"
    holdout = ExportedModel.load(ModelLayout(circuits / "breast_cancer")).holdout
    path.write_text(json.dumps(holdout[4].tolist()))
    return path


def test_a_recompiled_circuit_refuses_its_old_keys(model_dir, tmp_path):
    assert zkml(model_dir, "compile", "breast_cancer", "--force").exit_code == 0
    start = time.monotonic()
    one_line_error(zkml(model_dir, "prove", "breast_cancer", "--input",
                        input_file(tmp_path, model_dir)),
                   "do not match its current", "compiled circuit", "zkml setup breast_cancer")
    assert time.monotonic() - start < 10  # refused before ezkl runs: no hang possible
    assert zkml(model_dir, "setup", "breast_cancer").exit_code == 0  # not "cached"
    proved = zkml(model_dir, "prove", "breast_cancer", "--input", input_file(tmp_path, model_dir))
    assert proved.exit_code == 0, proved.stderr


def test_a_foreign_verifying_key_is_refused(model_dir, tmp_path, breast_cancer):
    """A look-alike circuit (the default model with its two classes swapped), keyed with the
    same SRS: its vk must not vouch for a breast_cancer proof."""
    from zkml import keys, pipeline, proof
    from zkml.export import export
    from zkml.layout import ModelLayout
    from zkml.models import resolve

    swapped = resolve("breast_cancer", name="swapped")
    last = swapped.module[-1]
    last.weight.data = last.weight.data.flip(0)
    last.bias.data = last.bias.data.flip(0)
    other = ModelLayout.for_model("swapped", tmp_path / "other")
    export(swapped, other)
    pipeline.compile_model(other)
    keys.setup(other)
    assert KeyRecord.load(other).srs_sha256 == KeyRecord.load(breast_cancer).srs_sha256
    forged = proof.prove(other, ExportedModel.load(other).holdout[0], tmp_path / "f.json")
    one_line_error(zkml(model_dir, "verify", "breast_cancer", forged.path, "--vk", other.vk),
                   "is not the verifying key made by the setup of breast_cancer")
    one_line_error(zkml(model_dir, "verify", "breast_cancer", forged.path), "INVALID")


def test_edited_settings_are_refused_everywhere(model_dir):
    settings = model_dir / "breast_cancer" / "settings.json"
    data = json.loads(settings.read_text())
    data["model_output_scales"] = [20]
    settings.write_text(json.dumps(data))
    for command in (["verify", "breast_cancer"], ["verifier", "breast_cancer"],
                    ["deploy", "breast_cancer", "--rpc-url", "http://127.0.0.1:1"],
                    ["onchain", "breast_cancer"]):
        one_line_error(zkml(model_dir, *command), "do not match its current settings")


def test_a_swapped_srs_of_the_same_size_and_mtime_is_noticed(model_dir, tmp_path):
    from zkml import _ezkl

    record = json.loads((model_dir / "breast_cancer" / "keys.json").read_text())
    srs = Path(record["srs_path"])
    mine = tmp_path / "mine.srs"
    shutil.copy(srs, mine)
    assert zkml(model_dir, "setup", "breast_cancer", "--srs", mine).exit_code == 0
    stat = mine.stat()
    other = tmp_path / "other.srs"
    _ezkl.call("gen_srs", str(other), logrows(model_dir / "breast_cancer"))
    shutil.copyfile(other, mine)
    os.utime(mine, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert mine.stat().st_size == stat.st_size and mine.stat().st_mtime_ns == stat.st_mtime_ns
    one_line_error(zkml(model_dir, "verify", "breast_cancer"), "changed since the keys were made")
    again = zkml(model_dir, "setup", "breast_cancer", "--srs", mine)
    assert again.exit_code == 0 and "cached, nothing to do" not in again.stderr


@pytest.mark.parametrize("name", ["../../escaped", "/abs/path", ".hidden", "a/b"])
def test_names_cannot_escape_the_circuits_folder(tmp_path, name):
    circuits = tmp_path / "inner" / "circuits"
    one_line_error(zkml(circuits, "export", "iris", "--name", name), "not a usable model name")
    assert not (tmp_path / "escaped").exists() and not Path("/abs/path").exists()
    assert not list(tmp_path.rglob("model.onnx"))


def test_an_onnx_file_named_dots_is_refused(model_dir, tmp_path):
    dots = tmp_path / "...onnx"
    shutil.copy(model_dir / "breast_cancer" / "model.onnx", dots)
    one_line_error(zkml(tmp_path / "c", "export", dots), "not a usable model name")


def test_a_huge_constant_of_shape_is_one_line(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = numpy_helper.from_array(__import__("numpy").array([1 << 40], dtype="int64"), "s")
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["s"], ["big"]),
         helper.make_node("Add", ["x", "x"], ["y"])], "huge",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2]),
         helper.make_tensor_value_info("big", TensorProto.FLOAT, [None])], initializer=[shape])
    path = tmp_path / "huge.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    one_line_error(zkml(tmp_path / "c", "export", path), "onnxruntime cannot run")


def start_prove(model_dir, tmp_path):
    return subprocess.Popen(
        [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(model_dir), "prove",
         "breast_cancer", "--input", str(input_file(tmp_path, model_dir)), "-o",
         str(tmp_path / "p.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def salts_kept(model_dir):
    """The salt store's files, each of which must be whole: the commitment it is named by."""
    from zkml.layout import ModelLayout

    store = ModelLayout(model_dir / "breast_cancer").secrets
    kept = {}
    for path in store.root.glob("*.json"):
        (entry,) = json.loads(path.read_text())["subjects"]
        assert entry["commitment"] == path.stem and path.stat().st_mode & 0o077 == 0
        kept[path.stem] = entry["salt"]
    return kept


def test_a_killed_prove_leaves_no_witness(model_dir, tmp_path):
    kept = salts_kept(model_dir)
    process = start_prove(model_dir, tmp_path)
    pattern = f"zkml-{process.pid}-witness-*"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(Path(tempfile.gettempdir()).glob(pattern)):
        time.sleep(0.01)
    assert list(Path(tempfile.gettempdir()).glob(pattern)), "the prove never made its witness"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert list(Path(tempfile.gettempdir()).glob(pattern))  # SIGKILL skips cleanup...
    zkml(model_dir, "verify", "breast_cancer")
    assert not list(Path(tempfile.gettempdir()).glob(pattern))  # ...the next run removes it
    assert not (tmp_path / "p.json").exists()
    assert salts_kept(model_dir) == kept  # no salt before its proof verified


def test_a_prove_killed_while_writing_leaves_no_half_written_file(model_dir, tmp_path):
    """Killed once its proof is being written: a proof is whole with its salt kept, or absent;
    every salt kept before stays; no temporary survives."""
    kept = salts_kept(model_dir)
    process = start_prove(model_dir, tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".p.json.*.tmp")) and \
            process.poll() is None:
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    zkml(model_dir, "verify", "breast_cancer")  # the next zkml command, as a user's would
    deadline = time.monotonic() + 20  # the janitor removes what the killed writer left
    leftovers = [tmp_path, model_dir / "breast_cancer" / "secrets"]
    def temporaries():
        return [t for p in leftovers for t in p.glob(".*.tmp")]

    while time.monotonic() < deadline and temporaries():
        time.sleep(0.05)
    assert not temporaries()
    after = salts_kept(model_dir)
    assert after.items() >= kept.items()
    if (tmp_path / "p.json").exists():
        from zkml import proof
        from zkml.layout import ModelLayout

        checked = proof.verify(ModelLayout(model_dir / "breast_cancer"), tmp_path / "p.json")
        assert set(checked.instances.input_commitments) <= set(after)


def test_a_model_with_private_weights_is_owner_only(iris_committed):
    layout = iris_committed
    assert layout.root.stat().st_mode & 0o077 == 0
    for path in layout.root.iterdir():
        if path.is_file() and path.name != ".lock":
            assert path.stat().st_mode & 0o077 == 0, path
