"""The app contract (InferenceRegistry): one registry per application, many model versions.

A bank or a clinic deploys one registry and adds each model it approves as a version (its own
verifier, or the shared reusable verifier with the model's VKA); a retired version records
nothing new and keeps its results. A result is recorded under (version, the commitment to its
subject's private input), so what an app reads for a subject cannot be set or changed by anyone
else (see the contract's NatSpec and the README's threat model). Submitting is checked with one
eth_call first, then sent as one transaction: the user pays for one verification.

Every node call goes through `zkml.evm.rpc` (a connection from `rpc.connect`, transactions by
`rpc.send` and `rpc.deploy`). What zkml deployed and added is recorded per chain in the
circuits folder's deployments.json (`Deployments`).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zkml.circuit import CircuitSettings
from zkml.errors import ChainError, VerificationFailed, ZkmlError
from zkml.evm import rpc
from zkml.evm.verifier import (
    EIP170_LIMIT,
    Calldata,
    EvmBuild,
    build_verifier,
    calldata,
    code_hash,
    deploy_verifier,
    registry_build,
    shared_verifier_build,
    vka_words,
)
from zkml.export import ExportedModel
from zkml.felts import felt_to_int
from zkml.keys import current_keys
from zkml.layout import ModelLayout, read_json, write_json
from zkml.results import StageResult, rounded
from zkml.subjects import proof_commitments

VERIFIER_CHOICES = ("auto", "own", "shared")
MAX_COMMITMENT_POINTS = 255  # the registry keeps a subject's point count in one byte


class AlreadyRecorded(ZkmlError):
    """The registry holds a result for every subject of this proof: nothing to do."""

    exit_code = 3


class WrongRegistry(ZkmlError):
    """The proof is for another model or circuit than the registry's version."""


class RegistryRefused(ChainError):
    """The registry refused a call for a reason of its own (named in the message)."""


class NoResult(ChainError):
    """The registry holds no result for this commitment (in that version)."""


# ------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class Deployment:
    """A model's version in a registry on a chain: where a proof of that model is submitted.
    Gas is what this deployment spent (0 for what existed before)."""

    chain_id: int
    registry: str
    version: int
    verifier: str
    shared: bool  # ezkl's reusable verifier, called with the model's VKA
    vka: str | None  # the VKA's data contract (shared only)
    vk_sha256: str
    registry_gas: int = 0
    verifier_gas: int = 0
    version_gas: int = 0  # of addVersion (with a shared verifier: storing and registering the VKA)
    verifier_bytes: int = 0


@dataclass(frozen=True)
class VersionInfo:
    """A version as the registry records it (`versionInfo`), and the model zkml knows it as."""

    version: int
    verifier: str
    vka: str | None
    active: bool
    commitments_in_proof: bool
    subjects: int
    instance_count: int
    outputs_per_subject: int
    result_count: int
    vk_sha256: str
    model_digest: str
    proof_bytes: int
    added_block: int
    retired_block: int
    weights_commitment: list[int]
    output_lengths: list[int]
    output_scales: list[int]
    labels: list[str]
    model: str | None = None  # from deployments.json, when zkml added it

    @property
    def shared(self) -> bool:
        return self.vka is not None

    def __str__(self) -> str:
        status = "active" if self.active else f"retired at block {self.retired_block}"
        kind = "shared verifier" if self.shared else "own verifier"
        name = f" {self.model}" if self.model else ""
        return (f"version {self.version}{name}: {status}, {kind} {self.verifier}, "
                f"{self.result_count} result(s), key sha256 {self.vk_sha256[:16]}…")


