"""The app contract (InferenceRegistry): one registry per application, many model versions.

A bank or a clinic deploys one registry and adds each model it approves as a version (its own
verifier, or the shared reusable verifier with the model's VKA); a new version counts for the
app's current result only after the registry's activation delay, and a retired version records
nothing new and keeps its results. A result is recorded under (version, the commitment to its
subject's private input), so a result, once recorded, is changed by no one (see the contract's
NatSpec and the README's threat model for what the owner can and cannot do). Submitting is
checked with one eth_call first, then sent as one transaction: the user pays for one
verification.

Every node call goes through `zkml.evm.rpc` (a connection from `rpc.connect`, transactions by
`rpc.send` and `rpc.deploy`). What zkml deployed and added is recorded per chain in the
circuits folder's deployments.json (`Deployments`). What the registry answers is checked for
consistency before it is used: a node that answers nonsense is a one-line ChainError.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zkml import proving, segments
from zkml.circuit import CircuitSettings
from zkml.errors import ChainError, VerificationFailed, ZkmlError
from zkml.evm import rpc
from zkml.evm.deployments import Deployments
from zkml.evm.results import (
    MAX_VERSIONS,
    NOT_A_REGISTRY_HINT,
    RecordedResult,
    SubjectResult,
    VersionAudit,
    VersionInfo,
    consistent,
    duration_text,
    parse_commitment,
    utc,
)
from zkml.evm.verifier import (
    EIP170_LIMIT,
    Calldata,
    EvmBuild,
    calldata,
    code_hash,
    local_shared_verifier_build,
    registry_build,
    shared_verifier_build,
    vka_words,
)
from zkml.export import ExportedModel
from zkml.felts import felt_to_int
from zkml.keys import current_keys
from zkml.layout import ModelLayout, sha256_file_stat_cached
from zkml.results import StageResult, inert, rounded
from zkml.subjects import proof_commitments

VERIFIER_CHOICES = ("auto", "own", "shared")
MAX_COMMITMENT_POINTS = 255  # the registry keeps a subject's point count in one byte
DEV_CHAIN_ID = 31337  # Anvil's and Hardhat's: a development chain
DEFAULT_ACTIVATION_DELAY = 2 * 86_400  # seconds, on any other chain
MAX_ACTIVATION_DELAY = 365 * 86_400  # the registry refuses a longer one
_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}


class AlreadyRecorded(ZkmlError):
    """The registry holds a result for every subject of this proof: nothing to do."""

    exit_code = 3


class WrongRegistry(ZkmlError):
    """The proof is for another model or circuit than the registry's version."""


class RegistryRefused(ChainError):
    """The registry refused a call for a reason of its own (named in the message)."""


class NoResult(ChainError):
    """The registry holds no result for this commitment (in that version)."""


# ------------------------------------------------------------------------------ reading


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
    activates_at: int = 0  # unix time from which the version counts for currentResultOf
    activation_delay: int = 0  # the registry's, in seconds


@dataclass(kw_only=True)
class DeployResult(StageResult):
    """`zkml deploy`: a registry (new or existing), the version added, versions retired."""

    chain_id: int
    rpc_url: str
    registry: str
    deployed_registry: bool
    deployment: Deployment | None  # the version added or found for the model, if any
    added: bool  # False: the model was an active or pending version already
    retired: list[int]
    gas: int  # everything this command's transactions used
    activation_delay: int = 0  # the registry's, in seconds
    transactions: dict[str, str] = field(default_factory=dict)  # what: hash

    def __str__(self) -> str:
        delay = f"activation delay {duration_text(self.activation_delay)}"
        parts = [f"registry {self.registry} ({'new, ' if self.deployed_registry else ''}{delay})"]
        if self.deployment is not None:
            d = self.deployment
            kind = "shared verifier" if d.shared else "own verifier"
            parts.append(f"{'added' if self.added else 'already has'} version {d.version} "
                         f"({kind} {d.verifier}), counting for currentResultOf from "
                         f"{utc(d.activates_at)}")
        parts += [f"retired version {v}" for v in self.retired]
        return f"{'; '.join(parts)} on chain {self.chain_id}, {self.gas:,} gas"


