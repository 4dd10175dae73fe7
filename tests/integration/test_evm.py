"""On a real Anvil node: deploy, verify, the registry, and the tamper suite (native, on-chain)."""

import json

import pytest
from tamper_cases import cases

from zkml import pipeline, proof
from zkml.errors import VerificationFailed, ZkmlError
from zkml.evm import chain, verifier
from zkml.evm.anvil import Anvil
from zkml.export import ExportedModel
from zkml.proof import int_to_felt

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def node():
    with Anvil() as anvil:
        yield chain.connect(anvil.url)


@pytest.fixture(scope="module")
def deployed(node, breast_cancer):
    pipeline.evm_verifier(breast_cancer)
    return verifier.deploy(node, breast_cancer)


@pytest.fixture(scope="module")
def digits_deployed(node, digits):
    pipeline.evm_verifier(digits)
    return verifier.deploy(node, digits)


@pytest.fixture(scope="module")
def other_input_proof(breast_cancer, tmp_path_factory):
    path = tmp_path_factory.mktemp("other") / "proof.json"
    proof.prove(breast_cancer, ExportedModel.load(breast_cancer).holdout[1], path)
    return path


def write_proof(template, call, path):
    data = json.loads(template.read_text())
    data["proof"] = list(call.proof)
    data.pop("hex_proof", None)
    data["instances"] = [[int_to_felt(v) for v in call.instances]] if call.instances else [[]]
    path.write_text(json.dumps(data))
    return path


def test_anvil_is_local_and_stops():
    with Anvil() as anvil:
        connection = chain.connect(anvil.url)
        assert connection.local and connection.chain_id == 31337
        process = anvil.process
    assert process.poll() is not None


def test_valid_proof_verifies_by_call_and_transaction(node, deployed, breast_cancer):
    call = verifier.calldata(breast_cancer.proof)
    assert verifier.verify_call(node, deployed.verifier, call)
    outcome = verifier.submit(node, deployed, breast_cancer, breast_cancer.proof)
    assert 200_000 < outcome.verify_gas < 2_000_000
    native = proof.verify(breast_cancer, breast_cancer.proof).instances.outputs[0]
    assert outcome.prediction == max(range(len(native)), key=native.__getitem__)
    scale = json.loads(breast_cancer.settings.read_text())["model_output_scales"][0]
    assert [v / 2**scale for v in outcome.outputs] == native


def test_replay_is_rejected(node, breast_cancer, other_input_proof):
    fresh = verifier.deploy(node, breast_cancer)
    verifier.submit(node, fresh, breast_cancer, other_input_proof)
    with pytest.raises(VerificationFailed, match="rejected by the registry"):
        verifier.submit(node, fresh, breast_cancer, other_input_proof)


def test_tamper_suite_native_and_onchain(node, deployed, digits_deployed, breast_cancer, digits,
                                         other_input_proof, tmp_path, capsys):
    valid = verifier.calldata(breast_cancer.proof)
    forged = dict(cases(len(valid.instances)))
    other = verifier.calldata(other_input_proof)
    forged["another input's proof, these outputs"] = lambda c: verifier.Calldata(
        other.proof, c.instances)
    accepted_native, accepted_chain = [], []
    for name, tamper in forged.items():
        call = tamper(valid)
        path = write_proof(breast_cancer.proof, call, tmp_path / "t.json")
        try:
            proof.verify(breast_cancer, path)
            accepted_native.append(name)
        except ZkmlError:
            pass
        if verifier.verify_call(node, deployed.verifier, call):
            accepted_chain.append(name)
    # the valid proof against another model's verifier, natively and on-chain
    cross = len(forged) + 1
    with pytest.raises(ZkmlError):
        proof.verify(digits, breast_cancer.proof)
    if verifier.verify_call(node, digits_deployed.verifier, valid):
        accepted_chain.append("another model's verifier")
    with capsys.disabled():
        print(f"\ntamper suite: {cross} cases, accepted natively {len(accepted_native)}, "
              f"on-chain {len(accepted_chain)}")
    assert cross >= 20
    assert accepted_native == [] and accepted_chain == []
    assert verifier.verify_call(node, deployed.verifier, valid)  # the untouched proof still passes