@dataclass(frozen=True)
class RecordedResult:
    """What a registry holds for one subject in one version."""

    chain_id: int
    registry: str
    commitment: str  # 0x, 64 hex digits: the registry's key
    version: int
    active: bool  # whether that version is still active
    model: str | None  # as deployments.json knows the version
    result_id: int  # within its version: 1, 2, ...
    outputs_fixed_point: list[int]  # all model outputs concatenated, x * 2^scale
    outputs: list[float]
    output_lengths: list[int]
    output_scales: list[int]
    labels: list[str]  # output 0's class names, or none
    prediction: str | None  # the label (or index) of output 0's largest element, classifiers
    block: int
    transaction: str | None  # from the InferenceVerified event
    other_versions: list[int] = field(default_factory=list)  # also holding a result for it

    def __str__(self) -> str:
        status = "active" if self.active else "retired"
        name = f" ({self.model})" if self.model else ""
        outputs = ", ".join(f"{v:.4f}" for v in self.outputs)
        label = f" -> {self.prediction}" if self.prediction is not None else ""
        return (f"version {self.version}{name}, {status}: result #{self.result_id} "
                f"[{outputs}]{label}, block {self.block}")


@dataclass(kw_only=True)
class DeployResult(StageResult):
    """`zkml deploy`: a registry (new or existing), the version added, versions retired."""

    chain_id: int
    rpc_url: str
    registry: str
    deployed_registry: bool
    deployment: Deployment | None  # the version added or found for the model, if any
    added: bool  # False: the model was an active version already
    retired: list[int]
    gas: int  # everything this command's transactions used
    transactions: dict[str, str] = field(default_factory=dict)  # what: hash

    def __str__(self) -> str:
        parts = [f"registry {self.registry}" + (" (new)" if self.deployed_registry else "")]
        if self.deployment is not None:
            d = self.deployment
            kind = "shared verifier" if d.shared else "own verifier"
            parts.append(f"{'added' if self.added else 'already has'} version {d.version} "
                         f"({kind} {d.verifier})")
        parts += [f"retired version {v}" for v in self.retired]
        return f"{'; '.join(parts)} on chain {self.chain_id}, {self.gas:,} gas"


class Deployments:
    """deployments.json in the circuits folder: per chain id, the registries zkml deployed or
    used there with their versions, the shared verifier, and the chain's default registry (the
    last one deployed or used). Anything unreadable is rewritten on the next change."""

    def __init__(self, circuits_dir: Path):
        self.path = Path(circuits_dir) / "deployments.json"
        self.records: dict[str, Any] = {}
        if self.path.exists():
            try:
                records = read_json(self.path, "deployments")
            except ZkmlError:
                records = None
            if isinstance(records, dict):
                self.records = {k: v for k, v in records.items() if isinstance(v, dict)}

    @classmethod
    def of(cls, layout: ModelLayout) -> Deployments:
        return cls(layout.root.parent)

    def chain(self, chain_id: int) -> dict[str, Any]:
        record = self.records.setdefault(str(chain_id), {})
        if not isinstance(record.get("registries"), dict):
            record["registries"] = {}
        return record

    def registries(self, chain_id: int) -> dict[str, Any]:
        return self.chain(chain_id)["registries"]

    def registry(self, chain_id: int, address: str) -> dict[str, Any]:
        record = self.registries(chain_id).setdefault(address, {})
        if not isinstance(record.get("versions"), dict):
            record["versions"] = {}
        return record

    def default_registry(self, chain_id: int) -> str | None:
        address = self.chain(chain_id).get("default")
        return address if isinstance(address, str) else None

    def use(self, chain_id: int, address: str) -> None:
        self.registry(chain_id, address)
        self.chain(chain_id)["default"] = address
        self.save()

    def model_of(self, chain_id: int, address: str, version: int) -> str | None:
        record = self.registry(chain_id, address)["versions"].get(str(version))
        return record.get("model") if isinstance(record, dict) else None

    def shared_verifier(self, chain_id: int) -> dict[str, Any] | None:
        record = self.chain(chain_id).get("shared_verifier")
        return record if isinstance(record, dict) else None

    def save(self) -> None:
        write_json(self.path, self.records)


# ------------------------------------------------------------------------------ the contract


def contract(chain: rpc.Chain, address: str) -> Any:
    return chain.w3.eth.contract(address=address, abi=registry_build()["abi"])


