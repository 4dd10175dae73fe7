"""The CLI over a real model: exit codes, one-line errors, --json, for every error class."""

import json
import shutil

import numpy as np
import pytest
from conftest import logrows, one_line_error, zkml

from zkml.export import ExportedModel
from zkml.felts import felt_to_int, int_to_felt

pytestmark = pytest.mark.integration


def write_input(tmp_path, values):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(values))
    return path


def test_verify_valid_proof(model_dir):
    result = zkml(model_dir, "verify", "breast_cancer")
    assert result.exit_code == 0, result.stderr
    assert "verified" in result.stdout and "public output 0" in result.stdout


def test_verify_json_summary(model_dir):
    result = zkml(model_dir, "--json", "verify", "breast_cancer")
    summary = json.loads(result.stdout)
    (stage,) = summary["stages"]
    assert summary["ok"] and stage["stage"] == "verify" and stage["valid"]
    assert len(stage["instances"]["outputs"][0]) == 2


def test_prove_then_verify_a_user_input(model_dir, tmp_path):
    values = ExportedModel.load(model_dir_layout(model_dir)).holdout[3].tolist()
    out = tmp_path / "p.json"
    result = zkml(model_dir, "prove", "breast_cancer", "--input", write_input(tmp_path, values),
                  "-o", out)
    assert result.exit_code == 0, result.stderr
    assert zkml(model_dir, "verify", "breast_cancer", out).exit_code == 0


def model_dir_layout(model_dir):
    from zkml.layout import ModelLayout

    return ModelLayout.for_model("breast_cancer", model_dir)


def test_tampered_instance_fails_verify(model_dir, tmp_path):
    data = json.loads((model_dir / "breast_cancer" / "proof.json").read_text())
    data["instances"][0][1] = int_to_felt(felt_to_int(data["instances"][0][1]) + 1)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    one_line_error(zkml(model_dir, "verify", "breast_cancer", path), "INVALID", "NOT verify")


@pytest.mark.parametrize(
    ("values", "fragments"),
    [
        ([0.1] * 29, ["has 29 values but the model takes 30"]),
        ("nan", ["NaN or infinite"]),
        ("inf", ["NaN or infinite"]),
        ("text", ["holds text where numbers belong"]),
        ([1e9] * 30, ["outside the circuit's input range"]),
        ([1e5] * 30, ["outside what the circuit can represent"]),
    ],
)
def test_bad_private_inputs(model_dir, tmp_path, values, fragments):
    path = tmp_path / "input.json"
    if values == "nan":
        path.write_text("[" + ", ".join(["0.1"] * 29 + ["NaN"]) + "]")
    elif values == "inf":
        path.write_text("[" + ", ".join(["0.1"] * 29 + ["Infinity"]) + "]")
    elif values == "text":
        path.write_text(json.dumps(["a"] * 30))
    else:
        path.write_text(json.dumps(values))
    before = sorted(p.name for p in (model_dir / "breast_cancer").iterdir())
    result = zkml(model_dir, "prove", "breast_cancer", "--input", path, "-o", tmp_path / "p.json")
    one_line_error(result, *fragments)
    assert not (tmp_path / "p.json").exists()
    assert sorted(p.name for p in (model_dir / "breast_cancer").iterdir()) == before


def test_missing_files(model_dir, tmp_path):
    one_line_error(zkml(model_dir, "prove", "nosuch", "--input", tmp_path / "x.json"),
                          "unknown model 'nosuch'", "built in")
    one_line_error(zkml(model_dir, "prove", "breast_cancer", "--input",
                               tmp_path / "x.json"), "input file not found")
    one_line_error(zkml(model_dir, "verify", "breast_cancer", tmp_path / "none.json"),
                          "proof file not found")
    (model_dir / "breast_cancer" / "pk.key").unlink()
    path = write_input(tmp_path, [0.0] * 30)
    one_line_error(zkml(model_dir, "prove", "breast_cancer", "--input", path),
                          "pk.key is missing", "zkml setup breast_cancer")


