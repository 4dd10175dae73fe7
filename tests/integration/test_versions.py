"""One registry, many model versions, on a real Anvil with real proofs, as a bank upgrades its
model: v1 deployed and records a result; v2 added and records one; v1 retired and refuses new
results; both results read back with `zkml result`, each version's key and verifier checked
against the local files. Also: the activation delay before a new version counts, the same
through zkml.chain, the shared verifier, the owner, and the subject's `zkml commitment`
check."""

import hashlib
import json
import shutil

import pytest
from conftest import one_line_error, zkml

from zkml.export import ExportedModel
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration

ACCOUNT_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # Anvil's
PLAIN_EZKL_VERIFY_GAS = 539_000  # issue 16: one submit costs no more than this at N = 1


def ok(result):
    assert result.exit_code == 0, result.output + result.stderr
    return result


def json_of(result):
    return json.loads(ok(result).stdout)


@pytest.fixture(scope="module")
def app(tmp_path_factory, breast_cancer):
    """A circuits folder with breast_cancer (v1) and breast_cancer_v2 (its head recalibrated:
    another model of the same 30 inputs and 2 classes, from an ONNX file), subject A's input
    with one salt proved by each, and subject B proved by v1."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    root = tmp_path_factory.mktemp("app")
    circuits = root / "circuits"
    shutil.copytree(breast_cancer.root, circuits / "breast_cancer")
    v1 = ModelLayout(circuits / "breast_cancer")
    model = onnx.load(str(v1.onnx))
    for init in model.graph.initializer:
        if init.name in ("2.weight", "2.bias"):
            recalibrated = numpy_helper.to_array(init) * np.float32(1.25)
            init.CopyFrom(numpy_helper.from_array(recalibrated.astype(np.float32), init.name))
    onnx.save(model, str(root / "breast_cancer_v2.onnx"))
    exported = ExportedModel.load(v1)
    samples = root / "samples.json"
    samples.write_text(json.dumps(np.concatenate([exported.calibration, exported.holdout])
                                  .tolist()))
    ok(zkml(circuits, "run", root / "breast_cancer_v2.onnx", "--name", "breast_cancer_v2",
            "--samples", samples, "--classes", "malignant,benign", "--no-chain"))
    salt = json.loads((v1.root / "proof.secret.json").read_text())["subjects"][0]["salt"]
    subject_a = root / "subject_a.json"  # A's input and salt: v1's proof.json is about A
    subject_a.write_text(json.dumps({"input": exported.holdout[0].tolist(), "salt": salt}))
    subject_b = root / "subject_b.json"
    subject_b.write_text(json.dumps(exported.holdout[5].tolist()))
    proofs = {"a1": v1.proof, "a2": root / "a2.json", "b1": root / "b1.json"}
    ok(zkml(circuits, "prove", "breast_cancer_v2", "--input", subject_a, "-o", proofs["a2"]))
    ok(zkml(circuits, "prove", "breast_cancer", "--input", subject_b, "-o", proofs["b1"]))
    commitment = {name: json.loads(path.with_name(path.stem + ".secret.json").read_text()
                                   if name != "a1" else (v1.root / "proof.secret.json")
                                   .read_text())["subjects"][0]["commitment"]
                  for name, path in proofs.items()}
    return {"root": root, "circuits": circuits, "proofs": proofs, "commitment": commitment,
            "subject_a": subject_a, "subject_b": subject_b}


@pytest.fixture(scope="module")
def node():
    from zkml.evm.anvil import Anvil

    with Anvil() as anvil:
        yield anvil


def test_upgrade_end_to_end(app, node):
    """The issue's run, with the CLI as a bank's operator types it."""
    circuits, proofs, url = app["circuits"], app["proofs"], node.url
    a = app["commitment"]["a1"]
    assert app["commitment"]["a2"] == a  # same input, salt and layout: the same commitment
    shown = []

    def run(*args, code=0):
        result = zkml(circuits, *args)
        assert result.exit_code == code, result.output + result.stderr
        shown.append(f"$ zkml {' '.join(map(str, args))}\n{result.stdout}{result.stderr}")
        return result

    # v1 deployed and records a result
    deployed = json.loads(run("--json", "deploy", "breast_cancer", "--rpc-url", url).stdout)
    registry = deployed["stages"][0]["registry"]
    assert deployed["stages"][0]["deployment"]["version"] == 1
    first = json.loads(run("--json", "onchain", "breast_cancer", proofs["a1"], "--rpc-url",
                           url).stdout)["stages"][-1]
    assert first["deployment"]["version"] == 1 and first["subjects"][0]["recorded_now"]
    assert first["gas"] <= PLAIN_EZKL_VERIFY_GAS  # issue 16's target holds with versions
    # v2 added to the same registry, and records a result (the same subject, rescored)
    added = json.loads(run("--json", "deploy", "breast_cancer_v2", "--rpc-url", url,
                           "--registry", registry).stdout)["stages"][0]
    assert added["registry"] == registry and added["deployment"]["version"] == 2
    assert not added["deployed_registry"] and added["added"]
    second = json.loads(run("--json", "onchain", "breast_cancer_v2", proofs["a2"],
                            "--rpc-url", url, "--registry", registry).stdout)["stages"][-1]
    assert second["deployment"]["version"] == 2 and second["subjects"][0]["result_id"] == 1
    assert second["subjects"][0]["outputs"] != first["subjects"][0]["outputs"]
    # v1 retired: it refuses a new result (subject B), checked by eth_call and decoded
    retired = json.loads(run("--json", "deploy", "--rpc-url", url, "--registry", registry,
                             "--retire", "1").stdout)["stages"][0]
    assert retired["retired"] == [1]
    refused = run("onchain", "breast_cancer", proofs["b1"], "--rpc-url", url, "--registry",
                  registry, code=1)
    one_line_error(refused, "version 1 of the registry is retired", "VersionIsRetired")
    # both results remain readable, and say which version and whether it is active
    latest = run("result", a, "--rpc-url", url)
    older = run("result", a, "--rpc-url", url, "--model-version", "1")
    assert "version    2 (breast_cancer_v2), active" in latest.stdout
    assert "version    1 (breast_cancer), retired" in older.stdout
    for result, stage in ((latest, second), (older, first)):
        assert f"transaction {stage['transaction']}" in result.stdout
        assert f"block      {stage['block']}" in result.stdout
        assert "malignant" in result.stdout and "benign" in result.stdout
    assert "also recorded by version(s) 1" in latest.stdout
    assert "currentResultOf returns this result" in latest.stdout
    assert "currentResultOf returns version 2's result" in older.stdout
    # each version reported: its key and verifier, against the local model's files
    for version, model in ((2, "breast_cancer_v2"), (1, "breast_cancer")):
        vk = hashlib.sha256((circuits / model / "vk.key").read_bytes()).hexdigest()
        assert f"check v{version}   key sha256 {vk}; matches {model}/vk.key" in latest.stdout
        assert "as recorded at addVersion; matches " \
            f"{model}'s compiled verifier" in latest.stdout
    assert "DIFFERS" not in latest.stdout and "CHANGED" not in latest.stdout
    read = json.loads(run("--json", "result", a, "--rpc-url", url, "--model-version", "1").stdout)
    assert read["result"]["outputs"] == first["subjects"][0]["outputs"]
    assert read["result"]["active"] is False and read["result"]["labels"] == [
        "malignant", "benign"]
    assert read["result"]["status"] == "retired" and read["result"]["current_version"] == 2
    (audit,) = read["result"]["audits"]
    assert audit["vk_matches"] and audit["verifier_matches"] and audit["vka_matches"] is None
    assert audit["code_hash"] == audit["recorded_code_hash"]
    one_line_error(run("result", app["commitment"]["b1"], "--rpc-url", url, code=1),
                   "no result for")
    print("\n" + "\n".join(shown))


def later(url, seconds):
    """The node's clock moves on, and a block is mined at the new time."""
    from zkml.evm.anvil import rpc as node_rpc

    node_rpc(url, "evm_increaseTime", [seconds])
    node_rpc(url, "evm_mine")