@dataclass(frozen=True)
class RegistryShape:
    """How the registry reads this circuit's instances: part of a version's record."""

    subjects: int
    commitments_in_proof: bool  # KZG: the proof's first points; Poseidon: its first instances
    commitment_points: int  # KZG: points per subject's key (zkml.subjects); 0 for Poseidon
    commitment_stride: int  # KZG: points from one subject's first point to the next's
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
    if keys.commitment_points > MAX_COMMITMENT_POINTS:
        raise WrongRegistry(
            f"{layout.name}'s input spans {keys.commitment_points} KZG commitment columns; a "
            f"registry keys at most {MAX_COMMITMENT_POINTS}",
            hint=f"compile with `zkml compile {layout.name} --commitment poseidon --force`")
    return RegistryShape(keys.input_commitments, settings.commitment == "kzg",
                         keys.commitment_points, keys.commitment_stride,
                         [felt_to_int(f) for f in keys.weights_commitment], lengths,
                         list(settings.output_scales))


def model_digest(layout: ModelLayout) -> str:
    """sha256 of the model's ONNX file: the model a reviewer approved, as a version names it."""
    layout.require(layout.onnx, stage="export")
    return hashlib.sha256(layout.onnx.read_bytes()).hexdigest()


def labels_of(layout: ModelLayout, shape: RegistryShape) -> list[str]:
    """The class names of output 0, when the model has them and they fit it."""
    classes = ExportedModel.load(layout).classes or []
    return list(classes) if len(classes) == shape.output_lengths[0] > 1 else []


def version_spec(layout: ModelLayout, verifier: str) -> tuple[Any, ...]:
    """addVersion's VersionSpec for the model, verified by `verifier`."""
    keys = current_keys(layout, proving=False)
    shape = registry_shape(layout)
    return (verifier, bytes.fromhex(keys.vk_sha256), bytes.fromhex(model_digest(layout)),
            keys.proof_bytes, shape.subjects, shape.commitments_in_proof, shape.commitment_points,
            shape.commitment_stride, shape.weights_commitment,
            shape.output_lengths, shape.output_scales, labels_of(layout, shape))


def choose_verifier(choice: str, own_bytes: int) -> bool:
    """Whether to use the shared verifier. auto: the model's own verifier, cheaper on every
    verification (README: ~60k less per submit for breast_cancer), unless it is over the
    EIP-170 size limit and would deploy nowhere but a local node."""
    if choice not in VERIFIER_CHOICES:
        raise ChainError(f"unknown verifier choice {choice!r}",
                         hint=f"one of {', '.join(VERIFIER_CHOICES)}")
    if choice == "auto":
        return own_bytes > EIP170_LIMIT
    return choice == "shared"


# errors the registry names, as zkml raises them
def _decode_revert(chain: rpc.Chain, exc: Exception) -> ZkmlError:
    """The registry's custom error from a reverted eth_call, as the error zkml raises."""
    if isinstance(exc, ZkmlError):  # the node failed (rpc's one-line error), not the registry
        return exc
    from eth_abi import decode
    from eth_utils import function_signature_to_4byte_selector

    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, bytes):
        data = "0x" + data.hex()
    text = data if isinstance(data, str) else ""
    for item in registry_build()["abi"]:
        if item.get("type") != "error":
            continue
        types = [i["type"] for i in item.get("inputs", [])]
        selector = "0x" + function_signature_to_4byte_selector(
            f"{item['name']}({','.join(types)})").hex()
        if text.startswith(selector):
            try:
                args = list(decode(types, bytes.fromhex(text[len(selector):])))
            except Exception:  # noqa: BLE001 - a malformed revert is named without its values
                args = []
            return _explain(item["name"], args)
    return ChainError(f"the registry reverted: {chain.scrub(str(exc))[:300]}")


