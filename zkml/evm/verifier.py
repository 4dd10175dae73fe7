"""The model's Solidity verifier: generate, compile with the registry, encode calls to it.

Calldata comes from the proof's bound fields only (`proof` bytes and `instances`). ezkl's own
`encode_evm_calldata` appends a 32-byte word the verifier never reads, so tampering with the
end of that calldata proves nothing; zkml encodes `verifyProof(bytes,uint256[])` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from zkml import _ezkl
from zkml.errors import ArtifactError, ChainError
from zkml.evm import rpc
from zkml.evm.solc import compile_sources
from zkml.felts import felt_to_int
from zkml.keys import current_keys
from zkml.layout import (
    ModelLayout,
    ScratchLayout,
    atomic_path,
    private_scratch,
    read_json,
    write_json,
)
from zkml.pipeline import cached_stage
from zkml.proof import read_proof
from zkml.results import StageResult

EIP170_LIMIT = 24_576


def registry_source() -> Path:
    """The app contract's Solidity source, shipped inside the package."""
    return Path(str(resources.files("zkml.contracts") / "InferenceRegistry.sol"))


def write_verifier_sol(vk: Path, settings: Path, srs: Path, sol: Path) -> None:
    """ezkl writes the .sol, then tries to download solc to compile it: offline that fails,
    after the file is complete, so a written file is kept and the download error dropped."""
    with private_scratch("verifier") as scratch:  # ezkl's ABI file: the compiled build has it
        try:
            _ezkl.call("create_evm_verifier", str(vk), str(settings), str(sol),
                       str(ScratchLayout(scratch).abi), srs_path=str(srs))
        except _ezkl.EzklFailure as exc:
            written = sol.exists() and "contract Halo2Verifier" in sol.read_text()
            if exc.stuck or not (written and ("svm" in str(exc) or "solc" in str(exc))):
                raise ChainError(f"generating the Solidity verifier failed: {exc}") from exc


@dataclass(frozen=True)
class EvmBuild:
    """evm.json: ABI, bytecode and runtime size of the verifier and the registry."""

    verifier: dict[str, Any]
    registry: dict[str, Any]

    @classmethod
    def load(cls, layout: ModelLayout) -> EvmBuild:
        layout.require(layout.evm_build, stage="verifier")
        raw = read_json(layout.evm_build, "EVM build")
        try:
            return cls(raw["verifier"], raw["registry"])
        except (KeyError, TypeError):
            raise ArtifactError(f"{layout.evm_build} is incomplete",
                                hint=f"run `zkml verifier {layout.name} --force`") from None


@dataclass(kw_only=True)
class VerifierResult(StageResult):
    path: Path
    runtime_bytes: int

    def summary(self) -> str:
        return f"{self.path}: {self.runtime_bytes:,} bytes of runtime code"


def build_verifier(layout: ModelLayout, force: bool = False) -> VerifierResult:
    """Generate and compile the Solidity verifier with the registry (optimizer on, runs=1)."""
    keys = current_keys(layout, proving=False)  # the settings and key the setup recorded

    def work() -> None:
        with atomic_path(layout.verifier_sol) as sol:
            write_verifier_sol(layout.vk, layout.settings, keys.checked_srs(), sol)
        contracts = compile_sources({path.name: path for path in (layout.verifier_sol,
                                                                  registry_source())})
        write_json(layout.evm_build, {"verifier": contracts["Halo2Verifier"],
                                      "registry": contracts["InferenceRegistry"]})

    run = cached_stage(
        layout, "verifier", [layout.vk, layout.settings, layout.key_record, registry_source()],
        {}, [layout.verifier_sol, layout.evm_build], work, force,
    )
    size = EvmBuild.load(layout).verifier["runtime_size"]
    warning = size_warning(size)
    return VerifierResult(stage="verifier", cached=run.cached, seconds=run.seconds,
                          warnings=[warning] if warning else [], path=layout.verifier_sol,
                          runtime_bytes=size)


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


def verify_call(chain: rpc.Chain, verifier: str, call: Calldata) -> bool:
    """eth_call verifyProof: True only if the verifier returns true; a revert means rejected."""
    try:
        result = chain.w3.eth.call({"to": verifier, "data": encode_verify_call(call)})
    except Exception as exc:
        if "revert" in str(exc).lower() or "execution" in str(exc).lower():
            return False
        raise ChainError(f"eth_call to the verifier failed: {chain.scrub(str(exc))}") from None
    return len(result) == 32 and int.from_bytes(result, "big") == 1


def size_warning(runtime_size: int) -> str | None:
    if runtime_size > EIP170_LIMIT:
        return (f"the verifier is {runtime_size} bytes, over the 24,576-byte EIP-170 limit: it "
                "deploys on zkml's local Anvil (code size limit raised) but not on mainnet")
    return None
