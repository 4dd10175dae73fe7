"""Proving on a private input, native verification, and reading public outputs from `instances`.

Only the proof's `instances` are bound by the proof. ezkl also writes `pretty_public_inputs`,
which a verifier never checks (editing it still verifies), so zkml never reads it.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from zkml import _ezkl
from zkml.circuit import CircuitSettings, check_input, witness
from zkml.errors import ArtifactError, InputError, ProofError, VerificationFailed
from zkml.export import ExportedModel
from zkml.felts import FIELD_MODULUS, felt_hex, felt_to_int, signed
from zkml.inputs import parse_salt
from zkml.keys import KeyRecord, current_keys
from zkml.layout import (
    SECRET_SUFFIX,
    ModelLayout,
    ScratchLayout,
    atomic_path,
    private_scratch,
    read_json,
    secret_path,
)
from zkml.results import StageResult, rounded
from zkml.salts import (
    Kept,
    Repeat,
    choose,
    earlier,
    given_kzg_salt,
    keep,
    proved_before,
    refuse_second_kzg_proof,
    repeats,
    reused,
)
from zkml.subjects import proof_commitments

T = TypeVar("T")
FELT = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PublicInstances:
    """The proof's bound public values, split into what they mean."""

    input_commitments: list[str]  # one per subject (committed input), as 0x numbers: how the
    # registry, proof.secret.json and zkml.recompute.commitment name them
    weights_commitment: list[str]
    outputs: list[list[float]]  # one flat list per model output (subjects' rows in order)
    outputs_fixed_point: list[list[int]]  # the same as signed integers x * 2^scale
    output_scales: list[int]
    subjects: int = 1

    def row(self, output: int, subject: int) -> list[float]:
        """One subject's values of one model output."""
        values = self.outputs[output]
        size = len(values) // self.subjects
        return values[subject * size:(subject + 1) * size]


def read_proof(path: Path) -> dict[str, Any]:
    """Load a proof file and check its shape before ezkl sees it."""
    if not path.is_file():
        raise ProofError(f"proof file not found: {path}")
    try:
        data = read_json(path, "proof file")
    except ArtifactError as exc:
        raise ProofError(f"{path} is not a proof: {exc.message}") from None
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
    """What the proof's bound values say. Poseidon commitments are its first instances; KZG
    commitments are its first points (zkml.subjects)."""
    flat = [f for row in proof["instances"] for f in row]
    sizes = [settings.subjects * math.prod(s) for s in exported.output_shapes]
    n_weights = len(keys.weights_commitment)
    hashes = keys.input_commitments if settings.commitment == "poseidon" else 0
    expected = hashes + n_weights + sum(sizes)
    if len(flat) != expected:
        raise VerificationFailed(
            f"the proof has {len(flat)} public instances; this model publishes {expected}",
            hint="the proof was made for another model or circuit",
        )
    position = hashes + n_weights
    outputs, fixed = [], []
    for size, scale in zip(sizes, settings.output_scales, strict=True):
        fixed.append([signed(felt_to_int(f)) for f in flat[position : position + size]])
        outputs.append([v / 2**scale for v in fixed[-1]])
        position += size
    commitments = (proof_commitments(proof["proof"], keys.input_commitments,
                                     keys.commitment_points, keys.commitment_stride)
                   if settings.commitment == "kzg" else [felt_hex(f) for f in flat[:hashes]])
    return PublicInstances(
        input_commitments=commitments,
        weights_commitment=flat[hashes : hashes + n_weights],
        outputs=outputs,
        outputs_fixed_point=fixed,
        output_scales=list(settings.output_scales),
        subjects=settings.subjects,
    )


@dataclass(kw_only=True)
class Verification(StageResult):
    valid: bool
    proof: Path
    instances: PublicInstances
    local_srs: bool

    def summary(self) -> str:
        outputs = "; ".join(rounded(o) for o in self.instances.outputs)
        return f"{self.proof} is valid; public outputs {outputs}"


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
    def load(cls, layout: ModelLayout, proving: bool, vk: Path | None = None) -> _Loaded:
        keys = current_keys(layout, proving, vk)
        return cls(CircuitSettings.load(layout), ExportedModel.load(layout), keys)


@_reads_model
def verify(layout: ModelLayout, proof_path: Path, vk: Path | None = None) -> Verification:
    """Natively verify a proof against this model's keys; raise VerificationFailed if invalid."""
    return _verify(layout, _Loaded.load(layout, proving=False, vk=vk), proof_path, vk)


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
        if exc.stuck:
            raise ProofError(f"verifying {proof_path} failed: {exc}") from exc
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
    return Verification(stage="verify", seconds=time.perf_counter() - start, valid=True,
                        proof=proof_path, instances=instances, local_srs=keys.srs_local)