def test_a_new_version_counts_only_after_the_activation_delay(app, node):
    """--activation-delay 1h: each version records at once but counts for currentResultOf
    (and `zkml result` without --version) only an hour after it was added; the owner's v2
    does not replace v1's current result before then; the delay is the registry's for good."""
    circuits, proofs, url = app["circuits"], app["proofs"], node.url
    a = app["commitment"]["a1"]
    deployed = json_of(zkml(circuits, "--json", "deploy", "breast_cancer", "--rpc-url", url,
                            "--activation-delay", "1h"))["stages"][0]
    registry, v1 = deployed["registry"], deployed["deployment"]
    assert deployed["activation_delay"] == 3600 and v1["activation_delay"] == 3600
    at = ["--rpc-url", url, "--registry", registry]
    ok(zkml(circuits, "onchain", "breast_cancer", proofs["a1"], *at))  # pending: it records
    pending = ok(zkml(circuits, "result", a, *at)).stdout
    assert "version    1 (breast_cancer), pending: counts for currentResultOf from" in pending
    assert "currentResultOf returns nothing (NoResult)" in pending
    later(url, 3600)
    assert "version    1 (breast_cancer), active" in ok(zkml(circuits, "result", a, *at)).stdout
    # v2 added: pending for an hour, though it records A with other outputs at once
    added = json_of(zkml(circuits, "--json", "deploy", "breast_cancer_v2", *at))["stages"][0]
    assert added["deployment"]["activates_at"] >= v1["activates_at"] + 3600
    ok(zkml(circuits, "onchain", "breast_cancer_v2", proofs["a2"], *at))
    read = json_of(zkml(circuits, "--json", "result", a, *at))["result"]
    assert (read["version"], read["current_version"], read["other_versions"]) == (1, 1, [2])
    assert [audit["status"] for audit in read["audits"]] == ["active", "pending"]
    later(url, 1800)
    assert json_of(zkml(circuits, "--json", "result", a, *at))["result"]["version"] == 1
    # the delay never changes: asking for another one is refused, before any transaction
    one_line_error(zkml(circuits, "deploy", "breast_cancer", *at, "--activation-delay", "0"),
                   "activation delay of 1 hour", "never changes")
    later(url, 1800)
    read = json_of(zkml(circuits, "--json", "result", a, *at))["result"]
    assert (read["version"], read["status"], read["current_version"]) == (2, "active", 2)
    # v1's verifier replaced by other code (Anvil's setCode stands in for a redeployment): the
    # recorded code hash and the local build both say so
    from zkml.evm.anvil import rpc as node_rpc

    other_code = node_rpc(url, "eth_getCode", [added["deployment"]["verifier"], "latest"])
    node_rpc(url, "anvil_setCode", [v1["verifier"], other_code])
    changed = ok(zkml(circuits, "result", a, *at, "--model-version", "1")).stdout
    assert "CHANGED since addVersion recorded" in changed
    assert "DIFFERS from breast_cancer's compiled verifier" in changed