def parse_activation_delay(text: str | int) -> int:
    """Seconds from `2d`, `48h`, `90m`, `45s`, `1w`, `1d12h` or a plain number of seconds, up
    to the registry's limit."""
    if isinstance(text, int) and not isinstance(text, bool):
        seconds = text
    else:
        value = str(text).strip().lower()
        parts = re.findall(r"(\d+)\s*([smhdw])", value)
        if value.isdigit():
            seconds = int(value)
        elif parts and re.fullmatch(r"(\s*\d+\s*[smhdw])+\s*", value):
            seconds = sum(int(n) * _UNITS[unit] for n, unit in parts)
        else:
            raise ChainError(f"{text!r} is not a duration",
                             hint="give it as 2d, 48h, 90m, 45s or 0")
    if not 0 <= seconds <= MAX_ACTIVATION_DELAY:
        raise ChainError(f"an activation delay of {duration_text(seconds)} is over the "
                         "registry's limit of 365 days", hint="give at most 365d")
    return seconds


def activation_delay_for(chain: rpc.Chain, given: str | int | None) -> int:
    """The activation delay a new registry gets: the one given, else none on a development
    chain (chain id 31337: a local Anvil, zkml's own included) and two days anywhere else."""
    if given is not None:
        return parse_activation_delay(given)
    return 0 if chain.chain_id == DEV_CHAIN_ID else DEFAULT_ACTIVATION_DELAY


# ------------------------------------------------------------------------------ reading


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
    return ChainError(f"the registry reverted: {inert(chain.scrub(str(exc)))[:300]}")


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
    from eth_abi.exceptions import DecodingError
    from web3.exceptions import BadFunctionCallOutput

    try:
        return function.call()
    except (BadFunctionCallOutput, DecodingError, UnicodeDecodeError):
        raise ChainError(f"the answer to the registry's {function.fn_name} cannot be decoded",
                         hint=NOT_A_REGISTRY_HINT) from None
    except Exception as exc:
        raise _decode_revert(chain, exc) from None


def _read(chain: rpc.Chain, what: str, read: Any) -> Any:
    """A read of the node's own (code, logs): a malformed answer, which web3 meets with any
    exception, is one line."""
    try:
        return read()
    except ZkmlError:
        raise
    except Exception:
        raise ChainError(f"the RPC at {chain.url} answered {what} with something else",
                         hint="check --rpc-url: is it an Ethereum node?") from None


def require_registry(chain: rpc.Chain, address: str) -> str:
    """The address checksummed, if an InferenceRegistry of this zkml answers there."""
    from web3 import Web3

    if not isinstance(address, str) or not Web3.is_address(address):
        raise ChainError(f"{address!r} is not an address", hint="give the registry's 0x address")
    address = Web3.to_checksum_address(address)
    if not _read(chain, "eth_getCode", lambda: chain.w3.eth.get_code(address)):
        raise ChainError(f"no contract at {address} on chain {chain.chain_id}",
                         hint="check --registry and --rpc-url")
    try:
        contract(chain, address).functions.versionCount().call()
        contract(chain, address).functions.owner().call()
        contract(chain, address).functions.activationDelaySeconds().call()
    except ChainError:
        raise
    except Exception:
        raise ChainError(f"{address} on chain {chain.chain_id} is not an InferenceRegistry "
                         "of this zkml version", hint="check --registry") from None
    return address


def deploy_registry(chain: rpc.Chain, circuits_dir: Path,
                    activation_delay: str | int | None = None) -> tuple[str, int]:
    """A new, empty registry owned by the signing account, with this activation delay (see
    activation_delay_for); recorded as the chain's default."""
    delay = activation_delay_for(chain, activation_delay)
    address, gas = rpc.deploy(chain, registry_build(), delay)
    deployments = Deployments(circuits_dir, chain)
    record = deployments.registry(address)
    record.update({"rpc_url": chain.url, "time": int(time.time()), "gas": gas,
                   "owner": chain.account.address, "activation_delay": delay,
                   "block": int(contract(chain, address).functions.deployedAt().call())})
    deployments.use(address)
    return address, gas