def _explain(name: str, args: list[Any]) -> ZkmlError:
    def arg(i: int) -> Any:
        return args[i] if len(args) > i else "?"

    if name == "AlreadyRecorded":
        return AlreadyRecorded(
            f"already recorded: result #{arg(2)} for subject 0x{arg(1):064x} in version "
            f"{arg(0)} (so is every other subject of this proof, if it has more)",
            hint="nothing to do; `zkml result COMMITMENT` reads it")
    if name == "ProofRejected":
        return VerificationFailed("the registry's verifier rejected the proof (ProofRejected)",
                                  hint="it was tampered with, or made for other keys")
    if name == "WrongModel":
        return WrongRegistry("the proof's weights commitment is not this version's model "
                             "(WrongModel)", hint="submit it to the version of its model")
    if name == "WrongInstanceCount":
        return WrongRegistry("the proof has another number of public instances than this "
                             f"version's circuit (WrongInstanceCount: {arg(0)} expected, got "
                             f"{arg(1)})", hint="it was made for another circuit")
    if name == "VersionIsRetired":
        return RegistryRefused(f"version {arg(0)} of the registry is retired: it records "
                               "nothing new (VersionIsRetired)",
                               hint="submit to an active version (`zkml deploy MODEL "
                               "--registry ADDRESS` adds one)")
    if name == "NoSuchVersion":
        return RegistryRefused(f"the registry has no version {arg(0)} (NoSuchVersion)")
    if name == "NotOwner":
        return RegistryRefused(f"only the registry's owner may change its versions; {arg(0)} "
                               "is not the owner (NotOwner)",
                               hint=f"sign with the owner's key ({rpc.KEY_ENV})")
    if name == "NotPendingOwner":
        return RegistryRefused(f"{arg(0)} was not proposed as the registry's next owner "
                               "(NotPendingOwner)")
    if name == "NoResult":
        return NoResult(f"no result for 0x{arg(1):064x} in version {arg(0)} (NoResult)")
    if name == "OutputOutOfRange":
        return VerificationFailed(f"an output does not fit the registry's int64 lanes "
                                  f"(OutputOutOfRange at instance {arg(0)})")
    return RegistryRefused(f"the registry refused: {name}{tuple(args) if args else ''}")


def _transact(chain: rpc.Chain, target: Any, name: str, *args: Any) -> Any:
    """Simulate a registry call (its revert decoded by name), then send it; the receipt. The
    calldata is encoded here (asking the node nothing), and a mined transaction that reverted
    (a copy of this proof sent at a higher price won, say) is decoded as the call would be: by
    replaying it on the state of the block that mined it."""
    function = getattr(target.functions, name)(*args)
    try:
        function.call({"from": chain.account.address})
    except Exception as exc:  # web3 raises ContractCustomError and friends
        raise _decode_revert(chain, exc) from None
    data = target.encode_abi(name, args=list(args))
    try:
        return rpc.send(chain, {"to": target.address, "data": data})
    except rpc.Reverted as reverted:
        try:
            function.call({"from": chain.account.address}, block_identifier=reverted.block)
        except Exception as exc:  # noqa: BLE001 - a revert is what is expected here
            raise _decode_revert(chain, exc) from None
        raise


def _events(target: Any, name: str, receipt: Any) -> list[Any]:
    """The registry's events of this name in a receipt (a shared verifier's own are skipped)."""
    from web3.logs import DISCARD

    return [log for log in getattr(target.events, name)().process_receipt(receipt, errors=DISCARD)
            if log["address"] == target.address]


def _view(chain: rpc.Chain, function: Any) -> Any:
    try:
        return function.call()
    except Exception as exc:
        raise _decode_revert(chain, exc) from None


def require_registry(chain: rpc.Chain, address: str) -> str:
    """The address checksummed, if an InferenceRegistry of this zkml answers there."""
    from web3 import Web3

    if not isinstance(address, str) or not Web3.is_address(address):
        raise ChainError(f"{address!r} is not an address", hint="give the registry's 0x address")
    address = Web3.to_checksum_address(address)
    if not chain.w3.eth.get_code(address):
        raise ChainError(f"no contract at {address} on chain {chain.chain_id}",
                         hint="check --registry and --rpc-url")
    try:
        contract(chain, address).functions.versionCount().call()
        contract(chain, address).functions.owner().call()
    except ChainError:
        raise
    except Exception:
        raise ChainError(f"{address} on chain {chain.chain_id} is not an InferenceRegistry "
                         "of this zkml version", hint="check --registry") from None
    return address


