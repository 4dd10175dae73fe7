"""What an adversarial review of zkml broke, each kept as a test: a wrong "already recorded",
colliding batch files, trusted-but-edited proofs and manifests, a stalled RPC, hostile JSON,
library misuse and proofs written over artifacts."""

import json
import socket
import threading
import time

import pytest
from conftest import one_line_error, zkml

from zkml.export import ExportedModel
from zkml.felts import FIELD_MODULUS, felt_to_int, int_to_felt
from zkml.layout import BatchLayout, ModelLayout

pytestmark = pytest.mark.integration


def test_a_forged_copy_of_a_recorded_proof_is_invalid_not_already_recorded(model_dir, tmp_path):
    """The registry checks replays by proof bytes before it verifies: only a proof known to be
    valid may be reported as already recorded."""
    from zkml.evm.anvil import Anvil

    proof = model_dir / "breast_cancer" / "proof.json"
    with Anvil() as node:
        assert zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", node.url).exit_code == 0
        data = json.loads(proof.read_text())
        row = data["instances"][0]
        row[0] = int_to_felt(12345)  # another subject
        row[1] = int_to_felt((felt_to_int(row[1]) + (50 << 13)) % FIELD_MODULUS)
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(data))
        one_line_error(zkml(model_dir, "onchain", "breast_cancer", forged, "--rpc-url",
                            node.url), "INVALID")
        replay = zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", node.url)
        assert replay.exit_code == 3  # the genuine replay still is "already recorded"


def test_batch_ids_cannot_name_each_others_files(breast_cancer, tmp_path):
    from zkml import batch, proof

    rows = ExportedModel.load(breast_cancer).holdout
    ids = ["x", "x.input", "x.secret", "y.secret", "y"]
    inputs = tmp_path / "ids.jsonl"
    inputs.write_text("".join(json.dumps({"id": i, "input": rows[k].tolist()}) + "\n"
                              for k, i in enumerate(ids)))
    summary = batch.run(breast_cancer, inputs, tmp_path / "out", workers=1)
    assert summary.valid == 5 and summary.failures == []
    out = BatchLayout(tmp_path / "out")
    names = {i: batch.file_id(i) for i in ids}
    assert len(set(names.values())) == 5
    for item_id, name in names.items():
        checked = proof.verify(breast_cancer, out.proof(name))
        assert json.loads(out.record(name).read_text())["id"] == item_id
        secret = json.loads(out.secret(name).read_text())["subjects"][0]
        assert secret["commitment"] == checked.instances.input_commitments[0]
        kept = breast_cancer.secrets.salt(secret["commitment"])  # also in the model's store
        assert json.loads(kept.read_text())["subjects"] == [secret]


def test_a_resumed_batch_redoes_a_proof_edited_since(breast_cancer, tmp_path):
    from zkml import batch, proof

    rows = ExportedModel.load(breast_cancer).holdout
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"id": f"p{k}", "input": rows[k].tolist()}) + "\n"
                              for k in range(3)))
    batch.run(breast_cancer, inputs, tmp_path / "out", workers=1)
    out = BatchLayout(tmp_path / "out")
    data = json.loads(out.proof("p0").read_text())
    data["instances"][0][1] = int_to_felt(felt_to_int(data["instances"][0][1]) + 1)
    out.proof("p0").write_text(json.dumps(data))
    out.proof("p1").write_text("garbage")
    again = batch.run(breast_cancer, inputs, tmp_path / "out", workers=1)
    assert (again.already_done, again.proved_now, again.valid) == (1, 2, 3)
    for name in ("p0", "p1"):
        proof.verify(breast_cancer, out.proof(name))


def test_an_edited_manifest_does_not_vouch_for_edited_settings(model_dir):
    from zkml.layout import file_version

    root = model_dir / "breast_cancer"
    settings = json.loads((root / "settings.json").read_text())
    settings["model_output_scales"] = [4]
    (root / "settings.json").write_text(json.dumps(settings))
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"]["settings.json"]["version"] = list(file_version(root / "settings.json"))
    (root / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(zkml(model_dir, "verify", "breast_cancer"),
                   "do not match its current settings")


def test_malformed_bookkeeping_is_rebuilt_not_a_traceback(model_dir):
    root = model_dir / "breast_cancer"
    (root / "manifest.json").write_text(json.dumps({"version": 2, "files": [], "stages": 1}))
    (model_dir / "deployments.json").write_text("[]")
    assert zkml(model_dir, "verify", "breast_cancer").exit_code == 0
    assert zkml(model_dir, "onchain", "breast_cancer").exit_code == 0


def test_a_node_that_never_answers_is_an_error_within_seconds(model_dir, monkeypatch):
    from zkml.evm import rpc

    monkeypatch.setattr(rpc, "RPC_TIMEOUT_SECONDS", 2)  # 15 s in use; one try either way
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    start = time.monotonic()
    one_line_error(zkml(model_dir, "deploy", "breast_cancer", "--rpc-url",
                        f"http://127.0.0.1:{silent.getsockname()[1]}/"),
                   "cannot reach an Ethereum RPC")
    assert time.monotonic() - start < 10
    for connection, _ in accepted:
        connection.close()
    silent.close()


def test_an_account_without_funds_is_one_line(model_dir):
    from zkml.evm.anvil import Anvil

    with Anvil() as node:
        one_line_error(zkml(model_dir, "deploy", "breast_cancer", "--rpc-url", node.url,
                            env={"ZKML_PRIVATE_KEY": "0x" + "42" * 32}),
                       "refused eth_sendRawTransaction: Insufficient funds")


def test_hostile_json_after_web3_is_imported_is_one_line(model_dir, tmp_path):
    import web3  # noqa: F401 - it raises the recursion limit to 100000

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(zkml(model_dir, "verify", "breast_cancer", deep), "not a proof")


def test_prove_does_not_write_over_artifacts_or_salts(model_dir, tmp_path):
    source = tmp_path / "x.json"
    source.write_text(json.dumps(ExportedModel.load(
        ModelLayout(model_dir / "breast_cancer")).holdout[1].tolist()))
    for target in (model_dir / "breast_cancer" / "vk.key",
                   model_dir / "breast_cancer" / "proof.secret.json", tmp_path):
        before = target.read_bytes() if target.is_file() else None
        one_line_error(zkml(model_dir, "prove", "breast_cancer", "--input", source, "-o",
                            target), "is not a place for a proof")
        assert before is None or target.read_bytes() == before


def test_library_misuse_raises_zkml_errors_without_values(breast_cancer, tmp_path):
    import zkml

    m = zkml.Model(None, breast_cancer)
    secret_row = [0.5] * 29 + ["secretval"]
    with pytest.raises(zkml.ZkmlError) as info:
        m.prove(secret_row, tmp_path / "p.json")
    assert "secretval" not in str(info.value)
    with pytest.raises(zkml.ZkmlError, match="true/false"):
        m.prove([True] * 30, tmp_path / "p.json")
    for salts in ([-1], [2**300], ["abc"], [1, 2]):
        with pytest.raises(zkml.ZkmlError):
            m.prove(ExportedModel.load(breast_cancer).holdout[0], tmp_path / "p.json",
                    salts=salts)
    with pytest.raises(zkml.ZkmlError):
        zkml.load(None)
    with pytest.raises(zkml.ZkmlError):
        m.verify({"proof": []})
    with pytest.raises(zkml.ZkmlError):
        zkml.chain.deploy(42)
    assert not (tmp_path / "p.json").exists()
