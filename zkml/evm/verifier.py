"""The model's Solidity verifier and registry: generate, compile, deploy, call.

Calldata comes from the proof's bound fields only (`proof` bytes and `instances`). ezkl's own
`encode_evm_calldata` appends a 32-byte word the verifier never reads, so tampering with the
end of that calldata proves nothing; zkml encodes `verifyProof(bytes,uint256[])` itself.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml import _ezkl
from zkml.circuit import CircuitSettings
from zkml.errors import ChainError, VerificationFailed
from zkml.evm import chain as chain_mod
from zkml.evm import tools
from zkml.evm.solc import compile_sources
from zkml.export import ExportedModel
from zkml.layout import ModelLayout, atomic_path, read_json, write_json
from zkml.proof import KeyRecord, felt_to_int, read_proof

REGISTRY_SOURCE = tools.REPO / "contracts" / "InferenceRegistry.sol"
EIP170_LIMIT = 24_576


def write_verifier_sol(vk: Path, settings: Path, srs: Path, sol: Path) -> None:
    """ezkl writes the .sol, then tries to download solc to compile it: offline that fails,
    after the file is complete, so a written file is kept and the download error dropped."""
    with tempfile.TemporaryDirectory() as scratch:  # ezkl's ABI file: the compiled build has it
        try:
            _ezkl.call("create_evm_verifier", str(vk), str(settings), str(sol),
                       str(Path(scratch) / "Verifier.abi"), srs_path=str(srs))
        except _ezkl.EzklFailure as exc:
            written = sol.exists() and "contract Halo2Verifier" in sol.read_text()
            if not (written and ("svm" in str(exc) or "solc" in str(exc))):
                raise ChainError(f"generating the Solidity verifier failed: {exc}") from exc


def generate_verifier(layout: ModelLayout) -> None:
    srs = KeyRecord.load(layout).checked_srs()
    with atomic_path(layout.verifier_sol) as sol:
        write_verifier_sol(layout.vk, layout.settings, srs, sol)


def build(layout: ModelLayout) -> dict[str, Any]:
    """Compile the verifier and the registry (optimizer on, runs=1); store ABIs and bytecode."""
    contracts = compile_sources({"Verifier.sol": layout.verifier_sol,
                                 "InferenceRegistry.sol": REGISTRY_SOURCE})
    build_info = {
        "verifier": contracts["Halo2Verifier"],
        "registry": contracts["InferenceRegistry"],
    }
    write_json(layout.evm_build, build_info)
    return build_info


@dataclass
class Calldata:
    proof: bytes
    instances: list[int]


def calldata(proof_path: Path) -> Calldata:
    data = read_proof(proof_path)
    instances = [felt_to_int(f) for row in data["instances"] for f in row]
    return Calldata(bytes(data["proof"]), instances)


def encode_verify_call(call: Calldata) -> bytes:
    """ABI-encoded verifyProof(bytes,uint256[]), selector included."""
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    selector = function_signature_to_4byte_selector("verifyProof(bytes,uint256[])")
    return selector + encode(["bytes", "uint256[]"], [call.proof, call.instances])


@dataclass
class Deployment:
    chain_id: int
    verifier: str
    registry: str
    verifier_gas: int
    registry_gas: int
    verifier_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def deploy(chain: chain_mod.Chain, layout: ModelLayout) -> Deployment:
    build_info = read_json(layout.evm_build, "EVM build")
    keys = KeyRecord.load(layout)
    settings = CircuitSettings.load(layout)
    outputs = sum(len(r[0]) for r in ExportedModel.load(layout).holdout_reference)
    verifier = build_info["verifier"]
    v_address, v_gas = chain_mod.deploy(chain, verifier)
    r_address, r_gas = chain_mod.deploy(
        chain, build_info["registry"],
        v_address,
        bytes.fromhex(keys.vk_sha256),
        keys.input_hash_count,
        [felt_to_int(f) for f in keys.weights_commitment],
        outputs,
        settings.output_scales[0],
    )
    deployment = Deployment(chain.chain_id, v_address, r_address, v_gas, r_gas,
                            verifier["runtime_size"])
    records = read_json(layout.deployments, "deployments") if layout.deployments.exists() else {}
    records[str(chain.chain_id)] = {**deployment.as_dict(), "vk_sha256": keys.vk_sha256,
                                    "rpc_url": chain.url, "time": int(time.time())}
    write_json(layout.deployments, records)
    return deployment


def recorded_deployment(chain: chain_mod.Chain, layout: ModelLayout) -> Deployment | None:
    """The deployment recorded for this chain, if its code is still there and its key current."""
    if not layout.deployments.exists():
        return None
    record = read_json(layout.deployments, "deployments").get(str(chain.chain_id))
    if not record or record["vk_sha256"] != KeyRecord.load(layout).vk_sha256:
        return None
    if not chain.w3.eth.get_code(record["registry"]):
        return None  # e.g. a local chain that was restarted
    # a restarted local chain reuses addresses: make sure the registry there is this model's
    abi = read_json(layout.evm_build, "EVM build")["registry"]["abi"]
    registry = chain.w3.eth.contract(address=record["registry"], abi=abi)
    try:
        if registry.functions.vkHash().call().hex() != record["vk_sha256"]:
            return None
    except Exception:
        return None
    return Deployment(**{k: record[k] for k in Deployment.__dataclass_fields__})


@dataclass
class OnchainResult:
    accepted_by_call: bool
    verify_gas: int  # gas of a verifyProof transaction on the verifier alone
    submit_gas: int  # gas of registry.submit: verification plus bookkeeping
    prediction: int
    outputs: list[int]


def verify_call(chain: chain_mod.Chain, verifier: str, call: Calldata) -> bool:
    """eth_call verifyProof: True only if the verifier returns true; a revert means rejected."""
    try:
        result = chain.w3.eth.call({"to": verifier, "data": encode_verify_call(call)})
    except Exception as exc:
        if "revert" in str(exc).lower() or "execution" in str(exc).lower():
            return False
        raise ChainError(f"eth_call to the verifier failed: {exc}") from None
    return len(result) == 32 and int.from_bytes(result, "big") == 1


def submit(chain: chain_mod.Chain, deployment: Deployment, layout: ModelLayout,
           proof_path: Path) -> OnchainResult:
    """Check the proof by eth_call, then submit it to the registry in a transaction."""
    call = calldata(proof_path)
    if not verify_call(chain, deployment.verifier, call):
        raise VerificationFailed("proof rejected by the verifier (eth_call)")
    verify_receipt = chain_mod.send(chain, {"to": deployment.verifier,
                                            "data": encode_verify_call(call)})
    abi = read_json(layout.evm_build, "EVM build")["registry"]["abi"]
    registry = chain.w3.eth.contract(address=deployment.registry, abi=abi)
    data = registry.functions.submit(call.proof, call.instances).build_transaction(
        {"from": chain.account.address, "gas": 10_000_000})["data"]
    try:
        receipt = chain_mod.send(chain, {"to": deployment.registry, "data": data,
                                         "gas": 10_000_000})
    except ChainError:
        raise VerificationFailed("proof rejected by the registry (replayed, wrong model or "
                                 "rejected by the verifier)") from None
    return OnchainResult(
        accepted_by_call=True,
        verify_gas=verify_receipt["gasUsed"],
        submit_gas=receipt["gasUsed"],
        prediction=registry.functions.latestPrediction().call(),
        outputs=registry.functions.latestOutputs().call(),
    )


def size_warning(runtime_size: int) -> str | None:
    if runtime_size > EIP170_LIMIT:
        return (f"the verifier is {runtime_size} bytes, over the 24,576-byte EIP-170 limit: it "
                "deploys on zkml's local Anvil (code size limit raised) but not on mainnet")
    return None