def activation_delay_of(chain: rpc.Chain, registry: str) -> int:
    """The registry's activation delay in seconds, fixed when it was deployed."""
    return int(_view(chain, contract(chain, registry).functions.activationDelaySeconds()))


def check_activation_delay(chain: rpc.Chain, registry: str, given: str | int | None) -> int:
    """The registry's delay; a different one asked for is an error (it never changes)."""
    delay = activation_delay_of(chain, registry)
    if given is not None and parse_activation_delay(given) != delay:
        raise ChainError(f"registry {registry} has an activation delay of "
                         f"{duration_text(delay)}, set when it was deployed; it never changes",
                         hint="leave out --activation-delay, or deploy a new registry")
    return delay


def shared_verifier(chain: rpc.Chain, layout: ModelLayout) -> tuple[str, int]:
    """ezkl's reusable verifier on this chain: the one recorded for it if its code is still
    there and the same (compared by code hash), else a new one. Returns (address, gas spent)."""
    build = shared_verifier_build(layout)
    deployments = Deployments.of(layout, chain)
    recorded = deployments.shared_verifier()
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
    deployments.record["shared_verifier"] = {
        "address": address, "code_hash": build["runtime_keccak"], "gas": gas,
        "bytes": build["runtime_size"], "time": int(time.time())}
    deployments.save()
    return address, gas


def add_version(chain: rpc.Chain, registry: str, layout: ModelLayout,
                verifier: str = "auto") -> Deployment:
    """MODEL as a new version of `registry` (the signing account must own it): its own
    verifier deployed, or the shared one (deployed once per chain) with the model's VKA."""
    proving.build_verifier(layout)  # cached: a no-op when the verifier is built and current
    own = EvmBuild.load(layout).verifier
    shared = choose_verifier(verifier, int(own["runtime_size"]))
    if shared and segments.is_segmented(layout):
        raise ChainError(f"{layout.name} is proved in segments: its verifier is its own chain "
                         "of segment verifiers, not the shared verifier",
                         hint="drop --verifier shared")
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
        address, verifier_gas = proving.deploy_verifier(chain, layout)
        words, size = [], int(own["runtime_size"])
    receipt = _transact(chain, target, "addVersion", version_spec(layout, address), words)
    (added,) = _events(target, "VersionAdded", receipt)
    version = int(added["args"]["version"])
    vka = added["args"]["vka"]
    deployment = Deployment(
        chain_id=chain.chain_id, registry=registry, version=version, verifier=address,
        shared=shared, vka=vka if shared else None, vk_sha256=keys.vk_sha256,
        verifier_gas=verifier_gas, version_gas=int(receipt["gasUsed"]), verifier_bytes=size,
        activates_at=int(added["args"]["activatesAt"]),
        activation_delay=activation_delay_of(chain, registry))
    deployments = Deployments.of(layout, chain)
    deployments.registry(registry)["versions"][str(version)] = {
        "model": layout.name, "vk_sha256": keys.vk_sha256, "verifier": address,
        "shared": shared, "vka": deployment.vka, "verifier_gas": verifier_gas,
        "version_gas": deployment.version_gas, "verifier_bytes": size,
        "activates_at": deployment.activates_at,
        "code_hash": "0x" + bytes(added["args"]["verifierCodeHash"]).hex(),
        "transaction": _hex(receipt["transactionHash"]), "block": int(receipt["blockNumber"]),
        "time": int(time.time())}
    deployments.use(registry)
    return deployment


def deploy(chain: rpc.Chain, layout: ModelLayout, verifier: str = "auto",
           activation_delay: str | int | None = None) -> Deployment:
    """A new registry (owned by the signing account) with the model as version 1."""
    proving.build_verifier(layout)  # a compile error before any transaction
    address, gas = deploy_registry(chain, layout.root.parent, activation_delay)
    return replace(add_version(chain, address, layout, verifier), registry_gas=gas)


