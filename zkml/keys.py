"""Setup: proving and verifying keys against an SRS, and the record that binds them.

keys.json records the digests of everything the keys were made from and with (compiled
circuit, settings, SRS) and of the keys themselves. It is written last, after a probe proof,
so it is the commit point of a setup: a setup killed midway leaves no record (the old one is
removed first), and prove/verify refuse keys whose record does not match the files now on disk
(a recompile, a swapped SRS or settings file, a key from elsewhere) instead of running ezkl on
them, which can deadlock on keys that do not fit the circuit.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkml import _ezkl, srs
from zkml.circuit import CircuitSettings, witness
from zkml.errors import ArtifactError, SetupError, SrsError
from zkml.export import ExportedModel
from zkml.layout import (
    Manifest,
    ModelLayout,
    ScratchLayout,
    atomic_path,
    private_scratch,
    read_json,
    sha256_file,
    sha256_file_stat_cached,
    write_json,
)
from zkml.results import StageResult
from zkml.stages import cached_stage
from zkml.subjects import UNUSABLE_ROWS, groups, message, point_bytes

KEY_RECORD_VERSION = 4


@dataclass(frozen=True)
class KeyRecord:
    """keys.json: what the keys were made from, and what identifies the model on-chain."""

    srs_path: Path
    srs_sha256: str
    srs_local: bool
    compiled_sha256: str
    settings_sha256: str
    vk_sha256: str
    pk_sha256: str
    weights_commitment: list[str] = field(default_factory=list)  # Poseidon hash, hashed weights
    input_commitments: int = 0  # per proof: one per subject when the input is committed
    # KZG: a subject's commitment is keccak256 of its `commitment_points` points, which start
    # at the proof's point j * commitment_stride for subject j (zkml.subjects); 0 otherwise
    commitment_points: int = 0
    commitment_stride: int = 0
    proof_bytes: int = 0  # every proof of this circuit has this length
    version: int = KEY_RECORD_VERSION

    @classmethod
    def load(cls, layout: ModelLayout) -> KeyRecord:
        layout.require(layout.key_record, layout.vk, stage="setup")
        raw = read_json(layout.key_record, "key record")
        try:
            if raw.get("version") != KEY_RECORD_VERSION:
                raise KeyError("version")
            return cls(**{**raw, "srs_path": Path(raw["srs_path"])})
        except (KeyError, TypeError, AttributeError):
            raise ArtifactError(
                f"{layout.key_record} is incomplete or from another zkml version",
                hint=f"run `zkml setup {layout.name} --force`",
            ) from None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "srs_path": str(self.srs_path)}

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


def current_keys(layout: ModelLayout, proving: bool, vk: Path | None = None) -> KeyRecord:
    """The key record, if the files on disk are the ones it was made from and for.

    Verifying uses the settings, the verifying key and the SRS; proving also the compiled
    circuit and the proving key. `vk` is a verifying key given instead of the model's own: it
    must be the very key the setup recorded.
    """
    record = KeyRecord.load(layout)
    manifest = Manifest(layout)
    layout.require(layout.settings, stage="compile")
    vk = vk or layout.vk
    if not vk.is_file():
        raise ArtifactError(f"verifying key not found: {vk}")
    if vk != layout.vk and sha256_file(vk) != record.vk_sha256:
        raise ArtifactError(
            f"{vk} is not the verifying key made by the setup of {layout.name}: it belongs to "
            "another circuit or another setup, so a proof it accepts says nothing about "
            f"{layout.name}",
            hint=f"verify with {layout.vk}, or run `zkml setup {layout.name}` to remake keys",
        )
    checks = [("settings", layout.settings, record.settings_sha256),
              ("verifying key", layout.vk, record.vk_sha256)]
    if proving:
        layout.require(layout.compiled, stage="compile")
        layout.require(layout.pk, stage="setup")
        checks += [("compiled circuit", layout.compiled, record.compiled_sha256),
                   ("proving key", layout.pk, record.pk_sha256)]
    # the small files are hashed here, whatever manifest.json claims (it could be edited along
    # with them); the proving key, up to gigabytes, through the manifest's digest cache: a
    # mismatched one can only fail to prove
    changed = [what for what, path, sha in checks
               if (manifest.digest(path) if path == layout.pk else sha256_file_stat_cached(path))
               != sha]
    if changed:
        raise ArtifactError(
            f"the keys of {layout.name} do not match its current {' and '.join(changed)} "
            "(recompiled, edited or replaced since setup)",
            hint=f"run `zkml setup {layout.name}` to make keys for the current circuit",
        )
    record.checked_srs()
    return record


@dataclass(kw_only=True)
class SetupResult(StageResult):
    srs: Path
    srs_local: bool
    logrows: int
    pk_bytes: int
    vk_bytes: int
    segments: int = 0  # keys of a segmented model's circuits (zkml.segments), summed

    def summary(self) -> str:
        keys = (f"proving keys {self.pk_bytes / 1e6:.1f} MB, verifying keys "
                f"{self.vk_bytes / 1e3:.1f} kB for {self.segments} segments" if self.segments
                else f"proving key {self.pk_bytes / 1e6:.1f} MB, verifying key "
                f"{self.vk_bytes / 1e3:.1f} kB")
        return f"{keys}, SRS {self.srs}"


def setup(layout: ModelLayout, srs_file: Path | None = None, force: bool = False,
          cache_dir: Path | None = None) -> SetupResult:
    """Make the keys (cached: an unchanged circuit and SRS do nothing)."""
    layout.require(layout.compiled, layout.settings, stage="compile")
    settings = CircuitSettings.load(layout)
    chosen = srs.resolve(settings.logrows, srs_file, cache_dir)

    def work() -> None:
        layout.key_record.unlink(missing_ok=True)  # no record until keys and record agree
        # both keys appear together or not at all: a vk without its pk is a broken cache
        with atomic_path(layout.vk) as vk_tmp, atomic_path(layout.pk) as pk_tmp:
            try:
                _ezkl.call("setup", str(layout.compiled), str(vk_tmp), str(pk_tmp),
                           srs_path=str(chosen.path))
            except _ezkl.EzklFailure as exc:
                raise SetupError(f"key generation failed: {exc}") from exc
        probe, proof = _probe_proof(layout, chosen.path)
        points, stride = _commitment_layout(layout, chosen.path, proof)
        manifest = Manifest(layout)
        record = KeyRecord(
            srs_path=chosen.path,
            srs_sha256=sha256_file(chosen.path),
            srs_local=chosen.local,
            compiled_sha256=manifest.digest(layout.compiled),
            settings_sha256=manifest.digest(layout.settings),
            vk_sha256=manifest.digest(layout.vk),
            pk_sha256=manifest.digest(layout.pk),
            weights_commitment=probe.get("processed_params", {}).get("poseidon_hash", []),
            input_commitments=settings.subjects if settings.salted else 0,
            commitment_points=points,
            commitment_stride=stride,
            proof_bytes=len(proof),
        )
        manifest.save()  # keeps the digests just computed: the stage record reuses them
        write_json(layout.key_record, record.as_dict())

    run = cached_stage(
        layout, "setup", [layout.compiled, layout.settings, chosen.path],
        {"key_record": KEY_RECORD_VERSION},
        [layout.vk, layout.pk, layout.key_record], work, force,
    )
    return SetupResult(
        stage="setup", cached=run.cached, seconds=run.seconds,
        warnings=[srs.LOCAL_SRS_WARNING] if chosen.local else [],
        srs=chosen.path, srs_local=chosen.local, logrows=settings.logrows,
        pk_bytes=layout.pk.stat().st_size, vk_bytes=layout.vk.stat().st_size,
    )


# the probe's salts: distinct, so that each subject's commitment points can be told apart
PROBE_SALTS = range(1, 2**16)


def _probe_proof(layout: ModelLayout, srs_path: Path) -> tuple[dict[str, Any], bytes]:
    """Prove one held-out sample with the new keys: checks them end to end, and tells what the
    circuit publishes besides outputs (hashes, commitments) and what its proofs look like."""
    settings = CircuitSettings.load(layout)
    exported = ExportedModel.load(layout)
    rows = groups(exported.holdout, settings.subjects)[0]
    with private_scratch("probe") as scratch:
        witness_path, proof_path = ScratchLayout(scratch).witness, ScratchLayout(scratch).proof
        probe = witness(layout, rows, list(PROBE_SALTS[:len(rows)]) if settings.salted else None,
                        exported.signature, witness_path)  # the columns as prove fills them
        try:
            _ezkl.call("prove", str(witness_path), str(layout.compiled), str(layout.pk),
                       str(proof_path), srs_path=str(srs_path))
        except _ezkl.EzklFailure as exc:
            raise SetupError(f"the new keys cannot prove a held-out sample: {exc}") from exc
        return probe, bytes(json.loads(proof_path.read_text())["proof"])


def _commitment_layout(layout: ModelLayout, srs_path: Path, proof: bytes,
                       circuit: ModelLayout | None = None) -> tuple[int, int]:
    """Where the probe proof carries each subject's KZG commitment points: (points per subject,
    stride between subjects), found by recomputing them from the probe's inputs and salts, so
    the record holds what the circuit does, not what zkml assumes of ezkl. `circuit`: whose
    key and settings commit the input (a segmented model's first segment), else layout's."""
    settings = CircuitSettings.load(layout)
    circuit = circuit or layout
    if settings.commitment != "kzg":
        return 0, 0
    exported = ExportedModel.load(layout)
    rows = groups(exported.holdout, settings.subjects)[0]
    commit = [_ezkl.call("kzg_commit", message(row, salt, settings.input_scale,
                                               exported.signature),
                         str(circuit.vk), str(circuit.settings), str(srs_path))
              for row, salt in zip(rows, PROBE_SALTS, strict=False)]
    points = len(commit[0])
    if points > 1:  # spread over columns: each must hold blinders (subjects.commitment_logrows)
        usable = _ezkl.call("kzg_commit", ["0" * 64] * (2**settings.logrows - UNUSABLE_ROWS),
                            str(circuit.vk), str(circuit.settings), str(srs_path))
        if len(usable) != 1:
            raise SetupError(f"{layout.name}'s commitment columns have fewer than "
                             f"2^{settings.logrows} - {UNUSABLE_ROWS} usable rows",
                             hint="report this: zkml's salt layout assumes more")
    found = [_offset(proof, b"".join(point_bytes(p) for p in subject)) for subject in commit]
    stride = found[1] - found[0] if len(found) > 1 and found[0] == 0 and found[1] else points
    if found != [j * stride for j in range(len(found))] or stride < points:
        raise SetupError(f"{layout.name}'s proofs do not carry the subjects' input commitments "
                         "where zkml reads them (at its first points, subject by subject)",
                         hint="report this with the model: the registry could not key results")
    return points, stride


def _offset(proof: bytes, points: bytes) -> int | None:
    """The point index at which `points` starts in the proof, or None."""
    for index in range(len(proof) // 64):
        if proof[64 * index:64 * index + len(points)] == points:
            return index
    return None
