"""What a registry answers, decoded and checked: versions, results, audits, as data (strings
from a chain are escaped where they are shown, never markup). A node that answers what no
registry of this zkml can hold is a one-line ChainError."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from zkml.errors import ChainError
from zkml.results import inert

MAX_SCALE = 63  # the registry's own bound on a fixed-point scale


MAX_VERSIONS = 10_000  # far more than any registry adds; a node saying more is not believed


NOT_A_REGISTRY_HINT = ("an InferenceRegistry of this zkml never answers so: check --rpc-url "
                       "and --registry")


def utc(seconds: int) -> str:
    """A unix time as people read it: 2030-01-02 03:04:05 UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(seconds)))


def duration_text(seconds: int) -> str:
    """2 days, 36 hours, 90 minutes, 45 s, or 0."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} s" if seconds else "0"


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
    activates_at: int  # unix time: pending before (records, but does not count), active after
    code_hash: str  # the verifier's code hash when the version was added
    model: str | None = None  # from deployments.json, when zkml added it

    @property
    def shared(self) -> bool:
        return self.vka is not None

    @property
    def retired(self) -> bool:
        return self.retired_block != 0

    @property
    def status(self) -> str:
        """active (counts for currentResultOf), pending (records, counts from activates_at) or
        retired (records nothing), as the chain's latest block sees it."""
        return "retired" if self.retired else "active" if self.active else "pending"

    def describe_status(self) -> str:
        if self.retired:
            return f"retired at block {self.retired_block}"
        return "active" if self.active else f"pending until {utc(self.activates_at)}"

    def __str__(self) -> str:
        kind = "shared verifier" if self.shared else "own verifier"
        name = f" {self.model}" if self.model else ""
        return (f"version {self.version}{name}: {self.describe_status()}, {kind} "
                f"{self.verifier}, {self.result_count} result(s), key sha256 "
                f"{self.vk_sha256[:16]}…")


@dataclass(frozen=True)
class VersionAudit:
    """A version's verifying key and verifier as the chain holds them, each compared with
    zkml's local artifacts of the model when they are there (None: nothing to compare)."""

    version: int
    status: str  # active, pending or retired
    activates_at: int
    vk_sha256: str  # vkHash
    verifier: str
    recorded_code_hash: str  # at addVersion
    code_hash: str | None  # the code at the verifier's address now (None: no code)
    vka: str | None  # the shared verifier's VKA, as a data contract
    local_model: str | None = None  # the model folder compared with
    vk_matches: bool | None = None  # its vk.key's sha256 is vkHash
    segmented: bool = False  # the local model is proved in segments: the verifier is its chain
    verifier_matches: bool | None = None  # its compiled verifier (own, shared or chain) is it
    vka_matches: bool | None = None  # shared: its vka.json is the data contract's code

    @property
    def code_unchanged(self) -> bool:
        return self.code_hash == self.recorded_code_hash


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
    status: str = "active"  # of its version: active, pending or retired
    activates_at: int = 0  # its version's activation time
    current_version: int | None = None  # the version currentResultOf answers with (None: none)
    audits: list[VersionAudit] = field(default_factory=list)  # this version's, then the others'

    def __str__(self) -> str:
        status = self.status
        name = f" ({self.model})" if self.model else ""
        outputs = ", ".join(f"{v:.4f}" for v in self.outputs)
        label = f" -> {inert(self.prediction)}" if self.prediction is not None else ""
        return (f"version {self.version}{name}, {status}: result #{self.result_id} "
                f"[{outputs}]{label}, block {self.block}")


@dataclass(frozen=True)
class SubjectResult:
    """What the registry holds for one subject after the submission."""

    commitment: str  # the subject's input commitment as a 0x number: the registry's key
    result_id: int
    outputs_fixed_point: list[int]  # all model outputs concatenated, x * 2^scale
    outputs: list[float]
    recorded_now: bool  # False: recorded before (by any proof for this subject); unchanged


def consistent(registry: str, info: VersionInfo) -> VersionInfo:
    """The version, if it is one the registry can hold (addVersion checks all this); else the
    node (or the contract at that address) is not what it claims: one line saying what."""
    lengths, scales, labels = info.output_lengths, info.output_scales, info.labels
    wrong = (
        "no outputs" if not lengths else
        f"{len(scales)} output scale(s) for {len(lengths)} output(s)"
        if len(scales) != len(lengths) else
        "an output of no elements" if min(lengths) < 1 else
        f"a scale of 2^{max(scales)} (at most 2^{MAX_SCALE})" if max(scales) > MAX_SCALE else
        f"outputs of {sum(lengths)} elements, yet {info.outputs_per_subject} per subject"
        if sum(lengths) != info.outputs_per_subject else
        f"{len(labels)} label(s) for {lengths[0]} classes" if labels and
        len(labels) != lengths[0] else "")
    if wrong:
        raise ChainError(f"registry {registry} answered versionInfo({info.version}) with "
                         f"{wrong}", hint=NOT_A_REGISTRY_HINT)
    return info


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
