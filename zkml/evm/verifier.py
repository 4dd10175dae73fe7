"""The model's Solidity verifiers: generate, compile, encode calls to them.

Two ways to verify a model on chain, both from ezkl 23:
- its own verifier (`Halo2Verifier`), whose bytecode embeds the verifying key;
- ezkl's reusable verifier (`Halo2VerifierReusable`), one contract for every circuit (ezkl
  renders the same source for all of them), called with the model's verifying-key artifact
  (VKA: bytes32 words, `create_evm_vka`), which the registry keeps as a data contract's code.
`build_verifier` makes both the own verifier and the VKA; the reusable verifier and the
registry do not depend on the model and are compiled once per machine (a cache keyed by
their source and compiler).

Calldata comes from the proof's bound fields only (`proof` bytes and `instances`). ezkl's own
`encode_evm_calldata` appends a 32-byte word the verifier never reads, so tampering with the
end of that calldata proves nothing; zkml encodes `verifyProof(bytes,uint256[])` itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from zkml import _ezkl
from zkml.errors import ArtifactError, ChainError
from zkml.evm import rpc
from zkml.evm.solc import OPTIMIZER_RUNS, compile_sources
from zkml.felts import felt_to_int
from zkml.keys import current_keys
from zkml.layout import (
    ModelLayout,
    ScratchLayout,
    atomic_path,
    default_cache_dir,
    private_scratch,
    read_json,
    write_json,
)
from zkml.proof import read_proof
from zkml.results import StageResult
from zkml.stages import cached_stage

EIP170_LIMIT = 24_576


def registry_source() -> Path:
    """The app contract's Solidity source, shipped inside the package."""
    return Path(str(resources.files("zkml.contracts") / "InferenceRegistry.sol"))


SHARED_VERIFIER = "Halo2VerifierReusable"


def write_verifier_sol(vk: Path, settings: Path, srs: Path, sol: Path,
                       reusable: bool = False) -> None:
    """ezkl writes the .sol, then tries to download solc to compile it: offline that fails,
    after the file is complete, so a written file is kept and the download error dropped."""
    name = SHARED_VERIFIER if reusable else "Halo2Verifier"
    with private_scratch("verifier") as scratch:  # ezkl's ABI file: the compiled build has it
        try:
            _ezkl.call("create_evm_verifier", str(vk), str(settings), str(sol),
                       str(ScratchLayout(scratch).abi), srs_path=str(srs), reusable=reusable)
        except _ezkl.EzklFailure as exc:
            written = sol.exists() and f"contract {name}" in sol.read_text()
            if exc.stuck or not (written and ("svm" in str(exc) or "solc" in str(exc))):
                raise ChainError(f"generating the Solidity verifier failed: {exc}") from exc


def write_vka(vk: Path, settings: Path, srs: Path, target: Path) -> None:
    """The model's verifying-key artifact for the reusable verifier, as JSON {"words": [0x…]}
    (ezkl writes it bincode-encoded: a little-endian u64 count, then the 32-byte words)."""
    with private_scratch("vka") as scratch:
        raw = scratch / "vka.bin"
        try:
            _ezkl.call("create_evm_vka", str(vk), str(settings), str(raw), srs_path=str(srs))
        except _ezkl.EzklFailure as exc:
            raise ChainError(f"generating the verifying-key artifact failed: {exc}") from exc
        data = raw.read_bytes()
    count = int.from_bytes(data[:8], "little")
    if len(data) != 8 + 32 * count:
        raise ChainError(f"ezkl wrote a verifying-key artifact of {len(data)} bytes for "
                         f"{count} words")
    write_json(target, {"words": ["0x" + data[8 + 32 * i:40 + 32 * i].hex()
                                  for i in range(count)]})


def vka_words(layout: ModelLayout) -> list[bytes]:
    """The model's VKA (see write_vka), as addVersion takes it."""
    layout.require(layout.vka, stage="verifier")
    words = read_json(layout.vka, "verifying-key artifact").get("words")
    try:
        return [bytes.fromhex(w[2:]) for w in words]
    except (TypeError, ValueError, AttributeError):
        raise ArtifactError(f"{layout.vka} is malformed",
                            hint=f"run `zkml verifier {layout.name} --force`") from None


