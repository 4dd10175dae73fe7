"""Proving on a private input, native verification, and reading public outputs from `instances`.

Only the proof's `instances` are bound by the proof. ezkl also writes `pretty_public_inputs`,
which a verifier never checks (editing it still verifies), so zkml never reads it.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from zkml import _ezkl
from zkml.circuit import CircuitSettings, check_input, felts_to_floats, witness
from zkml.errors import ArtifactError, ProofError, SrsError, VerificationFailed
from zkml.export import ExportedModel
from zkml.layout import ModelLayout, atomic_path, read_json, sha256_file_stat_cached

T = TypeVar("T")
FELT = re.compile(r"^[0-9a-f]{64}$")
# BN254 scalar field: every public instance is an element of it
FIELD_MODULUS = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001


def felt_to_int(felt: str) -> int:
    """ezkl writes field elements as 32 little-endian bytes in hex."""
    return int.from_bytes(bytes.fromhex(felt), "little")


def int_to_felt(value: int) -> str:
    return value.to_bytes(32, "little").hex()


@dataclass(frozen=True)
class KeyRecord:
    """srs.json: which SRS the keys were made with, and what identifies the model on-chain."""

    srs_path: Path
    srs_sha256: str
    srs_local: bool
    vk_sha256: str
    weights_commitment: list[str] = field(default_factory=list)  # Poseidon hash, hashed weights
    input_hash_count: int = 0  # instances before the weights hash / outputs
    proof_bytes: int = 0  # every proof of this circuit has this length

    @classmethod
    def load(cls, layout: ModelLayout) -> KeyRecord:
        layout.require(layout.srs_record, layout.vk, stage="setup")
        raw = read_json(layout.srs_record, "key record")
        try:
            return cls(
                srs_path=Path(raw["srs_path"]),
                srs_sha256=raw["srs_sha256"],
                srs_local=raw["srs_local"],
                vk_sha256=raw["vk_sha256"],
                weights_commitment=raw["weights_commitment"],
                input_hash_count=raw["input_hash_count"],
                proof_bytes=raw["proof_bytes"],
            )
        except (KeyError, TypeError):
            raise ArtifactError(
                f"{layout.srs_record} is incomplete or from another zkml version",
                hint=f"run `zkml setup {layout.name} --force`",
            ) from None

    def as_dict(self) -> dict[str, Any]:
        return {
            "srs_path": str(self.srs_path),
            "srs_sha256": self.srs_sha256,
            "srs_local": self.srs_local,
            "vk_sha256": self.vk_sha256,
            "weights_commitment": self.weights_commitment,
            "input_hash_count": self.input_hash_count,
            "proof_bytes": self.proof_bytes,
        }

    def checked_srs(self) -> Path:
        if not self.srs_path.is_file():
            raise SrsError(
                f"the SRS these keys were made with is gone: {self.srs_path}",
                hint="run `zkml setup MODEL --force` (with --srs FILE for a ceremony SRS)",
            )
        if sha256_file_stat_cached(self.srs_path) != self.srs_sha256:
            raise SrsError(
                f"the SRS at {self.srs_path} changed since the keys were made",
                hint="run `zkml setup MODEL --force` to remake keys for this SRS",
            )
        return self.srs_path


@dataclass
class PublicInstances:
    """The proof's bound public values, split into what they mean."""

    input_hash: list[str]
    weights_commitment: list[str]
    outputs: list[list[float]]  # one flat list per model output, as floats

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_hash": self.input_hash,
            "weights_commitment": self.weights_commitment,
            "outputs": self.outputs,
        }


def read_proof(path: Path) -> dict[str, Any]:
    """Load a proof file and check its shape before ezkl sees it."""
    if not path.is_file():
        raise ProofError(f"proof file not found: {path}")
    try:
        data = read_json(path, "proof file")
    except Exception as exc:
        raise ProofError(f"{path} is not a proof: {exc}") from None
    instances = data.get("instances") if isinstance(data, dict) else None
    if (
        not isinstance(instances, list)
        or not instances
        or not all(isinstance(row, list) for row in instances)
        or not all(isinstance(f, str) and FELT.match(f) for row in instances for f in row)
        or not isinstance(data.get("proof"), list)
        or not all(isinstance(b, int) and 0 <= b < 256 for b in data["proof"])
    ):
        raise ProofError(
            f"{path} is not an ezkl proof (missing or malformed `proof`/`instances`)",
            hint="pass a proof.json written by `zkml prove`",
        )
    if any(felt_to_int(f) >= FIELD_MODULUS for row in instances for f in row):
        # a non-canonical encoding could alias a valid value: never accept it
        raise VerificationFailed(f"{path} has a public instance outside the scalar field")
    return data