def test_the_default_delay_is_zero_only_on_a_development_chain(app):
    """A local Anvil answering as another chain (id 11155111, as Sepolia): a new registry's
    versions wait two days by default; 0 is allowed but warned about. Bad durations are refused
    before anything is deployed."""
    from zkml.evm.anvil import Anvil
    from zkml.evm.anvil import rpc as node_rpc

    circuits = app["circuits"]
    with Anvil() as other:
        node_rpc(other.url, "anvil_setChainId", [11155111])
        deployed = json_of(zkml(circuits, "--json", "deploy", "breast_cancer", "--rpc-url",
                                other.url))["stages"][0]
        assert deployed["chain_id"] == 11155111 and deployed["activation_delay"] == 2 * 86400
        assert deployed["warnings"] == []
        none = ok(zkml(circuits, "deploy", "breast_cancer", "--rpc-url", other.url,
                       "--activation-delay", "0"))
        assert "(new, activation delay 0)" in none.stdout
        assert "WARNING activation delay 0" in none.stderr
        sent = node_rpc(other.url, "eth_getTransactionCount", [_dev_account(), "latest"])
        for bad in ("soon", "-1", "366d", "2 days"):
            one_line_error(zkml(circuits, "deploy", "breast_cancer", "--rpc-url", other.url,
                                "--activation-delay", bad), "activation delay" if bad == "366d"
                           else "is not a duration")
        assert node_rpc(other.url, "eth_getTransactionCount", [_dev_account(), "latest"]) == sent