def retire_version(chain: rpc.Chain, registry: str, version: int,
                   circuits_dir: Path | None = None) -> tuple[int, str]:
    """Retires a version (owner only, final); returns (gas, transaction hash)."""
    registry = require_registry(chain, registry)
    receipt = _transact(chain, contract(chain, registry), "retireVersion", int(version))
    if circuits_dir is not None:
        deployments = Deployments(circuits_dir, chain)
        record = deployments.registry(registry)["versions"].get(str(version))
        if isinstance(record, dict):
            record["retired"] = True
            deployments.save()
    return int(receipt["gasUsed"]), _hex(receipt["transactionHash"])


def version_info(chain: rpc.Chain, registry: str, version: int,
                 deployments: Deployments | None = None) -> VersionInfo:
    raw = _view(chain, contract(chain, registry).functions.versionInfo(int(version)))
    vka = raw[1] if int(raw[1], 16) else None
    model = deployments.model_of(registry, version) if deployments else None
    return consistent(registry, VersionInfo(
        version=int(version), verifier=raw[0], vka=vka, active=bool(raw[2]),
        commitments_in_proof=bool(raw[3]), subjects=int(raw[4]), instance_count=int(raw[5]),
        outputs_per_subject=int(raw[6]), result_count=int(raw[7]), vk_sha256=bytes(raw[8]).hex(),
        model_digest=bytes(raw[9]).hex(), proof_bytes=int(raw[10]), added_block=int(raw[11]),
        retired_block=int(raw[12]), weights_commitment=[int(v) for v in raw[13]],
        output_lengths=[int(v) for v in raw[14]], output_scales=[int(v) for v in raw[15]],
        labels=[str(v) for v in raw[16]], activates_at=int(raw[17]),
        code_hash="0x" + bytes(raw[18]).hex(), model=model))


def _version_count(chain: rpc.Chain, registry: str) -> int:
    count = int(_view(chain, contract(chain, registry).functions.versionCount()))
    if count > MAX_VERSIONS:
        raise ChainError(f"registry {registry} says it has {count} versions",
                         hint=NOT_A_REGISTRY_HINT)
    return count


def versions(chain: rpc.Chain, registry: str,
             deployments: Deployments | None = None) -> list[VersionInfo]:
    count = _version_count(chain, registry)
    return [version_info(chain, registry, v, deployments) for v in range(1, count + 1)]


def find_version(chain: rpc.Chain, registry: str, layout: ModelLayout) -> VersionInfo | None:
    """The version of `registry` that holds this model's current key and layout: the newest
    one not retired (active or pending: both record proofs), else the newest retired one (a
    proof sent there is refused: VersionIsRetired)."""
    vk = current_keys(layout, proving=False).vk_sha256
    shape = registry_shape(layout)
    matching = [info for info in reversed(versions(chain, registry, Deployments.of(layout, chain)))
                if info.vk_sha256 == vk and info.subjects == shape.subjects
                and info.output_lengths == shape.output_lengths]
    live = [info for info in matching if not info.retired]
    return (live or matching)[0] if matching else None


def deployment_of(chain: rpc.Chain, registry: str, info: VersionInfo) -> Deployment:
    return Deployment(chain_id=chain.chain_id, registry=registry, version=info.version,
                      verifier=info.verifier, shared=info.shared, vka=info.vka,
                      vk_sha256=info.vk_sha256, activates_at=info.activates_at)


def recorded_deployment(chain: rpc.Chain, layout: ModelLayout) -> Deployment | None:
    """A registry recorded for this chain (the default first) whose code is still there and
    that has a version of this model's current key (one not retired first)."""
    deployments = Deployments.of(layout, chain)
    recorded = list(deployments.registries())
    default = deployments.default_registry()
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
    found.sort(key=lambda pair: pair[1].retired)  # stable: the default first among equals
    return deployment_of(chain, *found[0]) if found else None


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


# ------------------------------------------------------------------------------ reading


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
    start = time.perf_counter()
    proving.verify(layout, proof_path)
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