def deploy_registry(chain: rpc.Chain, circuits_dir: Path) -> tuple[str, int]:
    """A new, empty registry owned by the signing account; recorded as the chain's default."""
    address, gas = rpc.deploy(chain, registry_build())
    deployments = Deployments(circuits_dir)
    record = deployments.registry(chain.chain_id, address)
    record.update({"rpc_url": chain.url, "time": int(time.time()), "gas": gas,
                   "owner": chain.account.address,
                   "block": int(contract(chain, address).functions.deployedAt().call())})
    deployments.use(chain.chain_id, address)
    return address, gas


def shared_verifier(chain: rpc.Chain, layout: ModelLayout) -> tuple[str, int]:
    """ezkl's reusable verifier on this chain: the one recorded for it if its code is still
    there and the same (compared by code hash), else a new one. Returns (address, gas spent)."""
    build = shared_verifier_build(layout)
    deployments = Deployments.of(layout)
    recorded = deployments.shared_verifier(chain.chain_id)
    if recorded and recorded.get("code_hash") == build["runtime_keccak"]:
        try:
            code = chain.w3.eth.get_code(recorded.get("address"))
        except ChainError:
            raise
        except Exception:  # not an address: an edited deployments.json, deployed anew
            code = b""
        if code and code_hash("0x" + bytes(code).hex()) == build["runtime_keccak"]:
            return str(recorded["address"]), 0
    address, gas = rpc.deploy(chain, build)
    deployments.chain(chain.chain_id)["shared_verifier"] = {
        "address": address, "code_hash": build["runtime_keccak"], "gas": gas,
        "bytes": build["runtime_size"], "time": int(time.time())}
    deployments.save()
    return address, gas


def add_version(chain: rpc.Chain, registry: str, layout: ModelLayout,
                verifier: str = "auto") -> Deployment:
    """MODEL as a new version of `registry` (the signing account must own it): its own
    verifier deployed, or the shared one (deployed once per chain) with the model's VKA."""
    build_verifier(layout)  # cached: a no-op when the verifier is built and current
    own = EvmBuild.load(layout).verifier
    shared = choose_verifier(verifier, int(own["runtime_size"]))
    registry = require_registry(chain, registry)
    target = contract(chain, registry)
    owner = _view(chain, target.functions.owner())
    if owner != chain.account.address:  # before any verifier is deployed for nothing
        raise _explain("NotOwner", [chain.account.address])
    keys = current_keys(layout, proving=False)
    if shared:
        address, verifier_gas = shared_verifier(chain, layout)
        words = vka_words(layout)
        size = shared_verifier_build(layout)["runtime_size"]
    else:
        address, verifier_gas = deploy_verifier(chain, layout)
        words, size = [], int(own["runtime_size"])
    receipt = _transact(chain, target, "addVersion", version_spec(layout, address), words)
    (added,) = _events(target, "VersionAdded", receipt)
    version = int(added["args"]["version"])
    vka = added["args"]["vka"]
    deployment = Deployment(
        chain_id=chain.chain_id, registry=registry, version=version, verifier=address,
        shared=shared, vka=vka if shared else None, vk_sha256=keys.vk_sha256,
        verifier_gas=verifier_gas, version_gas=int(receipt["gasUsed"]), verifier_bytes=size)
    deployments = Deployments.of(layout)
    deployments.registry(chain.chain_id, registry)["versions"][str(version)] = {
        "model": layout.name, "vk_sha256": keys.vk_sha256, "verifier": address,
        "shared": shared, "vka": deployment.vka, "verifier_gas": verifier_gas,
        "version_gas": deployment.version_gas, "verifier_bytes": size,
        "transaction": _hex(receipt["transactionHash"]), "block": int(receipt["blockNumber"]),
        "time": int(time.time())}
    deployments.use(chain.chain_id, registry)
    return deployment