def _cached_build(source: Path, contract: str) -> dict[str, Any]:
    """A contract compiled once per machine: keyed by its source and the compiler."""
    from zkml.evm import tools

    solc = tools.find("solc")
    stat = solc.stat()
    key = hashlib.sha256(source.read_bytes() + f"|{solc}|{stat.st_size}|{stat.st_mtime_ns}"
                         f"|{OPTIMIZER_RUNS}".encode()).hexdigest()[:24]
    cached = default_cache_dir() / "evm" / f"{contract}-{key}.json"
    if cached.exists():
        try:
            build = read_json(cached, "compiled contract")
            if isinstance(build, dict) and \
                    {"abi", "bytecode", "runtime_size", "runtime_keccak"} <= set(build):
                return build
        except ArtifactError:
            pass  # rebuilt below
    build = compile_sources({source.name: source})[contract]
    write_json(cached, build)
    return build


def registry_build() -> dict[str, Any]:
    """The registry contract compiled ({abi, bytecode, runtime_size}): no model needed."""
    return _cached_build(registry_source(), "InferenceRegistry")


def _shared_verifier_sol() -> Path:
    return default_cache_dir() / "evm" / f"{SHARED_VERIFIER}-ezkl-{_ezkl.ezkl_version()}.sol"


def shared_verifier_source(layout: ModelLayout) -> Path:
    """ezkl's reusable verifier: the same source for every circuit (checked: it is rendered
    from any model's key and compared with the cached one by content), kept per ezkl version."""
    sol = _shared_verifier_sol()
    if not sol.exists():
        keys = current_keys(layout, proving=False)
        with atomic_path(sol) as tmp:
            write_verifier_sol(layout.vk, layout.settings, keys.checked_srs(), tmp,
                               reusable=True)
    return sol


def shared_verifier_build(layout: ModelLayout) -> dict[str, Any]:
    """ezkl's reusable verifier compiled ({abi, bytecode, runtime_size})."""
    return _cached_build(shared_verifier_source(layout), SHARED_VERIFIER)


def local_shared_verifier_build() -> dict[str, Any] | None:
    """ezkl's reusable verifier compiled here, if this machine has rendered it (no ezkl runs
    for it; the compiler at most once)."""
    sol = _shared_verifier_sol()
    return _cached_build(sol, SHARED_VERIFIER) if sol.exists() else None


def code_hash(runtime_hex: str) -> str:
    from Crypto.Hash import keccak

    return "0x" + keccak.new(digest_bits=256, data=bytes.fromhex(runtime_hex[2:])).hexdigest()


@dataclass(frozen=True)
class EvmBuild:
    """evm.json: ABI, bytecode and runtime size of the model's own verifier (a segmented
    model's: its SegmentChain), of the registry it was built beside and, segmented, of each
    segment's verifier."""

    verifier: dict[str, Any]
    registry: dict[str, Any]
    segments: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, layout: ModelLayout) -> EvmBuild:
        layout.require(layout.evm_build, stage="verifier")
        raw = read_json(layout.evm_build, "EVM build")
        try:
            return cls(raw["verifier"], raw["registry"],
                       [dict(b) for b in raw.get("segments", [])])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ArtifactError(f"{layout.evm_build} is incomplete",
                                hint=f"run `zkml verifier {layout.name} --force`") from None


@dataclass(kw_only=True)
class VerifierResult(StageResult):
    path: Path
    runtime_bytes: int

    def summary(self) -> str:
        return f"{self.path}: {self.runtime_bytes:,} bytes of runtime code"


def build_verifier(layout: ModelLayout, force: bool = False) -> VerifierResult:
    """Generate and compile the model's own Solidity verifier (optimizer on, runs=1), and its
    VKA for the shared verifier; the registry is compiled beside it (once per machine)."""
    keys = current_keys(layout, proving=False)  # the settings and key the setup recorded

    def work() -> None:
        srs = keys.checked_srs()
        with atomic_path(layout.verifier_sol) as sol:
            write_verifier_sol(layout.vk, layout.settings, srs, sol)
        write_vka(layout.vk, layout.settings, srs, layout.vka)
        contracts = compile_sources({layout.verifier_sol.name: layout.verifier_sol})
        write_json(layout.evm_build, {"verifier": contracts["Halo2Verifier"],
                                      "registry": registry_build()})

    run = cached_stage(
        layout, "verifier", [layout.vk, layout.settings, layout.key_record, registry_source()],
        {}, [layout.verifier_sol, layout.evm_build, layout.vka], work, force,
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