def _transaction_of(chain: rpc.Chain, registry: str, version: int, commitment: int,
                    block: int) -> str | None:
    """The transaction that recorded the result: its InferenceVerified event, looked up in the
    block the registry stored (one block: every node serves that range)."""
    topic0 = "0x" + bytes(chain.w3.keccak(
        text="InferenceVerified(uint256,uint256,uint256,int256[])")).hex()

    def find() -> str | None:
        logs = chain.w3.eth.get_logs({
            "address": registry, "fromBlock": block, "toBlock": block,
            "topics": [topic0, f"0x{version:064x}", None, f"0x{commitment:064x}"]})
        return _hex(logs[0]["transactionHash"]) if logs else None

    return _read(chain, "eth_getLogs", find)


def read_result(chain: rpc.Chain, registry: str, commitment: int | str,
                version: int | None = None,
                deployments: Deployments | None = None) -> RecordedResult:
    """What `registry` holds for a commitment: in `version`, or else what the contract's
    currentResultOf returns (the newest active version holding one), or else the newest
    version holding one (pending or retired). Each version reported is audited against the
    local artifacts in the circuits folder of `deployments` (see audit_version)."""
    registry = require_registry(chain, registry)
    key = parse_commitment(commitment) if isinstance(commitment, str) else int(commitment)
    target = contract(chain, registry)
    count = _version_count(chain, registry)
    try:
        current: int | None = int(_view(chain, target.functions.currentResultOf(key))[0])
    except NoResult:
        current = None
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
    chosen = int(version) if version is not None else current or holding[0]
    infos = {v: version_info(chain, registry, v, deployments) for v in holding}
    info = infos[chosen]
    fixed = [int(v) for v in _view(chain, target.functions.resultOf(chosen, key))]
    if len(fixed) != info.outputs_per_subject:
        raise ChainError(f"registry {registry} answered resultOf with {len(fixed)} output(s), "
                         f"yet its version {chosen} has {info.outputs_per_subject}",
                         hint=NOT_A_REGISTRY_HINT)
    outputs = [v / 2**s for v, s in zip(
        fixed, _scales_per_output(info.output_lengths, info.output_scales), strict=True)]
    prediction = None
    classes = info.output_lengths[0]
    if classes > 1:
        best = max(range(classes), key=lambda c: (fixed[c], -c))
        prediction = info.labels[best] if info.labels else str(best)
    block = int(_view(chain, target.functions.resultBlockOf(chosen, key)))
    others = [v for v in holding if v != chosen]
    circuits_dir = deployments.path.parent if deployments is not None else None
    return RecordedResult(
        chain_id=chain.chain_id, registry=registry, commitment=f"0x{key:064x}",
        version=chosen, active=info.active, model=info.model,
        result_id=int(_view(chain, target.functions.resultIdOf(chosen, key))),
        outputs_fixed_point=fixed, outputs=outputs, output_lengths=info.output_lengths,
        output_scales=info.output_scales, labels=info.labels, prediction=prediction,
        block=block, transaction=_transaction_of(chain, registry, chosen, key, block),
        other_versions=others, status=info.status, activates_at=info.activates_at,
        current_version=current,
        audits=[audit_version(chain, infos[v], circuits_dir) for v in [chosen, *others]])


def _code(chain: rpc.Chain, address: str) -> bytes:
    return bytes(chain.w3.eth.get_code(address))


def _local_model(circuits_dir: Path, info: VersionInfo) -> ModelLayout | None:
    """The model folder to compare a version with: the one deployments.json names for it, else
    any model in the circuits folder whose vk.key is the version's key."""
    named = ModelLayout(circuits_dir / info.model) if info.model else None
    if named is not None and named.vk.is_file():
        return named
    for root in sorted(circuits_dir.iterdir()) if circuits_dir.is_dir() else []:
        layout = ModelLayout(root)
        if layout.vk.is_file() and sha256_file_stat_cached(layout.vk) == info.vk_sha256:
            return layout
    return None


