"""Reading a chain, on real Anvils: what a registry's owner wrote (labels with terminal escapes)
is shown inert; `result`, `serve` and `commitment` need no signing key on a node that is not
zkml's local Anvil; `zkml serve` relays the page's reads and serves no credential of the node's
URL; and a throwaway or restarted chain leaves no default registry behind."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from conftest import first_rows, one_line_error, zkml

from zkml.evm import registry, rpc
from zkml.evm.anvil import Anvil

pytestmark = pytest.mark.integration

FUNDED = "0x" + "5a" * 32  # no dev key: funded with anvil_setBalance
HOSTILE = ["\x1b[2J\x1b[1;32mAPPROVED by your bank\x1b[0m\x07",
           "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\rbenign"]
CONTROL = [chr(c) for c in range(32) if chr(c) != "\n"] + ["\x7f", "\x9b"]
SECRETS = ("hunter2", "apikeyvalue", "dXNlcjpodW50ZXIy")  # the last: user:hunter2 in base64


def without_key():
    return {k: v for k, v in os.environ.items() if k != rpc.KEY_ENV}


@pytest.fixture(scope="module")
def outside(breast_cancer, tmp_path_factory):
    """A registry on an Anvil at 127.0.0.2: not zkml's local Anvil, so its dev key is never used
    there and writing needs ZKML_PRIVATE_KEY. Version 1 is breast_cancer as zkml adds it;
    version 2, added by the owner with labels holding terminal escapes, recorded subject A."""
    import shutil

    from zkml.layout import ModelLayout

    circuits = tmp_path_factory.mktemp("reads") / "circuits"
    shutil.copytree(breast_cancer.root, circuits / "breast_cancer")
    layout = ModelLayout(circuits / "breast_cancer")
    with Anvil(host="127.0.0.2") as node, pytest.MonkeyPatch.context() as patch:
        patch.setenv(rpc.KEY_ENV, FUNDED)
        chain = rpc.connect(node.url)
        assert not chain.local
        chain.w3.provider.make_request("anvil_setBalance", [chain.account.address, hex(10**21)])
        first = registry.deploy(chain, layout)
        spec = list(registry.version_spec(layout, first.verifier))
        spec[spec.index(["malignant", "benign"])] = HOSTILE
        registry._transact(chain, registry.contract(chain, first.registry), "addVersion",
                           tuple(spec), [])
        outcome = registry.submit(chain, replace(first, version=2), layout, layout.proof)
        (subject,) = outcome.subjects
        patch.delenv(rpc.KEY_ENV)
        yield {"url": node.url, "registry": first.registry, "circuits": circuits,
               "layout": layout, "commitment": subject.commitment, "outputs": subject.outputs}


def assert_inert(text):
    held = [c for c in CONTROL if c in text]
    assert not held, f"{held} reached the terminal: {text!r}"


def test_labels_with_escapes_are_shown_inert_and_reading_needs_no_key(outside, monkeypatch):
    """`zkml result` with no key set, the registry found in deployments.json: every escape of
    the owner's labels is shown as text; --json holds them raw, as valid ASCII JSON."""
    monkeypatch.delenv(rpc.KEY_ENV, raising=False)
    shown = zkml(outside["circuits"], "result", outside["commitment"], "--rpc-url",
                 outside["url"])
    assert shown.exit_code == 0, shown.output
    assert_inert(shown.stdout + shown.stderr)
    assert f"registry   {outside['registry']}" in shown.stdout
    assert "version    2, active" in shown.stdout
    assert "\\x1b[2J\\x1b[1;32mAPPROVED by your bank\\x1b[0m\\x07 " in shown.stdout
    assert "\\x1b]8;;https://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\\\rbenign" in shown.stdout
    as_json = zkml(outside["circuits"], "--json", "result", outside["commitment"],
                   "--rpc-url", outside["url"])
    assert as_json.exit_code == 0 and as_json.stdout.isascii()
    recorded = json.loads(as_json.stdout)["result"]
    assert recorded["labels"] == HOSTILE and recorded["version"] == 2
    assert recorded["outputs"] == outside["outputs"]
    assert recorded["prediction"] in HOSTILE


def test_commitment_needs_no_key(outside, tmp_path, monkeypatch):
    monkeypatch.delenv(rpc.KEY_ENV, raising=False)
    monkeypatch.setenv("ZKML_RPC_URL", outside["url"])  # not a node zkml signs for
    given = tmp_path / "input.json"
    given.write_text(json.dumps(first_rows(outside["layout"])[0].tolist()))
    checked = zkml(outside["circuits"], "commitment", "breast_cancer", "--input", given,
                   "--secret", outside["layout"].root / "proof.secret.json")
    assert checked.exit_code == 0, checked.output
    assert f"matches: {outside['commitment']}" in checked.stdout


