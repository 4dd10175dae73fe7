"""The stages in order, each cached in the model's manifest: export -> compile -> setup.

A stage whose inputs, options and outputs are unchanged does no work and says so; `force`
redoes it. Proving and verifying (zkml.proof) read what these stages leave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkml import _ezkl, circuit, export, srs
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.errors import SetupError
from zkml.export import ExportedModel
from zkml.layout import Manifest, ModelLayout, atomic_path, read_json, sha256_file, write_json
from zkml.models.base import LoadedModel
from zkml.proof import KeyRecord

KEY_RECORD_VERSION = 2  # bump when srs.json gains fields, so older caches redo setup


@dataclass
class StageResult:
    stage: str
    cached: bool
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "cached": self.cached,
            "seconds": round(self.seconds, 3),
            **self.details,
            "warnings": self.warnings,
        }


def cached_stage(
    layout: ModelLayout,
    stage: str,
    inputs: list[Path],
    options: dict[str, Any],
    outputs: list[Path],
    work: Callable[[], dict[str, Any]],
    force: bool,
) -> StageResult:
    """Run work() unless the manifest shows the same inputs and options already made outputs.

    Holds the model folder's exclusive lock: no prove reads a half-replaced key meanwhile. The
    stage is dropped from the manifest before work starts and recorded only after it ends, so
    a stage killed midway is redone by the next run.
    """
    with layout.lock(shared=False):
        layout.remove_stale_temporaries()
        manifest = Manifest(layout)
        key = manifest.stage_key(inputs, options)
        if not force and manifest.is_fresh(stage, key):
            return StageResult(stage, True, 0.0)
        manifest.invalidate_from([stage])
        manifest.save()
        start = time.perf_counter()
        details = work()
        seconds = time.perf_counter() - start
        manifest = Manifest(layout)
        manifest.record(stage, key, outputs, seconds)
        return StageResult(stage, False, seconds, details)


def export_model(model: LoadedModel, layout: ModelLayout,
                 atol: float = export.DEFAULT_ATOL) -> StageResult:
    """Always re-exports (a second at most); later stages stay cached if the bytes are the same."""
    start = time.perf_counter()
    with layout.lock(shared=False):
        layout.remove_stale_temporaries()
        report = export.export(model, layout, atol)
        seconds = time.perf_counter() - start
        manifest = Manifest(layout)
        manifest.record("export", "", [layout.onnx, layout.samples, layout.export_report],
                        seconds)
    diffs = report["max_abs_difference"]
    return StageResult("export", False, seconds, {
        "onnx": str(layout.onnx),
        "max_abs_difference": None if diffs is None else max(diffs),
        "checked_samples": report["checked_samples"],
    })


def compile_model(layout: ModelLayout, options: CircuitOptions | None = None,
                  force: bool = False) -> StageResult:
    options = options or CircuitOptions()
    layout.require(layout.onnx, layout.samples, stage="export")
    import ezkl

    def work() -> dict[str, Any]:
        exported = ExportedModel.load(layout)
        circuit.make_settings(layout, exported, options)
        circuit.compile_circuit(layout)
        return {"fidelity": circuit.fidelity_report(layout, exported, options)}

    result = cached_stage(
        layout,
        "compile",
        [layout.onnx, layout.samples],
        {**options.as_dict(), "ezkl": ezkl.__version__},
        [layout.settings, layout.calibration_data, layout.compiled, layout.fidelity],
        work,
        force,
    )
    settings = CircuitSettings.load(layout)
    result.details.update({"logrows": settings.logrows, "num_rows": settings.num_rows})
    return result


def setup_keys(layout: ModelLayout, srs_file: Path | None = None, force: bool = False,
               cache_dir: Path | None = None) -> StageResult:
    layout.require(layout.compiled, layout.settings, stage="compile")
    settings = CircuitSettings.load(layout)
    start = time.perf_counter()
    chosen = srs.resolve(settings.logrows, srs_file, cache_dir)
    srs_seconds = time.perf_counter() - start

    def work() -> dict[str, Any]:
        # both keys appear together or not at all: a vk without its pk is a broken cache
        with atomic_path(layout.vk) as vk_tmp, atomic_path(layout.pk) as pk_tmp:
            try:
                _ezkl.call("setup", str(layout.compiled), str(vk_tmp), str(pk_tmp),
                           srs_path=str(chosen.path))
            except _ezkl.EzklFailure as exc:
                raise SetupError(f"key generation failed: {exc}") from exc
        probe, proof_bytes = _probe_proof(layout, chosen.path)
        record = KeyRecord(
            srs_path=chosen.path,
            srs_sha256=sha256_file(chosen.path),
            srs_local=chosen.local,
            vk_sha256=sha256_file(layout.vk),
            weights_commitment=probe.get("processed_params", {}).get("poseidon_hash", []),
            input_hash_count=len(probe.get("processed_inputs", {}).get("poseidon_hash", [])),
            proof_bytes=proof_bytes,
        )
        write_json(layout.srs_record, record.as_dict())
        return {}

    result = cached_stage(
        layout, "setup", [layout.compiled, layout.settings, chosen.path],
        {"key_record": KEY_RECORD_VERSION},
        [layout.vk, layout.pk, layout.srs_record], work, force,
    )
    result.seconds += srs_seconds
    result.details.update({
        "srs": str(chosen.path),
        "logrows": settings.logrows,
        "pk_bytes": layout.pk.stat().st_size,
        "vk_bytes": layout.vk.stat().st_size,
    })
    if chosen.local:
        result.warnings.append(srs.LOCAL_SRS_WARNING)
    return result


def _probe_proof(layout: ModelLayout, srs_path: Path) -> tuple[dict[str, Any], int]:
    """Prove one held-out sample with the new keys: checks them end to end, and tells what the
    circuit publishes besides outputs (hashes, commitments) and how long its proofs are."""
    import json
    import tempfile

    sample = ExportedModel.load(layout).holdout[0]
    with tempfile.TemporaryDirectory(prefix="zkml-probe-") as scratch:
        witness_path, proof_path = Path(scratch) / "witness.json", Path(scratch) / "proof.json"
        probe = circuit.witness(layout, sample, witness_path)
        try:
            _ezkl.call("prove", str(witness_path), str(layout.compiled), str(layout.pk),
                       str(proof_path), srs_path=str(srs_path))
        except _ezkl.EzklFailure as exc:
            raise SetupError(f"the new keys cannot prove a held-out sample: {exc}") from exc
        return probe, len(json.loads(proof_path.read_text())["proof"])


def evm_verifier(layout: ModelLayout, force: bool = False) -> StageResult:
    """Generate and compile the model's Solidity verifier, with the registry contract."""
    from zkml.evm import verifier

    layout.require(layout.vk, layout.srs_record, stage="setup")

    def work() -> dict[str, Any]:
        verifier.generate_verifier(layout)
        verifier.build(layout)
        return {}

    result = cached_stage(
        layout, "verifier", [layout.vk, layout.settings, layout.srs_record,
                             verifier.REGISTRY_SOURCE], {},
        [layout.verifier_sol, layout.evm_build], work, force,
    )
    size = read_json(layout.evm_build, "EVM build")["verifier"]["runtime_size"]
    result.details["verifier_bytes"] = size
    warning = verifier.size_warning(size)
    if warning:
        result.warnings.append(warning)
    return result