def _verifier_matches(chain: rpc.Chain, layout: ModelLayout, info: VersionInfo,
                      code: str | None) -> bool | None:
    """Whether the version's verifier (its code hash on chain: `code`) is the one compiled
    here: the model's own (evm.json), or ezkl's reusable one when zkml has rendered it on this
    machine; None when there is none. A segmented model's SegmentChain matches when every
    segment verifier it names has, now and as the chain recorded it, the code of that
    segment's verifier built here, its link layout is the local chain key's (vk.key), and its
    own code is what the SegmentChain built here deploys to over those verifiers (its immutable
    digest pins exactly them)."""
    try:
        if info.shared:
            shared = local_shared_verifier_build()
            return None if shared is None else shared["runtime_keccak"] == code
        if not layout.evm_build.is_file():
            return None
        build = EvmBuild.load(layout)
        if not segments.is_segmented(layout):
            return bool(build.verifier["runtime_keccak"] == code)
        key = segments.ChainKey.load(layout)
    except ZkmlError:
        return None
    shapes = [[s.proof_bytes for s in key.segments], [s.link_offset for s in key.segments],
              [s.link_points for s in key.segments]]
    built = [str(b.get("runtime_keccak")) for b in build.segments]
    target = chain.w3.eth.contract(address=info.verifier, abi=build.verifier["abi"])
    try:
        addresses, *named = target.functions.segments().call()
        recorded = ["0x" + bytes(h).hex() for h in target.functions.segmentCodeHashes().call()]
        now = [code_hash("0x" + _code(chain, a).hex()) for a in addresses]
        if [[int(v) for v in values] for values in named] != shapes or recorded != built \
                or now != built:
            return False
        creation = chain.w3.eth.contract(abi=build.verifier["abi"],
                                         bytecode=build.verifier["bytecode"]) \
            .constructor(addresses, *shapes).data_in_transaction
        return code_hash("0x" + bytes(chain.w3.eth.call({"data": creation})).hex()) == code
    except ZkmlError:
        raise
    except Exception:  # noqa: BLE001 - no answer or a revert: not the SegmentChain built here
        return False


def audit_version(chain: rpc.Chain, info: VersionInfo,
                  circuits_dir: Path | None) -> VersionAudit:
    """A version's key and verifier on chain: its verifier's code now against the code hash
    recorded by addVersion, and, when the circuits folder has the model, its vk.key against
    vkHash, its compiled verifier (a segmented model's: its SegmentChain and segment
    verifiers, see _verifier_matches) against the code on chain and (shared) its vka.json
    against the VKA's data contract."""
    code = _code(chain, info.verifier)
    audit = VersionAudit(
        version=info.version, status=info.status, activates_at=info.activates_at,
        vk_sha256=info.vk_sha256, verifier=info.verifier, recorded_code_hash=info.code_hash,
        code_hash=code_hash("0x" + code.hex()) if code else None, vka=info.vka)
    layout = _local_model(circuits_dir, info) if circuits_dir is not None else None
    if layout is None:
        return audit
    vka_matches = None
    if info.vka is not None and layout.vka.is_file():
        try:
            vka_matches = _code(chain, info.vka) == b"\x00" + b"".join(vka_words(layout))
        except ZkmlError:
            vka_matches = False  # an unreadable vka.json is not the VKA on chain
    return replace(
        audit, local_model=layout.name, segmented=segments.is_segmented(layout),
        vk_matches=sha256_file_stat_cached(layout.vk) == info.vk_sha256,
        verifier_matches=_verifier_matches(chain, layout, info, audit.code_hash),
        vka_matches=vka_matches)


def registry_for(chain: rpc.Chain, circuits_dir: Path, registry: str | None) -> str:
    """--registry, or the chain's default registry in deployments.json."""
    if registry:
        return require_registry(chain, registry)
    records = Deployments(circuits_dir, chain)
    default = records.default_registry()
    if default is None:
        raise ChainError(f"no registry recorded for this chain (id {chain.chain_id}) in "
                         f"{records.path}", hint="give --registry ADDRESS")
    try:
        return require_registry(chain, default)
    except rpc.NodeError:
        raise
    except ChainError as exc:
        raise ChainError(f"{exc.message} (the registry recorded for it in {records.path})",
                         hint="give --registry ADDRESS") from None

