"""The baselines zkml is measured against: ezkl's Python API called directly on the same ONNX
and the same private input, with its defaults ("plain ezkl") or with the best settings found by
hand for a model ("hand-tuned ezkl"). Only the visibility is set as zkml sets it, because
PyRunArgs' default makes the input public. The hand-tuned side does the same work as zkml: it
proves zkml's circuit graph (the input followed by its salt's blinders) with ezkl's KZG
commitment to the input, so it publishes the same kind of salted commitment.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml.bench.runner import Measured, measure, step
from zkml.circuit import CircuitOptions
from zkml.export import ExportedModel
from zkml.felts import felts_to_floats
from zkml.layout import ModelLayout, ScratchLayout

PLAIN_RUN_ARGS: dict[str, Any] = {
    "input_visibility": "private", "output_visibility": "public", "param_visibility": "fixed",
    "variables": [("batch", 1)],  # the exported graph's dynamic batch axis, fixed at one row
}


@dataclass
class Side:
    """One pipeline's figures for one model."""

    label: str
    logrows: int
    num_rows: int
    pk_bytes: int
    vk_bytes: int
    proof_bytes: int
    steps: dict[str, Measured] = field(default_factory=dict)
    agreement: float | None = None
    max_abs_error: float | None = None
    error_pct: float | None = None  # max_abs_error as % of the output's held-out float spread
    verify_gas: int | None = None
    verifier_bytes: int | None = None
    hash_rows: int | None = None  # rows of ezkl's Poseidon chip, when it hashes the input
    num_inner_cols: int = 1
    tables: int = 0  # lookup and range-check tables

    @property
    def area(self) -> int:
        """Proving work, about (inner columns + tables) x 2^logrows (zkml.optimize)."""
        return (self.num_inner_cols + self.tables) * 2**self.logrows


def layout_figures(settings: dict[str, Any]) -> dict[str, int]:
    """A settings file's inner columns and tables (a Side's fields)."""
    return {"num_inner_cols": int(settings["run_args"]["num_inner_cols"]),
            "tables": len(settings["required_lookups"]) +
            len(settings["required_range_checks"])}


def _input(rows: np.ndarray, salted: bool, exported: ExportedModel) -> dict[str, Any]:
    """ezkl's data for one proof: the rows as the model's inputs, or (salted) zkml's subject
    input."""
    from zkml import subjects

    if salted:
        return subjects.input_data(rows, [SALT] * len(rows), exported.signature)
    return exported.signature.ezkl_data(rows)


SALT = 0x5A17  # the hand-tuned side's fixed salt: its proofs are timed, not published


def _fidelity(root: Path, exported: ExportedModel, scale: int, batch: int = 1,
              count: int = 50, salted: bool = False) -> tuple[float, float, float]:
    """Agreement of the circuit with the float model on held-out samples, its largest error
    and that error as % of the output's spread, as zkml measures them (zkml.fidelity)."""
    from zkml import _ezkl, fidelity
    from zkml.subjects import groups

    samples = exported.holdout[:count]
    plain, data = ModelLayout(root), ScratchLayout(root).input
    rows: list[np.ndarray] = []
    for group in groups(samples, batch):
        data.write_text(json.dumps(_input(group, salted, exported)))
        out = _ezkl.call("gen_witness", str(data), str(plain.compiled), None)["outputs"][0]
        rows += list(np.asarray(felts_to_floats(out, scale)).reshape(batch, -1))
    circuit = np.asarray(rows[: len(samples)])
    reference = exported.holdout_reference[0][: len(samples)].reshape(len(samples), -1)
    figures = fidelity.compare(circuit, reference, CircuitOptions())
    return figures.agreement, figures.max_abs_error, figures.error_pct


def plain_root(scratch: Path, label: str, layout: ModelLayout) -> Path:
    """Where ezkl_side builds a side's files."""
    return scratch / f"{label.replace(' ', '-').replace('=', '')}-{layout.name}"


