"""The app contract (InferenceRegistry): deploy it beside the verifier, submit proofs, read results.

A result is recorded under the commitment to its subject's private input, so what an app reads
for a subject cannot be set or changed by anyone else (see the contract's NatSpec and the
README's threat model). Submitting is checked with one eth_call first, then sent as one
transaction: the user pays for one verification.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml.circuit import CircuitSettings
from zkml.errors import ChainError, VerificationFailed, ZkmlError
from zkml.evm import rpc
from zkml.evm.verifier import Calldata, EvmBuild, build_verifier, calldata
from zkml.export import ExportedModel
from zkml.felts import felt_to_int
from zkml.keys import current_keys
from zkml.layout import ModelLayout, read_json, write_json
from zkml.results import StageResult, rounded
from zkml.subjects import proof_commitments


class AlreadyRecorded(ZkmlError):
    """The registry has accepted this very proof before: its results stand, nothing to do."""

    exit_code = 3


class WrongRegistry(ZkmlError):
    """The proof is for another model or circuit than the registry's."""


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    verifier: str
    registry: str
    verifier_gas: int
    registry_gas: int
    verifier_bytes: int
    vk_sha256: str


class Deployments:
    """deployments.json: one deployment per chain id, with the RPC it was made through
    (credentials removed) and when."""

    def __init__(self, layout: ModelLayout):
        self.layout = layout
        self.records: dict[str, Any] = {}
        if layout.deployments.exists():
            try:
                records = read_json(layout.deployments, "deployments")
            except ZkmlError:
                records = None
            if isinstance(records, dict):  # anything else is rewritten on the next deploy
                self.records = records

    def get(self, chain_id: int) -> Deployment | None:
        record = self.records.get(str(chain_id))
        if not isinstance(record, dict):
            return None
        try:
            return Deployment(**{k: record[k] for k in Deployment.__dataclass_fields__})
        except (KeyError, TypeError):
            return None

    def add(self, deployment: Deployment, rpc_url: str) -> None:
        self.records[str(deployment.chain_id)] = {**deployment.__dict__, "rpc_url": rpc_url,
                                                  "time": int(time.time())}
        write_json(self.layout.deployments, self.records)


@dataclass(frozen=True)
class RegistryShape:
    """The constructor arguments that tell the registry how to read this circuit's instances."""

    subjects: int
    commitments_in_proof: bool  # KZG: the proof's first points; Poseidon: its first instances
    weights_commitment: list[int]
    output_lengths: list[int]  # per model output: elements per subject
    output_scales: list[int]


def registry_shape(layout: ModelLayout) -> RegistryShape:
    keys = current_keys(layout, proving=False)
    if keys.input_commitments == 0:
        raise WrongRegistry(
            f"{layout.name}'s circuit publishes no commitment to its input, so a registry could "
            "not tell whose result it records",
            hint=f"compile with `zkml compile {layout.name} --input-visibility committed --force`",
        )
    exported = ExportedModel.load(layout)
    settings = CircuitSettings.load(layout)
    lengths = [math.prod(shape) for shape in exported.output_shapes]  # one subject's outputs
    return RegistryShape(keys.input_commitments, settings.commitment == "kzg",
                         [felt_to_int(f) for f in keys.weights_commitment], lengths,
                         list(settings.output_scales))


def deploy(chain: rpc.Chain, layout: ModelLayout) -> Deployment:
    """The verifier and the registry on chain (built first if they are not current)."""
    build_verifier(layout)  # cached: a no-op when the verifier is built and current
    build = EvmBuild.load(layout)
    keys = current_keys(layout, proving=False)
    shape = registry_shape(layout)
    v_address, v_gas = rpc.deploy(chain, build.verifier)
    r_address, r_gas = rpc.deploy(
        chain, build.registry, v_address, bytes.fromhex(keys.vk_sha256), shape.subjects,
        shape.commitments_in_proof, shape.weights_commitment, shape.output_lengths,
        shape.output_scales,
    )
    deployment = Deployment(chain.chain_id, v_address, r_address, v_gas, r_gas,
                            build.verifier["runtime_size"], keys.vk_sha256)
    Deployments(layout).add(deployment, chain.url)
    return deployment