def deploy(chain: rpc.Chain, layout: ModelLayout, verifier: str = "auto") -> Deployment:
    """A new registry (owned by the signing account) with the model as version 1."""
    build_verifier(layout)  # a compile error before any transaction
    address, gas = deploy_registry(chain, layout.root.parent)
    return replace(add_version(chain, address, layout, verifier), registry_gas=gas)


def retire_version(chain: rpc.Chain, registry: str, version: int,
                   circuits_dir: Path | None = None) -> tuple[int, str]:
    """Retires a version (owner only, final); returns (gas, transaction hash)."""
    registry = require_registry(chain, registry)
    receipt = _transact(chain, contract(chain, registry), "retireVersion", int(version))
    if circuits_dir is not None:
        deployments = Deployments(circuits_dir)
        record = deployments.registry(chain.chain_id, registry)["versions"].get(str(version))
        if isinstance(record, dict):
            record["retired"] = True
            deployments.save()
    return int(receipt["gasUsed"]), _hex(receipt["transactionHash"])


def version_info(chain: rpc.Chain, registry: str, version: int,
                 deployments: Deployments | None = None) -> VersionInfo:
    raw = _view(chain, contract(chain, registry).functions.versionInfo(int(version)))
    vka = raw[1] if int(raw[1], 16) else None
    model = deployments.model_of(chain.chain_id, registry, version) if deployments else None
    return VersionInfo(
        version=int(version), verifier=raw[0], vka=vka, active=bool(raw[2]),
        commitments_in_proof=bool(raw[3]), subjects=int(raw[4]), instance_count=int(raw[5]),
        outputs_per_subject=int(raw[6]), result_count=int(raw[7]), vk_sha256=bytes(raw[8]).hex(),
        model_digest=bytes(raw[9]).hex(), proof_bytes=int(raw[10]), added_block=int(raw[11]),
        retired_block=int(raw[12]), weights_commitment=[int(v) for v in raw[13]],
        output_lengths=[int(v) for v in raw[14]], output_scales=[int(v) for v in raw[15]],
        labels=[str(v) for v in raw[16]], model=model)


def versions(chain: rpc.Chain, registry: str,
             deployments: Deployments | None = None) -> list[VersionInfo]:
    count = int(_view(chain, contract(chain, registry).functions.versionCount()))
    return [version_info(chain, registry, v, deployments) for v in range(1, count + 1)]


def find_version(chain: rpc.Chain, registry: str, layout: ModelLayout) -> VersionInfo | None:
    """The version of `registry` that holds this model's current key and layout: the newest
    active one, else the newest retired one (a proof sent there is refused: VersionIsRetired)."""
    vk = current_keys(layout, proving=False).vk_sha256
    shape = registry_shape(layout)
    matching = [info for info in reversed(versions(chain, registry, Deployments.of(layout)))
                if info.vk_sha256 == vk and info.subjects == shape.subjects
                and info.output_lengths == shape.output_lengths]
    active = [info for info in matching if info.active]
    return (active or matching)[0] if matching else None


def deployment_of(chain: rpc.Chain, registry: str, info: VersionInfo) -> Deployment:
    return Deployment(chain_id=chain.chain_id, registry=registry, version=info.version,
                      verifier=info.verifier, shared=info.shared, vka=info.vka,
                      vk_sha256=info.vk_sha256)


def recorded_deployment(chain: rpc.Chain, layout: ModelLayout) -> Deployment | None:
    """A registry recorded for this chain (the default first) whose code is still there and
    that has a version of this model's current key (an active one first)."""
    deployments = Deployments.of(layout)
    recorded = list(deployments.registries(chain.chain_id))
    default = deployments.default_registry(chain.chain_id)
    found: list[tuple[str, VersionInfo]] = []
    for address in ([default] if default in recorded else []) + \
            [a for a in reversed(recorded) if a != default]:
        # gone (a restarted local chain), or another contract now (a restarted chain reuses
        # addresses): skipped
        try:
            address = require_registry(chain, address)
            info = find_version(chain, address, layout)
        except rpc.NodeError:  # the node failed: say so, do not deploy anew
            raise
        except ChainError:
            continue
        if info is not None:
            found.append((address, info))
    found.sort(key=lambda pair: not pair[1].active)  # stable: the default first among equals
    return deployment_of(chain, *found[0]) if found else None


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