def ezkl_side(layout: ModelLayout, scratch: Path, label: str, repeats: int,
              run_args: dict[str, Any] | None = None,
              calibration: dict[str, Any] | None = None, rpc_url: str | None = None,
              batch: int = 1, salted: bool = False) -> Side:
    """The whole plain-ezkl pipeline on layout's exported ONNX, each step in its own process;
    batch rows in one input, as a user proving several at once with plain ezkl would. Salted:
    on zkml's circuit graph of one subject instead, with its input followed by blinders."""
    from zkml import subjects

    root = plain_root(scratch, label, layout)
    plain = ModelLayout(root)  # the same file names as zkml's, written by ezkl's calls
    root.mkdir(parents=True, exist_ok=True)
    exported = ExportedModel.load(layout)
    if salted:
        subjects.write_circuit_graph(layout.onnx, plain.onnx, exported.signature, 1, True)
        calibration_data = subjects.calibration_data(exported.calibration, 1, True,
                                                     exported.signature)
    else:
        shutil.copy2(layout.onnx, plain.onnx)
        rows = exported.calibration[: len(exported.calibration) // batch * batch]
        calibration_data = exported.signature.ezkl_data(rows)  # whole inputs of batch rows
    plain.calibration_data.write_text(json.dumps(calibration_data))
    ScratchLayout(root).input.write_text(json.dumps(_input(exported.holdout[:batch], salted,
                                                             exported)))
    args = {**PLAIN_RUN_ARGS, "variables": [("batch", batch)], **(run_args or {})}
    if salted:
        args = {**args, "input_visibility": "polycommit", "variables": []}
    steps = {"compile": step("ezkl_settings", root=root, run_args=args,
                             calibration=calibration or {})}
    compiled = step("ezkl_compile", root=root)
    steps["compile"] = Measured(steps["compile"].seconds + compiled.seconds,
                                steps["compile"].wall_seconds + compiled.wall_seconds,
                                max(steps["compile"].peak_mb, compiled.peak_mb),
                                (steps["compile"].cpu_seconds or 0) +
                                (compiled.cpu_seconds or 0))
    settings = json.loads(plain.settings.read_text())
    logrows = settings["run_args"]["logrows"]
    srs = root / f"kzg{logrows}.srs"
    steps["srs"] = step("ezkl_srs", root=root, srs=srs, logrows=logrows)
    steps["setup"] = step("ezkl_setup", root=root, srs=srs)
    steps["witness"] = step("ezkl_witness", repeats, root=root, srs=srs)
    steps["prove_only"] = step("ezkl_prove_only", repeats, root=root, srs=srs)
    steps["prove"] = step("ezkl_prove", repeats, root=root, srs=srs)
    steps["verify"] = step("ezkl_verify", repeats, root=root, srs=srs)
    steps["whole_prove"] = whole_process_prove(root, srs, repeats)
    agreement, error, pct = _fidelity(root, exported, settings["model_output_scales"][0], batch,
                                      salted=salted)
    side = Side(label, logrows, settings["num_rows"], plain.pk.stat().st_size,
                plain.vk.stat().st_size, len(json.loads(plain.proof.read_text())["proof"]),
                steps, agreement, error, pct, **layout_figures(settings))
    if rpc_url:
        side.verify_gas, side.verifier_bytes = onchain_verify(root, srs, rpc_url)
    return side


WHOLE_PROVE = """
import sys, ezkl
root, srs = sys.argv[1], sys.argv[2]
ezkl.gen_witness(f"{root}/input.json", f"{root}/model.compiled", f"{root}/witness.json")
ezkl.prove(f"{root}/witness.json", f"{root}/model.compiled", f"{root}/pk.key",
           f"{root}/proof.json", srs_path=srs)
"""


def whole_process_prove(root: Path, srs: Path, repeats: int) -> Measured:
    """A user's script that proves one input with ezkl: interpreter, import, witness, prove."""
    import statistics
    import sys

    runs = [measure([sys.executable, "-c", WHOLE_PROVE, str(root), str(srs)])[0]
            for _ in range(repeats)]
    wall = statistics.median(r.wall_seconds for r in runs)
    return Measured(wall, wall, max(r.peak_mb for r in runs))


def onchain_verify(root: Path, srs: Path, rpc_url: str) -> tuple[int, int]:
    """The gas of a verifyProof transaction on ezkl's verifier for these keys, and its size."""
    from zkml.evm import rpc
    from zkml.evm.solc import compile_sources
    from zkml.evm.verifier import calldata, encode_verify_call

    plain = ModelLayout(root)
    step("ezkl_verifier", root=root, srs=srs)
    build = compile_sources({plain.verifier_sol.name: plain.verifier_sol})["Halo2Verifier"]
    chain = rpc.connect(rpc_url)
    address, _ = rpc.deploy(chain, build)
    receipt = rpc.send(chain, {"to": address,
                               "data": encode_verify_call(calldata(plain.proof))})
    return int(receipt["gasUsed"]), int(build["runtime_size"])
