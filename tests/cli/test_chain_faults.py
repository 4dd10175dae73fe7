"""Commands that talk to a chain, against nodes that fail: credentials never shown (not even
with -v), no command waits past its deadline, and a front-run submit reads as what it is."""

import subprocess
import sys
import time

import pytest
from conftest import one_line_error, zkml
from fake_node import fake_node

from zkml.evm import rpc
from zkml.evm.anvil import Anvil

pytestmark = pytest.mark.integration

SECRETS = ("hunter2", "KEY0123456789", "apikeyvalue")
KEY = {"ZKML_PRIVATE_KEY": "0x" + "42" * 32}  # not a dev key: needed off a local Anvil


def url_of(address):
    return f"http://user:hunter2@{address}/v3/KEY0123456789?apikey=apikeyvalue"


@pytest.mark.parametrize("mode", ["500", "rpc-error"])
def test_a_node_that_fails_after_its_chain_id_shows_no_credentials(model_dir, mode):
    """The node answers eth_chainId, then fails every request: deploy and onchain end in one
    line naming the redacted URL, with no secret in the output, even the -v traceback's."""
    with fake_node(mode) as address:
        for command in ("deploy", "onchain"):
            result = zkml(model_dir, command, "breast_cancer", "--rpc-url", url_of(address),
                          env=KEY)
            line = one_line_error(result, f"http://***@{address}/v3/***?apikey=***")
            assert "500" in line if mode == "500" else "backend unavailable" in line
            verbose = zkml(model_dir, "-v", command, "breast_cancer", "--rpc-url",
                           url_of(address), env=KEY)
            assert verbose.exit_code == 1 and "Traceback" in verbose.stderr
            for output in (result, verbose):
                assert not [s for s in SECRETS if s in output.stdout + output.stderr]


def test_a_node_that_trickles_is_an_error_at_the_deadline(model_dir, monkeypatch):
    """One byte a second: each read returns, so only the request's own deadline ends it (the
    trickle would go on for minutes)."""
    monkeypatch.setattr(rpc, "RPC_TIMEOUT_SECONDS", 2)
    assert zkml(model_dir, "verifier", "breast_cancer").exit_code == 0  # not part of the timing
    with fake_node("trickle") as address:
        for command in ("deploy", "onchain"):
            start = time.monotonic()
            one_line_error(zkml(model_dir, command, "breast_cancer", "--rpc-url",
                                f"http://{address}", env=KEY), "within 2 s")
            assert time.monotonic() - start < 12


def test_a_front_run_submit_is_already_recorded_not_reverted(model_dir):
    """Auto-mining off: an attacker resends the victim's pending submit at twice the gas price.
    The victim's transaction is mined after the copy and reverts (ProofAlreadyUsed); zkml says
    that its result is recorded, with exit code 3, as when the eth_call check finds it."""
    from eth_account import Account

    attacker = Account.from_key(
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")  # account 1
    with Anvil() as node:
        assert zkml(model_dir, "deploy", "breast_cancer", "--rpc-url", node.url).exit_code == 0
        chain = rpc.connect(node.url)
        w3 = chain.w3
        w3.provider.make_request("evm_setAutomine", [False])
        victim = subprocess.Popen(
            [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(model_dir), "onchain",
             "breast_cancer", "--rpc-url", node.url], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            pending = []
            while not pending and time.monotonic() < deadline:
                time.sleep(0.2)
                block = w3.eth.get_block("pending", full_transactions=True)
                pending = [tx for tx in block["transactions"]
                           if tx["from"] == chain.account.address]
            assert pending, "the victim's transaction never showed up"
            (tx,) = pending
            w3.eth.send_raw_transaction(attacker.sign_transaction({
                "to": tx["to"], "data": tx["input"], "gas": tx["gas"],
                "gasPrice": 2 * tx["gasPrice"], "chainId": 31337,
                "nonce": w3.eth.get_transaction_count(attacker.address)}).raw_transaction)
            w3.provider.make_request("evm_mine", [])
            stdout, stderr = victim.communicate(timeout=120)
        finally:
            victim.kill()
            victim.wait()
            w3.provider.make_request("evm_setAutomine", [True])
    assert victim.returncode == 3, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr
    assert lines[0].startswith("error: already recorded: result #1 for subject 0x"), lines
    assert "reverted" not in stderr
