"""`zkml compile --optimize`: search a small grid of circuit settings, keep the fidelity bound.

ezkl's calibrated defaults are far from the fastest settings (the default 16384^2 range-check
decomposition alone costs 4 logrows on the bundled MLP), so each candidate is built for real:
calibrated, compiled, checked for fidelity on held-out data, given keys, and timed proving.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml import pipeline, proof
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.errors import CircuitError, ZkmlError
from zkml.export import ExportedModel
from zkml.layout import ModelLayout, read_json, write_json

DECOMPOSITIONS = [(16384, 2), (1024, 3), (256, 4), (64, 5)]
INNER_COLUMNS = [1, 2]
SCALES = [8, 9, 10, 11]  # second round: single fixed-point scales on the first round's best
SECOND_ROUND_BASES = 2  # how many of the first round's best get the second round
GOALS = {
    "time": ("prove_seconds", "the fastest proof"),
    "size": ("pk_bytes", "the smallest proving key"),
    "accuracy": ("max_abs_error", "the smallest error against the float model"),
}
PROVE_REPEATS = 3


@dataclass
class Candidate:
    options: CircuitOptions
    logrows: int | None = None
    num_rows: int | None = None
    argmax_agreement: float | None = None
    max_abs_error: float | None = None
    pk_bytes: int | None = None
    prove_seconds: float | None = None
    rejected: str | None = None  # why it cannot be used

    def as_dict(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        row["options"] = {k: row["options"][k] for k in (
            "decomp_base", "decomp_legs", "num_inner_cols", "calibration_target",
            "calibration_scales")}
        return row


def grid(base: CircuitOptions, goal: str, decompositions: list[tuple[int, int]] | None = None,
         inner_columns: list[int] | None = None) -> list[CircuitOptions]:
    """Decompositions x inner columns; for accuracy also ezkl's accuracy calibration (scales)."""
    decompositions = decompositions or DECOMPOSITIONS
    inner_columns = inner_columns or INNER_COLUMNS
    targets = ["resources", "accuracy"] if goal == "accuracy" else [base.calibration_target]
    return [dataclasses.replace(base, decomp_base=b, decomp_legs=legs, num_inner_cols=cols,
                                calibration_target=target)
            for target in targets for b, legs in decompositions for cols in inner_columns]


def evaluate(layout: ModelLayout, options: CircuitOptions, scratch: Path) -> Candidate:
    """Build one candidate in a scratch copy of the model folder and measure it."""
    trial = ModelLayout(scratch / layout.name)
    if trial.root.exists():
        shutil.rmtree(trial.root)
    trial.root.mkdir(parents=True)
    for path in (layout.onnx, layout.samples):
        shutil.copy2(path, trial.root / path.name)
    candidate = Candidate(options)
    try:
        pipeline.compile_model(trial, options, force=True)
    except ZkmlError as exc:  # below the fidelity bound, or held-out data out of its range
        candidate.rejected = exc.message
        fidelity = read_json(trial.fidelity, "fidelity") if trial.fidelity.exists() else None
        if fidelity:
            candidate.argmax_agreement = fidelity["outputs"][0]["agreement"]
        return candidate
    settings = CircuitSettings.load(trial)
    fidelity = read_json(trial.fidelity, "fidelity")["outputs"]
    candidate.logrows, candidate.num_rows = settings.logrows, settings.num_rows
    candidate.argmax_agreement = min(o["agreement"] for o in fidelity)
    candidate.max_abs_error = max(o["max_abs_error"] for o in fidelity)
    pipeline.setup_keys(trial)
    candidate.pk_bytes = trial.pk.stat().st_size
    sample = ExportedModel.load(trial).holdout[0]
    times: list[float] = []
    while len(times) < (PROVE_REPEATS if not times or times[0] < 1 else 1):  # slow ones: once
        start = time.perf_counter()
        proof.prove(trial, sample, trial.proof)
        times.append(time.perf_counter() - start)
    candidate.prove_seconds = statistics.median(times)
    return candidate


def search(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
           progress=lambda options: None, candidates_to_try: list[CircuitOptions] | None = None,
           ) -> tuple[CircuitOptions, list[Candidate], str]:
    """Try the grid, then (for time and size) single low scales on its winner; return the best
    options for goal, every candidate and the reason."""
    metric, wording = GOALS[goal]
    base = base or CircuitOptions()
    layout.require(layout.onnx, layout.samples, stage="export")
    candidates: list[Candidate] = []

    def round_of(trials: list[CircuitOptions]) -> Candidate:
        for options in trials:
            progress(options)
            candidates.append(evaluate(layout, options, Path(scratch)))
        return _best(candidates, metric, base)

    with tempfile.TemporaryDirectory(prefix="zkml-optimize-") as scratch:
        best = round_of(candidates_to_try or grid(base, goal))
        if candidates_to_try is None and goal != "accuracy":
            # first-round times are close and noisy: give the scale round to more than one
            leaders = sorted((c for c in candidates if c.rejected is None),
                             key=lambda c: getattr(c, metric))[:SECOND_ROUND_BASES]
            best = round_of([dataclasses.replace(c.options, calibration_scales=(scale,))
                             for c in leaders for scale in SCALES])
    usable = sum(c.rejected is None for c in candidates)
    reason = (
        f"{wording} among {usable} of {len(candidates)} candidates that keep argmax "
        f"agreement >= {base.min_agreement:.0%} on held-out data: {best.options.describe()}, "
        f"logrows {best.logrows}, prove {best.prove_seconds:.2f} s, "
        f"proving key {best.pk_bytes / 1e6:.1f} MB, max |error| {best.max_abs_error:.2e}"
    )
    return best.options, candidates, reason


def _best(candidates: list[Candidate], metric: str, base: CircuitOptions) -> Candidate:
    """The best usable candidate; ties (within 5 %) go to the more accurate one."""
    usable = [c for c in candidates if c.rejected is None]
    if not usable:
        raise CircuitError(
            f"no candidate settings keep argmax agreement >= {base.min_agreement:.0%}",
            hint="lower --min-agreement or calibrate with --target accuracy",
        )
    best_value = min(getattr(c, metric) for c in usable)
    close = [c for c in usable if getattr(c, metric) <= best_value * 1.05]
    return min(close, key=lambda c: (c.max_abs_error, getattr(c, metric)))


def optimize(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
             force: bool = False, progress=lambda options: None) -> pipeline.StageResult:
    """Search (cached like any stage), record the choice and why in optimize.json, then
    compile with the winner."""
    base = base or CircuitOptions()

    def work() -> dict[str, Any]:
        chosen, candidates, reason = search(layout, goal, base, progress)
        write_json(layout.optimize_report, {
            "goal": goal,
            "chosen": dataclasses.asdict(chosen),
            "reason": reason,
            "candidates": [c.as_dict() for c in candidates],
        })
        return {}

    searched = pipeline.cached_stage(
        layout, "optimize", [layout.onnx, layout.samples],
        {"goal": goal, **base.as_dict()}, [layout.optimize_report], work, force,
    )
    report = read_json(layout.optimize_report, "optimize report")
    result = pipeline.compile_model(layout, CircuitOptions(**report["chosen"]), force)
    result.seconds += searched.seconds
    result.details["optimize"] = {"goal": goal, "reason": report["reason"],
                                  "search_cached": searched.cached}
    return result