def _http(url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_serve_relays_the_pages_reads_and_serves_no_credential(outside):
    """`zkml serve --rpc-url` with a password and an API key in the URL, no signing key set: the
    page's files, config.json and every relayed answer (results, refusals, the node's errors)
    are read with nothing of the credentials in a body or header, and the reads the page makes
    find subject A's result."""
    from eth_abi import decode
    from web3 import Web3

    from zkml.evm.verifier import registry_build

    address = outside["url"].removeprefix("http://")
    url = f"http://user:hunter2@{address}/?apikey=apikeyvalue"  # Anvil serves / only (a key
    # in the path: tests/unit/test_registry_records.py, on a fake node)
    server = subprocess.Popen(
        [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(outside["circuits"]),
         "serve", "--rpc-url", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=without_key())
    seen = []

    def check(status, headers, body):
        text = json.dumps(headers) + body.decode(errors="replace")
        assert not [s for s in SECRETS if s in text], text
        seen.append(status)
        return body

    try:
        line = server.stdout.readline()
        assert line.startswith("the subject's page: http://127.0.0.1:"), \
            line + server.stderr.read()
        page = line.split(": ", 1)[1].strip()
        for path in ("", "index.html", "app.js", "registry-abi.js", "style.css",
                     "vendor/ethers.umd.min.js", "nothing"):
            check(*_http(page + path))
        config = json.loads(check(*_http(page + "config.json")))
        assert config == {"rpcUrl": page + "rpc", "registry": outside["registry"],
                          "model": "breast_cancer", "models": {"1": "breast_cancer"}}
        ids = iter(range(1, 1000))

        def ask(method, params):
            body = json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": method,
                               "params": params}).encode()
            return json.loads(check(*_http(config["rpcUrl"], body, {
                "Content-Type": "application/json", "Origin": page.rstrip("/")})))

        abi = registry_build()["abi"]
        contract = Web3().eth.contract(address=outside["registry"], abi=abi)

        def view(name, *args):
            answer = ask("eth_call", [{"to": outside["registry"],
                                       "data": contract.encode_abi(name, args=list(args))},
                                      "latest"])
            (item,) = [i for i in abi if i.get("name") == name and i["type"] == "function"]
            types = [o["type"] for o in item["outputs"]]
            return decode(types, bytes.fromhex(answer["result"][2:]))

        assert int(ask("eth_chainId", [])["result"], 16) == 31337
        assert view("versionCount") == (2,)
        latest = ask("eth_blockNumber", [])["result"]
        topic = "0x" + Web3.keccak(text="InferenceVerified(uint256,uint256,uint256,int256[])"
                                   ).hex().removeprefix("0x")
        logs = ask("eth_getLogs", [{"address": outside["registry"], "fromBlock": "0x0",
                                    "toBlock": latest, "topics": [topic]}])["result"]
        assert [log["topics"][3] for log in logs] == [outside["commitment"]]
        assert view("hasResult", 2, int(outside["commitment"], 16)) == (True,)
        refused = ask("eth_sendRawTransaction", ["0x00"])
        assert "relays only" in refused["error"]["message"]
        bad = ask("eth_getLogs", [{"fromBlock": "nonsense"}])  # the node's own error, relayed
        assert bad["error"]["message"]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert not [s for s in SECRETS if s in out + err]
    assert len(seen) >= 15


def test_throwaway_and_restarted_chains_leave_no_default(model_dir, monkeypatch):
    """A throwaway Anvil (what `scripts/demo`'s `zkml run` uses) records nothing; a registry
    recorded on one `zkml anvil` is no default on the next (the same chain id 31337): `zkml
    result` there says no registry is recorded, not that a contract is missing; an older
    zkml's deployments.json is read, its Anvil records ignored."""
    monkeypatch.delenv(rpc.KEY_ENV, raising=False)
    records = model_dir / "deployments.json"
    assert zkml(model_dir, "onchain", "breast_cancer").exit_code == 0
    assert not records.exists()
    with Anvil() as first, Anvil() as second:  # most likely in the same second: the same
        identities = [rpc.connect(n.url).identity for n in (first, second)]  # genesis block
        assert identities[0] != identities[1] and all(i.startswith("anvil 0x")
                                                       for i in identities)
        recorded = zkml(model_dir, "--json", "onchain", "breast_cancer", "--rpc-url", first.url)
        assert recorded.exit_code == 0, recorded.output
        commitment = json.loads(recorded.stdout)["stages"][-1]["subjects"][0]["commitment"]
        assert zkml(model_dir, "result", commitment, "--rpc-url", first.url).exit_code == 0
        line = one_line_error(zkml(model_dir, "result", commitment, "--rpc-url", second.url),
                              "no registry recorded for this chain (id 31337)")
        assert "--registry" in line and "no contract" not in line
        saved = json.loads(records.read_text())
        assert saved["31337"]["identity"] == identities[0]
        # an older zkml's file: a dead demo chain's registry as chain 31337's default
        records.write_text(json.dumps({"31337": {
            "default": saved["31337"]["default"], "registries": saved["31337"]["registries"]}}))
        one_line_error(zkml(model_dir, "result", commitment, "--rpc-url", first.url),
                       "no registry recorded for this chain (id 31337)")
        again = zkml(model_dir, "onchain", "breast_cancer", "--rpc-url", second.url)
        assert again.exit_code == 0, again.output  # deploys anew there, records it
        assert json.loads(records.read_text())["31337"]["identity"] == identities[1]