def recorded_deployment(chain: rpc.Chain, layout: ModelLayout) -> Deployment | None:
    """The deployment recorded for this chain, if its code is still there and its key current."""
    deployment = Deployments(layout).get(chain.chain_id)
    if deployment is None or deployment.vk_sha256 != current_keys(layout, False).vk_sha256:
        return None
    # gone (a restarted local chain), not an address, or another model's registry (a
    # restarted chain reuses addresses): then deploy anew
    try:
        if not chain.w3.eth.get_code(deployment.registry):
            return None
        if _registry(chain, layout, deployment).functions.vkHash().call().hex() != \
                deployment.vk_sha256:
            return None
    except ChainError:  # the node failed: say so, do not deploy anew
        raise
    except Exception:
        return None
    return deployment


def _registry(chain: rpc.Chain, layout: ModelLayout, deployment: Deployment) -> Any:
    return chain.w3.eth.contract(address=deployment.registry,
                                 abi=EvmBuild.load(layout).registry["abi"])


@dataclass(frozen=True)
class SubjectResult:
    """What the registry holds for one subject after the submission."""

    commitment: str  # the subject's input commitment as a 0x number: the registry's key
    result_id: int
    outputs_fixed_point: list[int]  # all model outputs concatenated, x * 2^scale
    outputs: list[float]
    recorded_now: bool  # False: recorded before (by any proof for this subject); unchanged


@dataclass(kw_only=True)
class OnchainResult(StageResult):
    chain_id: int
    rpc_url: str  # credentials removed
    deployment: Deployment
    deployed_now: bool
    gas: int  # of the one transaction the user paid for
    recorded: int  # subjects newly recorded by it
    output_scales: list[int]
    output_lengths: list[int]  # per model output: its elements in each subject's outputs
    subjects: list[SubjectResult]

    def summary(self) -> str:
        results = ", ".join(f"#{s.result_id} {rounded(s.outputs)}" for s in self.subjects)
        return (f"recorded on chain {self.chain_id} via {self.rpc_url}: one transaction, "
                f"{self.gas:,} gas; results {results}")


def _custom_error(chain: rpc.Chain, layout: ModelLayout, deployment: Deployment,
                  exc: Exception) -> ZkmlError:
    """The registry's custom error from a reverted eth_call, as the error zkml raises."""
    if isinstance(exc, ZkmlError):  # the node failed (rpc's one-line error), not the registry
        return exc
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, bytes):
        data = "0x" + data.hex()
    text = data if isinstance(data, str) else ""
    contract = _registry(chain, layout, deployment)
    for name in ("AlreadyRecorded", "WrongModel", "WrongInstanceCount", "ProofRejected",
                 "OutputOutOfRange"):
        selector = _selector(contract, name)
        if selector and text.startswith(selector):
            return _explain(name, layout, bytes.fromhex(text[len(selector):]))
    return ChainError(f"the registry reverted: {chain.scrub(str(exc))[:300]}")


def _selector(contract: Any, name: str) -> str | None:
    from eth_utils import function_signature_to_4byte_selector

    for item in contract.abi:
        if item.get("type") == "error" and item.get("name") == name:
            types = ",".join(i["type"] for i in item.get("inputs", []))
            return "0x" + function_signature_to_4byte_selector(f"{name}({types})").hex()
    return None