# ------------------------------------------------------------------------------ submitting


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
    transaction: str = ""
    block: int = 0

    def summary(self) -> str:
        results = ", ".join(f"#{s.result_id} {rounded(s.outputs)}" for s in self.subjects)
        return (f"recorded on chain {self.chain_id} via {self.rpc_url} (version "
                f"{self.deployment.version}): one transaction, {self.gas:,} gas; results "
                f"{results}")


def transfer_ownership(chain: rpc.Chain, registry: str, next_owner: str) -> Any:
    """Proposes the registry's next owner (who then accepts); the receipt."""
    return _transact(chain, contract(chain, registry), "transferOwnership", next_owner)


def accept_ownership(chain: rpc.Chain, registry: str) -> Any:
    """Takes over a registry whose owner proposed the signing account; the receipt."""
    return _transact(chain, contract(chain, registry), "acceptOwnership")


def subject_keys(call: Calldata, shape: RegistryShape) -> list[str]:
    """The subjects' commitments as the registry keys them, in the proof's order."""
    if shape.commitments_in_proof:
        return proof_commitments(call.proof, shape.subjects, shape.commitment_points,
                                 shape.commitment_stride)
    return [f"0x{c:064x}" for c in call.instances[: shape.subjects]]


def _scales_per_output(lengths: list[int], scales: list[int]) -> list[int]:
    return [s for s, n in zip(scales, lengths, strict=True) for _ in range(n)]


def submit(chain: rpc.Chain, deployment: Deployment, layout: ModelLayout,
           proof_path: Path, deployed_now: bool = False) -> OnchainResult:
    """Verify natively, simulate registry.submit with eth_call (decoding why it would revert),
    then send it. Native verification first: the registry checks replays before it verifies,
    so only a proof known valid may be called "already recorded"."""
    from zkml.proof import verify

    start = time.perf_counter()
    verify(layout, proof_path)
    call: Calldata = calldata(proof_path)
    target = contract(chain, deployment.registry)
    version = deployment.version
    receipt = _transact(chain, target, "submit", version, call.proof, call.instances)
    logs = _events(target, "InferenceVerified", receipt)
    new_ids = {int(log["args"]["commitment"]): int(log["args"]["id"]) for log in logs}
    shape = registry_shape(layout)
    scales = _scales_per_output(shape.output_lengths, shape.output_scales)
    subjects = []
    for key in subject_keys(call, shape):
        commitment = int(key, 16)
        fixed = [int(v) for v in target.functions.resultOf(version, commitment).call()]
        subjects.append(SubjectResult(
            commitment=key,
            result_id=int(target.functions.resultIdOf(version, commitment).call()),
            outputs_fixed_point=fixed,
            outputs=[v / 2**s for v, s in zip(fixed, scales, strict=True)],
            recorded_now=commitment in new_ids,
        ))
    return OnchainResult(
        stage="onchain", seconds=time.perf_counter() - start, chain_id=chain.chain_id,
        rpc_url=chain.url, deployment=deployment, deployed_now=deployed_now,
        gas=int(receipt["gasUsed"]), recorded=len(new_ids), output_scales=shape.output_scales,
        output_lengths=shape.output_lengths, subjects=subjects,
        transaction=_hex(receipt["transactionHash"]), block=int(receipt["blockNumber"]),
    )


# ------------------------------------------------------------------------------ reading


