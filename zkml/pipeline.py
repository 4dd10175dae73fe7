"""The compile stage: export -> compile (this module) -> setup (zkml.keys).

Compile builds the search's choice (zkml.optimize; with a goal, --optimize's winner) under the
stage cache (zkml.stages); proving and verifying (zkml.proof) read what the stages leave.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from zkml import circuit, fidelity, optimize, segments
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.export import ExportedModel
from zkml.fidelity import FidelityReport
from zkml.layout import ModelLayout, read_json, write_json
from zkml.progress import ProgressHook, ignore
from zkml.results import StageResult, to_json
from zkml.stages import cached_stage

log = logging.getLogger(__name__)

COMPILE_VERSION = 8  # bump when compiling changes for the same options (a new cache key)


@dataclass(kw_only=True)
class CompileResult(StageResult):
    options: CircuitOptions
    logrows: int
    num_rows: int
    fidelity: FidelityReport
    search: str | None = None  # the settings chosen (the search or --optimize) and why
    tried: list[str] = field(default_factory=list)  # the search's settings, one line each
    segments: int = 0  # circuits of a segmented model (zkml.segments); 0: one circuit

    def summary(self) -> str:
        shape = (f"{self.segments} segments of logrows {self.logrows}, {self.num_rows:,} rows "
                 "in all" if self.segments else
                 f"logrows {self.logrows}, {self.num_rows:,} rows")
        return f"{shape}; worst {self.fidelity.worst.describe()}"


def compile_model(layout: ModelLayout, options: CircuitOptions | None = None,
                  force: bool = False, progress: ProgressHook = ignore) -> CompileResult:
    """Settings, calibration on the model's samples, compiled circuit and fidelity report: the
    least proving area inside the options' error budget (CircuitError when none is), cut into
    segments when one circuit would need more than 2^max_logrows rows."""
    options = options or CircuitOptions()
    layout.require(layout.onnx, layout.samples, stage="export")
    from zkml import _ezkl

    outputs = [layout.circuit_onnx, layout.settings, layout.calibration_data, layout.compiled,
               layout.fidelity, layout.search_report]

    def segmented(exported: ExportedModel) -> None:
        chain = segments.compile_chain(layout, exported, options, progress)
        outputs[:] = [*chain.outputs, layout.search_report]  # the stage records the chain's
        write_json(layout.search_report, {"summary": chain.reason, "tried": []})

    def work() -> None:
        exported = ExportedModel.load(layout)
        fidelity.validate(options, exported)
        circuit.probe(layout, exported, options)  # unsupported ops, a broken batch axis: now
        if segments.needs_segments(layout, exported, options):
            segmented(exported)
            return
        segments.remove(layout)
        if options.calibration_target == "resources":
            write_json(layout.search_report,
                       optimize.choose(layout, exported, options, progress).as_dict())
        else:  # ezkl's own accuracy calibration, as it is
            fidelity.check(layout, optimize.build(layout, exported, options))
            write_json(layout.search_report, {"summary": None, "tried": []})
        if not segments.fits(CircuitSettings.load(layout), segments.max_logrows(options)):
            segmented(exported)  # over 2^L rows after all (lookup tables, another scale)
            return
        if options.weights == "hashed":
            layout.make_private()  # the ONNX and the compiled circuit hold the private weights

    run = cached_stage(
        layout,
        "compile",
        [layout.onnx, layout.samples],
        {**options.as_dict(), "ezkl": _ezkl.ezkl_version(), "zkml": COMPILE_VERSION},
        outputs,
        work,
        force,
    )
    settings = CircuitSettings.load(layout)
    searched = read_json(layout.search_report, "search report")
    chain = segments.chain_of(layout)
    return CompileResult(stage="compile", cached=run.cached, seconds=run.seconds,
                         options=options, logrows=settings.logrows, num_rows=settings.num_rows,
                         fidelity=FidelityReport.load(layout), search=searched.get("summary"),
                         tried=list(searched.get("tried", [])),
                         segments=len(chain.segments) if chain else 0)


def optimize_model(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
                   force: bool = False, progress: ProgressHook = ignore) -> CompileResult:
    """Search (cached like any stage), record the choice and why in optimize.json, then
    compile with the winner."""
    base = base or CircuitOptions()

    def work() -> None:
        chosen, candidates, reason = optimize.search(layout, goal, base, progress)
        write_json(layout.optimize_report, {
            "goal": goal,
            "chosen": dataclasses.asdict(chosen),
            "reason": reason,
            "candidates": [to_json(c) for c in candidates],
        })

    searched = cached_stage(
        layout, "optimize", [layout.onnx, layout.samples],
        {"goal": goal, **base.as_dict()}, [layout.optimize_report], work, force,
    )
    report = read_json(layout.optimize_report, "optimize report")
    result = compile_model(layout, CircuitOptions(**report["chosen"]), force)
    result.seconds += searched.seconds
    result.search, result.tried = report["reason"], []
    if searched.cached:
        log.info("settings search cached: %s", report["reason"])
    return result