def deploy_contracts(layout: ModelLayout, rpc_url: str,
                     chain_id: int | None = None) -> StageResult:
    """Deploy verifier and registry to an existing node; the addresses go to deployments.json."""
    from zkml.evm import chain, verifier

    evm_verifier(layout)  # cached: a no-op when the verifier is built and current
    start = time.perf_counter()
    deployment = verifier.deploy(chain.connect(rpc_url, chain_id), layout)
    return StageResult("deploy", False, time.perf_counter() - start, deployment.as_dict())


def onchain_verify(layout: ModelLayout, proof_path: Path, rpc_url: str | None = None,
                   chain_id: int | None = None) -> StageResult:
    """Verify a proof on a chain (eth_call, then transactions), deploying first if needed.

    Without rpc_url a throwaway Anvil node is started on loopback and stopped afterwards.
    """
    from contextlib import ExitStack

    from zkml.evm import chain, verifier
    from zkml.evm.anvil import Anvil

    evm_verifier(layout)  # cached: a no-op when the verifier is built and current
    start = time.perf_counter()
    with ExitStack() as stack:
        url = rpc_url or stack.enter_context(Anvil()).url
        connection = chain.connect(url, chain_id if rpc_url else None)
        deployment = None if rpc_url is None else verifier.recorded_deployment(connection, layout)
        deployed_now = deployment is None
        if deployment is None:
            deployment = verifier.deploy(connection, layout)
        outcome = verifier.submit(connection, deployment, layout, proof_path)
    details = {
        "chain_id": connection.chain_id,
        "rpc_url": url if rpc_url else "ephemeral anvil",
        "deployed_now": deployed_now,
        **deployment.as_dict(),
        "verify_gas": outcome.verify_gas,
        "submit_gas": outcome.submit_gas,
        "prediction": outcome.prediction,
        "outputs_fixed_point": outcome.outputs,
    }
    return StageResult("onchain", False, time.perf_counter() - start, details)
