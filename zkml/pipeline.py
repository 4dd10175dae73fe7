"""The cached stages: export -> compile (this module) -> setup (zkml.keys).

A stage whose inputs, options and outputs are unchanged does no work and says so; `force`
redoes it. Proving and verifying (zkml.proof) read what these stages leave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml import circuit, fidelity, optimize
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.export import ExportedModel
from zkml.fidelity import FidelityReport
from zkml.layout import Manifest, ModelLayout
from zkml.progress import ProgressHook, ignore
from zkml.results import StageResult

COMPILE_VERSION = 5  # bump when compiling changes for the same options (a new cache key)
# stages that read what a stage writes: redoing the stage makes theirs stale
DOWNSTREAM = {"compile": ["setup", "verifier"], "setup": ["verifier"]}


@dataclass(frozen=True)
class StageRun:
    cached: bool
    seconds: float


def cached_stage(
    layout: ModelLayout,
    stage: str,
    inputs: list[Path],
    options: dict[str, Any],
    outputs: list[Path],
    work: Callable[[], None],
    force: bool,
) -> StageRun:
    """Run work() unless the manifest shows the same inputs and options already made outputs.

    Holds the model folder's exclusive lock: no prove reads a half-replaced key meanwhile. The
    stage and the stages downstream of it are dropped from the manifest before work starts, and
    the stage is recorded only after it ends, so a stage killed midway is redone by the next
    run and nothing built on its old outputs counts as current.
    """
    with layout.lock(shared=False):
        layout.remove_stale_temporaries()
        manifest = Manifest(layout)
        key = manifest.stage_key(inputs, options)
        if not force and manifest.is_fresh(stage, key):
            return StageRun(True, 0.0)
        manifest.invalidate([stage, *DOWNSTREAM.get(stage, [])])
        manifest.save()
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        Manifest(layout).record(stage, key, outputs, seconds)
        return StageRun(False, seconds)


@dataclass(kw_only=True)
class CompileResult(StageResult):
    options: CircuitOptions
    logrows: int
    num_rows: int
    fidelity: FidelityReport
    search: str | None = None  # the settings chosen (scale ladder or --optimize) and why

    def summary(self) -> str:
        return (f"logrows {self.logrows}, {self.num_rows:,} rows; worst "
                f"{self.fidelity.worst.describe()}")


def compile_model(layout: ModelLayout, options: CircuitOptions | None = None,
                  force: bool = False, progress: ProgressHook = ignore) -> CompileResult:
    """Settings, calibration on the model's samples, compiled circuit and fidelity report: the
    least proving work inside the options' error budget (CircuitError when none is)."""
    options = options or CircuitOptions()
    layout.require(layout.onnx, layout.samples, stage="export")
    from zkml import _ezkl

    chosen: list[str] = []

    def work() -> None:
        exported = ExportedModel.load(layout)
        fidelity.validate(options, exported)
        circuit.probe(layout, exported, options)  # unsupported ops, a broken batch axis: now
        built = options
        if options.calibration_scales is None and options.calibration_target == "resources":
            candidate, why = optimize.scale_ladder(layout, exported, options, progress)
            built = candidate.options
            chosen.append(why)
        else:
            fidelity.check(layout, optimize.build(layout, exported, options))
        if options.num_inner_cols is None:
            chosen.append(optimize.choose_layout(layout, exported, built, progress)[1])
        if options.weights == "hashed":
            layout.make_private()  # the ONNX and the compiled circuit hold the private weights

    run = cached_stage(
        layout,
        "compile",
        [layout.onnx, layout.samples],
        {**options.as_dict(), "ezkl": _ezkl.ezkl_version(), "zkml": COMPILE_VERSION},
        [layout.circuit_onnx, layout.settings, layout.calibration_data, layout.compiled,
         layout.fidelity],
        work,
        force,
    )
    settings = CircuitSettings.load(layout)
    return CompileResult(stage="compile", cached=run.cached, seconds=run.seconds,
                         options=options, logrows=settings.logrows, num_rows=settings.num_rows,
                         fidelity=FidelityReport.load(layout),
                         search="; ".join(chosen) or None)