@dataclass(kw_only=True)
class Proof(StageResult):
    """A proof of one inference, written and verified; its outputs read from its instances."""

    model: str
    path: Path
    instances: PublicInstances
    size: int
    secret: Path | None = None  # a copy of the salts of its input commitments, beside it
    kept: list[Path] = field(default_factory=list)  # each subject's salt in the model's store
    repeats: list[Repeat] = field(default_factory=list)  # inputs proved before, now anew
    reused: list[Path] = field(default_factory=list)  # kept salts proved with again

    @property
    def outputs(self) -> list[list[float]]:
        return self.instances.outputs

    def summary(self) -> str:
        outputs = "; ".join(rounded(o) for o in self.outputs)
        return f"{self.path} ({self.size / 1e3:.1f} kB, verified); public outputs {outputs}"


@_reads_model
def prove(layout: ModelLayout, private_input: Any, proof_path: Path, source: str = "input",
          salts: list[int] | None = None, reuse_salt: bool = False) -> Proof:
    """Prove inference on private inputs (one row per subject of the circuit), verify the
    proof, and only then write it out.

    With committed inputs each subject's commitment takes a 256-bit salt: given (to reproduce a
    commitment made before), with reuse_salt the first one kept for the same input (zkml.salts),
    or drawn here. Every salt is kept owner-only in the model's store and copied beside the
    proof, never in it; an input proved before under another commitment is named in the
    result's repeats and warnings. ezkl's prove runs unchecked with calibrated settings and will
    emit a proof (that no verifier accepts) for a witness the circuit does not satisfy;
    verifying here catches that.
    """
    _check_output(layout, proof_path)
    loaded = _Loaded.load(layout, proving=True)
    settings = loaded.settings
    srs = loaded.keys.checked_srs()
    rows = check_input(settings, loaded.exported.signature, private_input, source)
    kept: list[list[Kept]] = []
    given = salts is not None
    if settings.salted:
        if salts is not None and (not isinstance(salts, list | tuple)
                                  or len(salts) != settings.subjects):
            raise InputError(f"{source}: give one salt per subject ({settings.subjects})")
        kept = earlier(layout, rows)
        if settings.commitment == "kzg":
            refuse_second_kzg_proof(source, proved_before(kept, reuse_salt and salts is None))
        salts = choose(None if salts is None else [parse_salt(salt, source) for salt in salts],
                       kept, reuse_salt)
    else:
        salts = None
    start = time.perf_counter()
    secret = secret_path(proof_path) if salts is not None else None
    with private_scratch("witness") as private_dir:  # the witness holds the private input
        witness_path = ScratchLayout(private_dir).witness
        if not settings.lookups_fit(witness(layout, rows, salts, loaded.exported.signature,
                                            witness_path)):
            raise InputError(
                f"{source} drives a nonlinearity outside the range the circuit was calibrated "
                "for (no proof is possible)",
                hint="recompile with --samples that cover inputs like this one")
        with atomic_path(proof_path) as tmp:
            try:
                _ezkl.call("prove", str(witness_path), str(layout.compiled), str(layout.pk),
                           str(tmp), srs_path=str(srs))
            except _ezkl.EzklFailure as exc:
                raise ProofError(f"proving failed: {exc}", hint=None if exc.stuck else
                                 f"if the proving key is not this circuit's, run `zkml setup "
                                 f"{layout.name} --force`") from exc
            witness_path.unlink()  # the private input is not kept while the proof is checked
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
            commitments = verification.instances.input_commitments
            if settings.commitment == "kzg":  # a salt given again
                refuse_second_kzg_proof(source, proved_before(kept, False, commitments))
            stored = [] if salts is None else keep(layout, rows, salts, commitments, secret)
    repeated = repeats(kept, commitments)
    return Proof(stage="prove", seconds=seconds, model=layout.name, path=proof_path,
                 instances=verification.instances, size=size, secret=secret, kept=stored,
                 repeats=repeated, reused=reused(kept, commitments),
                 warnings=[r.describe(source, settings.subjects) for r in repeated]
                 + ([given_kzg_salt(source)] if given and settings.commitment == "kzg" else []))


def _check_output(layout: ModelLayout, proof_path: Path) -> None:
    """A proof may not replace an artifact of the model or a proof's salts."""
    artifacts = {getattr(layout, name) for name in (
        "onnx", "samples", "export_report", "settings", "calibration_data", "circuit_onnx",
        "compiled", "fidelity", "optimize_report", "key_record", "vk", "pk", "manifest",
        "verifier_sol", "evm_build", "vka")}
    if proof_path.is_dir() or proof_path.name.endswith(SECRET_SUFFIX) or \
            proof_path.resolve() in {p.resolve() for p in artifacts} or \
            proof_path.resolve().is_relative_to(layout.secrets.root.resolve()):
        raise ProofError(f"{proof_path} is not a place for a proof (a folder, a model "
                         "artifact or a proof's salts)",
                         hint="choose another -o, e.g. a new proof.json")