def public_instances(
    proof: dict[str, Any], settings: CircuitSettings, exported: ExportedModel, keys: KeyRecord
) -> PublicInstances:
    flat = [f for row in proof["instances"] for f in row]
    sizes = [math.prod(s) for s in exported.output_shapes]
    n_weights = len(keys.weights_commitment)
    expected = keys.input_hash_count + n_weights + sum(sizes)
    if len(flat) != expected:
        raise VerificationFailed(
            f"the proof has {len(flat)} public instances; this model publishes {expected}",
            hint="the proof was made for another model or circuit",
        )
    position = keys.input_hash_count + n_weights
    outputs = []
    for size, scale in zip(sizes, settings.output_scales, strict=True):
        outputs.append(felts_to_floats(flat[position : position + size], scale))
        position += size
    return PublicInstances(
        input_hash=flat[: keys.input_hash_count],
        weights_commitment=flat[keys.input_hash_count : keys.input_hash_count + n_weights],
        outputs=outputs,
    )


@dataclass
class Verification:
    valid: bool
    instances: PublicInstances
    seconds: float
    local_srs: bool


def _reads_model(function: Callable[..., T]) -> Callable[..., T]:
    """Run under the model folder's shared lock: a concurrent setup cannot swap keys midway."""

    @functools.wraps(function)
    def locked(layout: ModelLayout, *args: Any, **kwargs: Any) -> T:
        with layout.lock(shared=True):
            return function(layout, *args, **kwargs)

    return locked


@dataclass(frozen=True)
class _Loaded:
    """What prove and verify read from the model folder, read once per call."""

    settings: CircuitSettings
    exported: ExportedModel
    keys: KeyRecord

    @classmethod
    def load(cls, layout: ModelLayout) -> _Loaded:
        return cls(CircuitSettings.load(layout), ExportedModel.load(layout),
                   KeyRecord.load(layout))


@_reads_model
def verify(layout: ModelLayout, proof_path: Path, vk: Path | None = None) -> Verification:
    """Natively verify a proof against this model's keys; raise VerificationFailed if invalid."""
    return _verify(layout, _Loaded.load(layout), proof_path, vk)


def _verify(layout: ModelLayout, loaded: _Loaded, proof_path: Path,
            vk: Path | None = None) -> Verification:
    settings, exported, keys = loaded.settings, loaded.exported, loaded.keys
    vk = vk or layout.vk
    proof = read_proof(proof_path)
    instances = public_instances(proof, settings, exported, keys)
    if len(proof["proof"]) != keys.proof_bytes:
        # ezkl ignores trailing bytes; a padded copy would dodge replay checks keyed on bytes
        raise VerificationFailed(
            f"the proof has {len(proof['proof'])} bytes; proofs of this circuit have "
            f"{keys.proof_bytes}",
            hint="it was truncated, padded, or made for another circuit",
        )
    if instances.weights_commitment != keys.weights_commitment:
        raise VerificationFailed(
            "the proof's weights commitment is not this model's",
            hint="the proof was made with other weights",
        )
    start = time.perf_counter()
    try:
        _ezkl.call("verify", str(proof_path), str(layout.settings), str(vk),
                   srs_path=str(keys.checked_srs()))
    except _ezkl.EzklFailure as exc:
        if "failed to load vk" in str(exc):
            raise ArtifactError(
                f"{vk} is not a verifying key for this circuit ({exc})",
                hint=f"use the vk.key made by `zkml setup {layout.name}`",
            ) from exc
        if "failed to load the proof" in str(exc):
            raise ProofError(f"{proof_path} is not a readable proof ({exc})") from exc
        raise VerificationFailed(
            f"proof {proof_path} does NOT verify against {vk}",
            hint="it was tampered with, or made for another model, key or SRS",
        ) from exc
    return Verification(True, instances, time.perf_counter() - start, keys.srs_local)


@dataclass
class ProofResult:
    path: Path
    instances: PublicInstances
    seconds: float
    size: int


@_reads_model
def prove(layout: ModelLayout, private_input: np.ndarray, proof_path: Path,
          source: str = "input") -> ProofResult:
    """Prove inference on a private input, verify the proof, and only then write it out.

    ezkl's prove runs unchecked with calibrated settings and will emit a proof (that no verifier
    accepts) for a witness the circuit does not satisfy; verifying here catches that.
    """
    loaded = _Loaded.load(layout)
    layout.require(layout.compiled, stage="compile")
    layout.require(layout.pk, stage="setup")
    srs = loaded.keys.checked_srs()
    private_input = check_input(loaded.settings, loaded.exported.input_shape, private_input,
                                source)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zkml-witness-") as private_dir:
        os.chmod(private_dir, 0o700)  # the witness holds the private input
        witness_path = Path(private_dir) / "witness.json"
        witness(layout, private_input, witness_path)
        with atomic_path(proof_path) as tmp:
            try:
                _ezkl.call("prove", str(witness_path), str(layout.compiled), str(layout.pk),
                           str(tmp), srs_path=str(srs))
            except _ezkl.EzklFailure as exc:
                raise ProofError(f"proving failed: {exc}") from exc
            seconds = time.perf_counter() - start
            try:
                verification = _verify(layout, loaded, tmp)
            except VerificationFailed as exc:
                raise ProofError(
                    "the proof for this input does not verify, so it was not written",
                    hint="the input drives values outside the calibrated range; recompile with "
                    "samples that cover it",
                ) from exc
            size = tmp.stat().st_size
    return ProofResult(proof_path, verification.instances, seconds, size)