def _dev_account():
    from zkml.evm import rpc

    return rpc.account_for("http://127.0.0.1", True, None).address


def test_a_retired_version_refuses_on_chain(app, node):
    """Past zkml's own check: a transaction to a retired version reverts on chain."""
    import zkml
    from zkml.evm import registry, rpc
    from zkml.evm.verifier import calldata

    created = zkml.chain.add_version(ModelLayout(app["circuits"] / "breast_cancer"), node.url,
                                     retire=[1])
    chain = rpc.connect(node.url)
    address = created.registry
    assert not registry.version_info(chain, address, 1).active
    call = calldata(app["proofs"]["b1"])
    data = registry.contract(chain, address).encode_abi("submit", [1, call.proof, call.instances])
    with pytest.raises(zkml.ZkmlError, match="reverted"):
        rpc.send(chain, {"to": address, "data": data, "gas": 3_000_000})
    assert not registry.contract(chain, address).functions.hasResult(
        1, int(app["commitment"]["b1"], 16)).call()


def test_the_library_does_the_same(app, node):
    """zkml.chain: add_version, retire, result, versions, with typed results."""
    import zkml
    from zkml.errors import ZkmlError

    circuits = app["circuits"]
    v1 = ModelLayout(circuits / "breast_cancer")
    v2 = ModelLayout(circuits / "breast_cancer_v2")
    created = zkml.chain.add_version(v1, node.url)  # a new registry, v1
    assert isinstance(created, zkml.DeployResult) and created.deployed_registry
    upgraded = zkml.chain.add_version(v2, node.url, registry=created.registry, retire=[1])
    assert upgraded.deployment.version == 2 and upgraded.retired == [1]
    again = zkml.chain.add_version(v2, node.url, registry=created.registry)
    assert not again.added and again.deployment.version == 2  # active already: not twice
    with zkml.chain.connect(node.url, created.registry, circuits_dir=circuits) as handle:
        infos = handle.versions()
        assert [(i.version, i.active, i.model) for i in infos] == [
            (1, False, "breast_cancer"), (2, True, "breast_cancer_v2")]
        assert all(isinstance(i, zkml.VersionInfo) for i in infos)
        assert infos[1].labels == ["malignant", "benign"] and infos[1].proof_bytes > 0
        outcome = handle.submit(app["proofs"]["a2"], model=v2)
        assert outcome.deployment.version == 2
        with pytest.raises(ZkmlError, match="retired"):
            handle.submit(app["proofs"]["b1"], model=v1)
    read = zkml.chain.result(app["commitment"]["a1"], node.url, registry=created.registry,
                             circuits_dir=circuits)
    assert isinstance(read, zkml.RecordedResult)
    assert (read.version, read.active, read.model) == (2, True, "breast_cancer_v2")
    assert read.prediction in ("malignant", "benign") and read.transaction.startswith("0x")
    assert str(read).startswith("version 2 (breast_cancer_v2), active: result #1")


def test_shared_verifier_versions(app, node):
    """--verifier shared: ezkl's reusable verifier, deployed once per chain, each version with
    its VKA; cheaper to add, dearer per proof (README: the gas table)."""
    circuits, url = app["circuits"], node.url
    own = json_of(zkml(circuits, "--json", "deploy", "breast_cancer", "--rpc-url", url))
    registry = own["stages"][0]["registry"]
    own_version = own["stages"][0]["deployment"]
    assert not own_version["shared"]  # auto: the own verifier, under 24 KB
    shared = json_of(zkml(circuits, "--json", "deploy", "breast_cancer_v2", "--rpc-url", url,
                          "--registry", registry, "--verifier", "shared"))["stages"][0]
    version = shared["deployment"]
    assert version["shared"] and version["vka"] and version["version"] == 2
    # adding a version: storing and registering the VKA vs deploying a verifier
    assert version["version_gas"] < own_version["verifier_gas"] + own_version["version_gas"]
    own_submit = json_of(zkml(circuits, "--json", "onchain", "breast_cancer",
                              app["proofs"]["b1"], "--rpc-url", url, "--registry",
                              registry))["stages"][-1]
    shared_submit = json_of(zkml(circuits, "--json", "onchain", "breast_cancer_v2",
                                 app["proofs"]["a2"], "--rpc-url", url, "--registry",
                                 registry))["stages"][-1]
    assert own_submit["deployment"]["version"] == 1 and shared_submit["deployment"]["shared"]
    # the shared version's verifier and VKA, checked against what this machine compiled
    (audit,) = json_of(zkml(circuits, "--json", "result", app["commitment"]["a2"], "--rpc-url",
                            url, "--registry", registry, "--model-version", "2")
                       )["result"]["audits"]
    assert audit["vka"] == version["vka"] and audit["local_model"] == "breast_cancer_v2"
    assert audit["vk_matches"] and audit["verifier_matches"] and audit["vka_matches"]
    # the same circuit shape, the reusable verifier costs more per proof
    assert own_submit["gas"] < shared_submit["gas"] < own_submit["gas"] + 200_000
    # the shared verifier is deployed once per chain: the next shared version reuses it
    ok(zkml(circuits, "deploy", "--rpc-url", url, "--registry", registry, "--retire", "2"))
    again = json_of(zkml(circuits, "--json", "deploy", "breast_cancer_v2", "--rpc-url", url,
                         "--registry", registry, "--verifier", "shared"))["stages"][0]
    assert again["deployment"]["version"] == 3 and again["added"]
    assert again["deployment"]["verifier"] == version["verifier"]
    assert again["deployment"]["verifier_gas"] == 0


