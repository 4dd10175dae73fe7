"""On a real Anvil node: the verifier, the registry keyed by (version, subject), a front-runner
who copies a pending transaction, and the tamper suite (natively and on-chain)."""

import json

import pytest
from tamper_cases import cases

from zkml import proof
from zkml.errors import VerificationFailed, ZkmlError
from zkml.evm import registry, rpc, verifier
from zkml.evm.anvil import Anvil
from zkml.evm.verifier import build_verifier
from zkml.export import ExportedModel
from zkml.felts import int_to_felt

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def node():
    with Anvil() as anvil:
        yield rpc.connect(anvil.url)


@pytest.fixture(scope="module")
def deployed(node, breast_cancer):
    build_verifier(breast_cancer)
    return registry.deploy(node, breast_cancer)


@pytest.fixture(scope="module")
def digits_deployed(node, digits):
    build_verifier(digits)
    return registry.deploy(node, digits)


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
        connection = rpc.connect(anvil.url)
        assert connection.local and connection.chain_id == 31337
        process = anvil.process
    assert process.poll() is not None


def test_one_transaction_records_the_result_under_its_commitment(node, breast_cancer):
    fresh = registry.deploy(node, breast_cancer)
    outcome = registry.submit(node, fresh, breast_cancer, breast_cancer.proof)
    native = proof.verify(breast_cancer, breast_cancer.proof).instances
    (subject,) = outcome.subjects
    assert subject.commitment == native.input_commitments[0]
    assert subject.recorded_now and subject.result_id == 1 and outcome.recorded == 1
    assert subject.outputs == native.outputs[0]
    assert subject.outputs_fixed_point == native.outputs_fixed_point[0]
    assert 200_000 < outcome.gas < 539_000  # one verification, paid once: below plain ezkl's
    assert fresh.version == 1 and not fresh.shared
    contract = node.w3.eth.contract(address=fresh.registry,
                                    abi=verifier.EvmBuild.load(breast_cancer).registry["abi"])
    commitment = int(subject.commitment, 16)
    assert contract.functions.predictionOf(1, commitment).call() == max(
        range(2), key=native.outputs[0].__getitem__)
    assert contract.functions.resultCount(1).call() == 1
    assert contract.functions.resultBlockOf(1, commitment).call() == outcome.block


def test_a_replayed_proof_is_already_recorded_not_invalid(node, breast_cancer,
                                                          other_input_proof):
    fresh = registry.deploy(node, breast_cancer)
    registry.submit(node, fresh, breast_cancer, other_input_proof)
    with pytest.raises(registry.AlreadyRecorded) as info:
        registry.submit(node, fresh, breast_cancer, other_input_proof)
    assert info.value.exit_code == 3
    assert info.value.message.startswith("already recorded: result #1 for subject 0x")
    assert "in version 1" in info.value.message


def test_a_front_runner_changes_nothing_an_app_reads(node, breast_cancer, other_input_proof):
    """Auto-mining off: the victim's pending submit is copied at 3x the gas price, and the
    attacker also submits a valid proof of its own input. The victim's subject keeps the
    victim's result."""
    from eth_account import Account

    fresh = registry.deploy(node, breast_cancer)
    w3 = node.w3
    contract = w3.eth.contract(address=fresh.registry,
                               abi=verifier.EvmBuild.load(breast_cancer).registry["abi"])
    victim_call = verifier.calldata(breast_cancer.proof)
    attacker = Account.from_key(
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")  # account 1
    price = w3.eth.gas_price
    data = contract.functions.submit(1, victim_call.proof, victim_call.instances).build_transaction(
        {"from": node.account.address, "gas": 5_000_000})["data"]
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        victim_tx = w3.eth.send_raw_transaction(node.account.sign_transaction({
            "to": fresh.registry, "data": data, "gas": 5_000_000, "gasPrice": price,
            "nonce": w3.eth.get_transaction_count(node.account.address), "chainId": 31337,
        }).raw_transaction)
        pending = w3.eth.get_transaction(victim_tx)  # what a watcher of the mempool sees
        copied = w3.eth.send_raw_transaction(attacker.sign_transaction({
            "to": pending["to"], "data": pending["input"], "gas": pending["gas"],
            "gasPrice": 3 * price, "nonce": w3.eth.get_transaction_count(attacker.address),
            "chainId": 31337}).raw_transaction)
        own = verifier.calldata(other_input_proof)
        own_data = contract.functions.submit(1, own.proof, own.instances).build_transaction(
            {"from": attacker.address, "gas": 5_000_000})["data"]
        own_tx = w3.eth.send_raw_transaction(attacker.sign_transaction({
            "to": fresh.registry, "data": own_data, "gas": 5_000_000, "gasPrice": 3 * price,
            "nonce": w3.eth.get_transaction_count(attacker.address) + 1,
            "chainId": 31337}).raw_transaction)
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    receipts = {name: w3.eth.get_transaction_receipt(tx)
                for name, tx in [("victim", victim_tx), ("copy", copied), ("own", own_tx)]}
    assert receipts["copy"]["status"] == 1 and receipts["own"]["status"] == 1
    assert receipts["copy"]["transactionIndex"] < receipts["victim"]["transactionIndex"]
    assert receipts["victim"]["status"] == 0  # its subject is recorded: AlreadyRecorded
    victim = proof.verify(breast_cancer, breast_cancer.proof).instances
    commitment = int(victim.input_commitments[0], 16)
    assert contract.functions.resultOf(1, commitment).call() == victim.outputs_fixed_point[0]
    attacker_own = proof.verify(breast_cancer, other_input_proof).instances
    # recorded under its own subject
    assert attacker_own.input_commitments != victim.input_commitments
    own_commitment = int(attacker_own.input_commitments[0], 16)
    assert contract.functions.resultOf(1, own_commitment).call() == \
        attacker_own.outputs_fixed_point[0]


def test_registry_errors_are_decoded(node, deployed, digits_deployed, breast_cancer, digits,
                                     tmp_path):
    """zkml verifies natively before it calls the chain, so a registry's own refusals only
    show for proofs that are valid but not for that registry: each is decoded by name."""
    from dataclasses import replace

    contract = registry.contract(node, deployed.registry)
    receipt = rpc.send(node, {"to": deployed.registry, "data": contract.functions.addVersion(
        registry.version_spec(breast_cancer, digits_deployed.verifier), []).build_transaction(
        {"from": node.account.address, "gas": 5_000_000})["data"]})
    (added,) = contract.events.VersionAdded().process_receipt(receipt)
    # breast_cancer's shape, digits' verifier
    wrong_verifier = replace(deployed, version=added["args"]["version"],
                             verifier=digits_deployed.verifier)
    with pytest.raises(VerificationFailed, match="ProofRejected"):
        registry.submit(node, wrong_verifier, breast_cancer, breast_cancer.proof)
    with pytest.raises(registry.WrongRegistry, match="WrongInstanceCount"):
        registry.submit(node, deployed, digits, digits.proof)  # digits' proof, bc's version


def test_tamper_suite_native_and_onchain(node, deployed, digits_deployed, breast_cancer, digits,
                                         other_input_proof, tmp_path):
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
    print(f"\ntamper suite: {cross} cases, accepted natively {len(accepted_native)}, "
          f"on-chain {len(accepted_chain)}")
    assert cross >= 20
    assert accepted_native == [] and accepted_chain == []
    assert verifier.verify_call(node, deployed.verifier, valid)  # the untouched proof still passes