def parse_commitment(text: str) -> int:
    """A commitment as the registry keys it: a 0x number (as `zkml prove`, proof.secret.json
    and the registry print it) below 2^256."""
    try:
        value = int(text, 16) if str(text).lower().startswith("0x") else int(text)
    except (TypeError, ValueError):
        raise ChainError(f"{text!r} is not a commitment",
                         hint="give it as 0x… (from `zkml prove` or proof.secret.json)") from None
    if not 0 <= value < 2**256:
        raise ChainError("a commitment is a 256-bit number")
    return value


def _transaction_of(chain: rpc.Chain, registry: str, version: int, commitment: int,
                    block: int) -> str | None:
    """The transaction that recorded the result: its InferenceVerified event, looked up in the
    block the registry stored (one block: every node serves that range)."""
    topic0 = "0x" + bytes(chain.w3.keccak(
        text="InferenceVerified(uint256,uint256,uint256,int256[])")).hex()
    logs = chain.w3.eth.get_logs({
        "address": registry, "fromBlock": block, "toBlock": block,
        "topics": [topic0, f"0x{version:064x}", None, f"0x{commitment:064x}"]})
    return _hex(logs[0]["transactionHash"]) if logs else None


def read_result(chain: rpc.Chain, registry: str, commitment: int | str,
                version: int | None = None,
                deployments: Deployments | None = None) -> RecordedResult:
    """What `registry` holds for a commitment: in `version`, or else in the newest active
    version holding one (as the contract's currentResultOf), or else the newest retired one."""
    registry = require_registry(chain, registry)
    key = parse_commitment(commitment) if isinstance(commitment, str) else int(commitment)
    target = contract(chain, registry)
    count = int(_view(chain, target.functions.versionCount()))
    if version is not None:
        if not 1 <= int(version) <= count:
            raise _explain("NoSuchVersion", [version])
        holding = [int(version)] if _view(chain, target.functions.hasResult(version, key)) \
            else []
        if not holding:
            raise NoResult(f"no result for 0x{key:064x} in version {version} of {registry}",
                           hint="without --version, every version is looked at")
    else:
        holding = [v for v in range(count, 0, -1)
                   if _view(chain, target.functions.hasResult(v, key))]
        if not holding:
            raise NoResult(f"no result for 0x{key:064x} in any of the {count} version(s) of "
                           f"{registry}", hint="check the commitment, --registry and --rpc-url")
    infos = {v: version_info(chain, registry, v, deployments) for v in holding}
    if version is None:  # the newest active one, else the newest
        active = [v for v in holding if infos[v].active]
        chosen = active[0] if active else holding[0]
    else:
        chosen = int(version)
    info = infos[chosen]
    fixed = [int(v) for v in _view(chain, target.functions.resultOf(chosen, key))]
    outputs = [v / 2**s for v, s in zip(
        fixed, _scales_per_output(info.output_lengths, info.output_scales), strict=True)]
    prediction = None
    classes = info.output_lengths[0]
    if classes > 1:
        best = max(range(classes), key=lambda c: (fixed[c], -c))
        prediction = info.labels[best] if info.labels else str(best)
    block = int(_view(chain, target.functions.resultBlockOf(chosen, key)))
    return RecordedResult(
        chain_id=chain.chain_id, registry=registry, commitment=f"0x{key:064x}",
        version=chosen, active=info.active, model=info.model,
        result_id=int(_view(chain, target.functions.resultIdOf(chosen, key))),
        outputs_fixed_point=fixed, outputs=outputs, output_lengths=info.output_lengths,
        output_scales=info.output_scales, labels=info.labels, prediction=prediction,
        block=block, transaction=_transaction_of(chain, registry, chosen, key, block),
        other_versions=[v for v in holding if v != chosen])


def registry_for(chain: rpc.Chain, circuits_dir: Path, registry: str | None) -> str:
    """--registry, or the chain's default registry in deployments.json."""
    if registry:
        return require_registry(chain, registry)
    default = Deployments(circuits_dir).default_registry(chain.chain_id)
    if default is None:
        raise ChainError(f"no registry recorded for chain {chain.chain_id} in "
                         f"{Path(circuits_dir) / 'deployments.json'}",
                         hint="give --registry ADDRESS")
    return require_registry(chain, default)