def test_corrupt_proof_and_settings(model_dir, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line_error(zkml(model_dir, "verify", "breast_cancer", bad), "not a proof")
    bad.write_text(json.dumps({"instances": "x"}))
    one_line_error(zkml(model_dir, "verify", "breast_cancer", bad), "not an ezkl proof")
    (model_dir / "breast_cancer" / "settings.json").write_text("[]")
    one_line_error(zkml(model_dir, "verify", "breast_cancer"),
                          "do not match its current settings", "zkml setup breast_cancer")


def test_wrong_vk(model_dir, tmp_path):
    garbage = tmp_path / "vk.key"
    garbage.write_bytes(b"\x00" * 64)
    one_line_error(zkml(model_dir, "verify", "breast_cancer", "--vk", garbage),
                          "is not the verifying key made by the setup of breast_cancer")


def test_keys_from_another_srs_reject_the_proof(model_dir, tmp_path):
    import ezkl

    other_srs = tmp_path / "other.srs"
    ezkl.gen_srs(str(other_srs), logrows(model_dir / "breast_cancer"))
    proof_path = tmp_path / "proof.json"
    shutil.copy(model_dir / "breast_cancer" / "proof.json", proof_path)
    result = zkml(model_dir, "setup", "breast_cancer", "--srs", other_srs)
    assert result.exit_code == 0, result.stderr
    one_line_error(zkml(model_dir, "verify", "breast_cancer", proof_path), "INVALID")


def test_srs_changed_after_setup(model_dir, tmp_path):
    import ezkl

    srs = tmp_path / "mine.srs"
    k = logrows(model_dir / "breast_cancer")
    ezkl.gen_srs(str(srs), k)
    assert zkml(model_dir, "setup", "breast_cancer", "--srs", srs).exit_code == 0
    ezkl.gen_srs(str(srs), k)  # a different random SRS at the same path
    one_line_error(zkml(model_dir, "verify", "breast_cancer"),
                          "changed since the keys were made", "--force")


def test_srs_too_small_or_corrupt(model_dir, tmp_path):
    import ezkl

    small = tmp_path / "k8.srs"
    ezkl.gen_srs(str(small), 8)
    one_line_error(zkml(model_dir, "setup", "breast_cancer", "--srs", small),
                   f"has logrows 8 but the circuit needs {logrows(model_dir / 'breast_cancer')}")
    small.write_bytes(small.read_bytes()[:1000])
    one_line_error(zkml(model_dir, "setup", "breast_cancer", "--srs", small),
                          "not a valid KZG SRS")


def test_corrupt_onnx(model_dir, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage")
    one_line_error(zkml(model_dir, "export", bad), "not a readable ONNX model")
    (model_dir / "breast_cancer" / "model.onnx").write_bytes(b"garbage")
    one_line_error(zkml(model_dir, "compile", "breast_cancer"),
                          "not a readable ONNX model")


def test_unsupported_onnx_operator(model_dir, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Det", ["x"], ["y"])], "det",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "det.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(np.random.default_rng(0).normal(size=(8, 2, 2)).tolist()))
    assert zkml(model_dir, "export", path, "--samples", samples).exit_code == 0
    result = zkml(model_dir, "compile", "det")
    one_line_error(result, "unsupported node #0 (op type Det)", "replace the Det")
    assert "trying scale" not in result.stderr  # said before any calibration


def test_verbose_shows_traceback(model_dir, tmp_path):
    result = zkml(model_dir, "-v", "verify", "breast_cancer", tmp_path / "none.json")
    assert result.exit_code == 1 and "Traceback" in result.stderr


def test_onchain_valid_replayed_and_rejected(model_dir, tmp_path):
    from zkml.evm.anvil import Anvil

    with Anvil() as node:
        result = zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", node.url, "--json")
        assert result.exit_code == 0, result.stderr
        stage = json.loads(result.stdout)["stages"][-1]
        assert stage["deployed_now"] and stage["recorded"] == 1 and stage["gas"] > 200_000
        assert len(stage["output_scales"]) == 1
        (subject,) = stage["subjects"]
        scale = stage["output_scales"][0]
        assert [v * 2**scale for v in subject["outputs"]] == subject["outputs_fixed_point"]
        replay = zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", node.url)
        assert replay.exit_code == 3, replay.stderr
        assert "already recorded: result #1 for subject 0x" in replay.stderr
        assert "INVALID" not in replay.stderr
        data = json.loads((model_dir / "breast_cancer" / "proof.json").read_text())
        data["proof"][200] ^= 1
        path = tmp_path / "t.json"
        path.write_text(json.dumps(data))
        one_line_error(zkml(model_dir, "onchain", "breast_cancer", path, "--rpc-url",
                                   node.url), "INVALID", "NOT verify")  # natively, first


def test_dead_rpc(model_dir):
    from zkml.evm.anvil import free_port

    url = f"http://127.0.0.1:{free_port()}"
    one_line_error(zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", url),
                          "cannot reach an Ethereum RPC", "zkml anvil")
    one_line_error(zkml(model_dir, "deploy", "breast_cancer", "--rpc-url", url),
                          "cannot reach an Ethereum RPC")


def test_deploy_records_per_chain_then_onchain_reuses_it(model_dir):
    from zkml.evm.anvil import Anvil

    with Anvil() as node:
        deployed = zkml(model_dir, "--json", "deploy", "breast_cancer", "--rpc-url", node.url)
        assert deployed.exit_code == 0, deployed.stderr
        records = json.loads((model_dir / "deployments.json").read_text())
        assert set(records) == {"31337"}
        registry = records["31337"]["default"]
        version = records["31337"]["registries"][registry]["versions"]["1"]
        assert version["model"] == "breast_cancer" and not version["shared"]
        result = zkml(model_dir, "--json", "onchain", "breast_cancer", "--rpc-url", node.url)
        assert result.exit_code == 0, result.stderr
        stage = json.loads(result.stdout)["stages"][-1]
        assert not stage["deployed_now"]
        assert stage["deployment"]["registry"] == registry
        assert stage["deployment"]["version"] == 1


def test_wrong_chain_and_missing_anvil(model_dir, monkeypatch):
    from zkml.evm.anvil import Anvil

    with Anvil() as node:
        one_line_error(
            zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", node.url, "--chain-id", "1"),
            "is chain 31337, not the expected chain 1")
    monkeypatch.setenv("ANVIL", "/nonexistent/anvil")
    one_line_error(zkml(model_dir, "onchain", "breast_cancer"), "not an executable")


def test_contract_too_large_for_the_node(breast_cancer):
    from zkml.errors import ChainError
    from zkml.evm import registry, rpc
    from zkml.evm.anvil import Anvil
    from zkml.evm.verifier import build_verifier

    size = build_verifier(breast_cancer).runtime_bytes
    registry_size = registry.registry_build()["runtime_size"]
    assert size > 10_000 and registry_size > 10_000
    with Anvil(code_size_limit=10_000) as node, pytest.raises(ChainError) as info:
        registry.deploy(rpc.connect(node.url), breast_cancer)  # the registry goes first
    assert "--code-size-limit" in info.value.hint
    assert f"{registry_size} bytes" in info.value.message


def test_ctrl_c_stops_anvil():
    """`zkml anvil` under SIGINT: zkml exits and its Anvil child is gone."""
    import signal
    import subprocess
    import sys
    import time

    # as from a terminal: a shell's background job (`scripts/test &`) inherits SIGINT ignored
    process = subprocess.Popen([sys.executable, "-m", "zkml.cli", "anvil"],
                               stdout=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        assert "Anvil at http://127.0.0.1:" in line
        port = line.split(":")[2].split()[0]
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    time.sleep(0.5)
    listeners = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
    assert f"127.0.0.1:{port} " not in listeners