def test_only_the_owner_changes_versions(app, node, monkeypatch):
    """Another key cannot add or retire; ownership moves in two steps, then it can."""
    from zkml import chain
    from zkml.evm import rpc

    circuits, url = app["circuits"], node.url
    created = chain.add_version(ModelLayout(circuits / "breast_cancer"), url)
    address = created.registry
    stranger = {"ZKML_PRIVATE_KEY": ACCOUNT_1}
    one_line_error(zkml(circuits, "deploy", "breast_cancer_v2", "--rpc-url", url, "--registry",
                        address, env=stranger), "only the registry's owner", "NotOwner")
    one_line_error(zkml(circuits, "deploy", "--rpc-url", url, "--registry", address,
                        "--retire", "1", env=stranger), "NotOwner")
    with chain.connect(url, address, circuits_dir=circuits) as owner_side:
        owner_side.transfer_ownership(rpc.account_for(url, True, ACCOUNT_1).address)
        assert owner_side.owner == owner_side.chain.account.address  # not until accepted
    with monkeypatch.context() as env:
        env.setenv("ZKML_PRIVATE_KEY", ACCOUNT_1)
        with chain.connect(url, address, circuits_dir=circuits) as new_side:
            new_side.accept_ownership()
            assert new_side.owner == new_side.chain.account.address
    ok(zkml(circuits, "deploy", "--rpc-url", url, "--registry", address, "--retire", "1",
            env=stranger))
    one_line_error(zkml(circuits, "deploy", "--rpc-url", url, "--registry", address,
                        "--retire", "1", env=stranger), "retired")  # final
    one_line_error(zkml(circuits, "deploy", "breast_cancer_v2", "--rpc-url", url, "--registry",
                        address), "NotOwner")  # the old owner no longer


def test_subject_checks_their_commitment(app):
    """`zkml commitment`: recomputed offline from the input and the salt in the secret file."""
    circuits = app["circuits"]
    secret = circuits / "breast_cancer" / "proof.secret.json"
    plain_input = app["root"] / "a_input.json"
    plain_input.write_text(json.dumps(json.loads(app["subject_a"].read_text())["input"]))
    matched = ok(zkml(circuits, "commitment", "breast_cancer", "--input", plain_input,
                      "--secret", secret))
    assert f"matches: {app['commitment']['a1']}" in matched.stdout
    other = one_line_error(zkml(circuits, "commitment", "breast_cancer", "--input",
                                app["subject_b"], "--secret", secret), "INVALID")
    assert "not the one in" in other


def test_the_page_knows_the_registry_as_compiled():
    """zkml/web/registry-abi.js is the compiled registry's ABI (`python -m zkml.web` writes it)."""
    from zkml import web
    from zkml.evm.verifier import registry_build

    assert (web.web_dir() / "registry-abi.js").read_text() == \
        web.abi_script(registry_build()["abi"]), "stale: run `.venv/bin/python -m zkml.web`"