def _explain(name: str, layout: ModelLayout, args: bytes = b"") -> ZkmlError:
    if name == "AlreadyRecorded":
        from eth_abi import decode

        commitment, result_id = decode(["uint256", "uint256"], args)
        return AlreadyRecorded(
            f"already recorded: result #{result_id} for subject 0x{commitment:064x}"
            + (" (and every other subject of this proof)"
               if CircuitSettings.load(layout).subjects > 1 else ""),
            hint="nothing to do; the registry's resultOf(commitment) reads it")
    if name == "ProofRejected":
        return VerificationFailed("the registry's verifier rejected the proof (ProofRejected)",
                                  hint="it was tampered with, or made for other keys")
    if name == "WrongModel":
        return WrongRegistry("the proof's weights commitment is not this registry's model "
                             "(WrongModel)", hint="submit it to the registry of its model")
    if name == "WrongInstanceCount":
        return WrongRegistry("the proof has another number of public instances than this "
                             "registry's circuit (WrongInstanceCount)",
                             hint=f"it was made for another circuit than {layout.name}'s")
    return VerificationFailed(f"an output does not fit the registry's int64 lanes ({name})")


def _mined_revert(chain: rpc.Chain, layout: ModelLayout, deployment: Deployment,
                  function: Any, reverted: rpc.Reverted) -> ZkmlError:
    """Why a mined submit reverted, decoded as the eth_call check decodes it: the call is
    replayed on the state of the block that mined it."""
    try:
        function.call({"from": chain.account.address}, block_identifier=reverted.block)
    except Exception as exc:  # noqa: BLE001 - a revert is what is expected here
        return _custom_error(chain, layout, deployment, exc)
    return reverted


def subject_keys(call: Calldata, shape: RegistryShape) -> list[str]:
    """The subjects' commitments as the registry keys them, in the proof's order."""
    if shape.commitments_in_proof:
        return proof_commitments(call.proof, shape.subjects)
    return [f"0x{c:064x}" for c in call.instances[: shape.subjects]]


def submit(chain: rpc.Chain, deployment: Deployment, layout: ModelLayout,
           proof_path: Path, deployed_now: bool = False) -> OnchainResult:
    """Verify natively, simulate registry.submit with eth_call (decoding why it would revert),
    then send it. Native verification first: the registry checks replays before it verifies,
    so only a proof known valid may be called "already recorded"."""
    from zkml.proof import verify

    start = time.perf_counter()
    verify(layout, proof_path)
    call: Calldata = calldata(proof_path)
    contract = _registry(chain, layout, deployment)
    function = contract.functions.submit(call.proof, call.instances)
    try:
        function.call({"from": chain.account.address})
    except Exception as exc:  # web3 raises ContractCustomError and friends
        raise _custom_error(chain, layout, deployment, exc) from None
    data = contract.encode_abi("submit", [call.proof, call.instances])  # asks the node nothing
    try:
        receipt = rpc.send(chain, {"to": deployment.registry, "data": data})
    except rpc.Reverted as reverted:  # e.g. a copy of this proof, sent at a higher price, won
        raise _mined_revert(chain, layout, deployment, function, reverted) from None
    logs = contract.events.InferenceVerified().process_receipt(receipt)
    new_ids = {int(log["args"]["commitment"]): int(log["args"]["id"]) for log in logs}
    shape = registry_shape(layout)
    subjects = []
    for key in subject_keys(call, shape):
        commitment = int(key, 16)
        fixed = [int(v) for v in contract.functions.resultOf(commitment).call()]
        scales = [s for s, n in zip(shape.output_scales, shape.output_lengths, strict=True)
                  for _ in range(n)]
        subjects.append(SubjectResult(
            commitment=key,
            result_id=int(contract.functions.resultIdOf(commitment).call()),
            outputs_fixed_point=fixed,
            outputs=[v / 2**s for v, s in zip(fixed, scales, strict=True)],
            recorded_now=commitment in new_ids,
        ))
    return OnchainResult(
        stage="onchain", seconds=time.perf_counter() - start, chain_id=chain.chain_id,
        rpc_url=chain.url, deployment=deployment, deployed_now=deployed_now,
        gas=int(receipt["gasUsed"]), recorded=len(new_ids), output_scales=shape.output_scales,
        output_lengths=shape.output_lengths, subjects=subjects,
    )
