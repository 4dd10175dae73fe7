"""Choosing circuit settings: cheap figures first; keys and timed proofs only for the best few.

A candidate's cheap figures come from calibrating and compiling it and running its circuit on
held-out samples (a witness each, no keys): logrows, rows, agreement with the float model and
error. They take a second or two. Keys and timed proofs cost far more, so `search` makes them
only for the SHORTLIST best candidates by those figures.

Plain `compile` runs a smaller cheap search, the scale ladder: the fixed-point scale decides how
large nonlinearities' lookup tables are (a Sigmoid at scale 11 spans tens of thousands of rows)
and how many rescaling rows the model needs. It tries scales 12 and 8; 10 when 8 made the
circuit smaller (10 may do as well, with more precision); and when lookup tables, not the
model's rows, still set logrows at 8, the largest scales whose tables fit the rows (the table
doubles per bit of scale). It keeps the smallest circuit, and the highest scale (the least
error) among equally small ones.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml import circuit
from zkml.circuit import CircuitOptions, CircuitSettings, FidelityReport
from zkml.errors import CircuitError, InputError
from zkml.export import ExportedModel
from zkml.layout import ModelLayout, atomic_path, read_json, write_json
from zkml.progress import Progress, ProgressHook, ignore
from zkml.results import to_json

log = logging.getLogger("zkml")
PREFERRED_AGREEMENT = 0.99  # among candidates this accurate, the smallest circuit wins
DECOMPOSITIONS = [(256, 4)]  # 16384^2 costs logrows, 1024^3 and 64^5 gained nothing measured
INNER_COLUMNS = [1, 2]
SEARCH_SCALES: list[int | None] = [None, 10, 8, 6]  # None: the scale ladder's choice
SHORTLIST = 3  # candidates that get keys and timed proofs
PROVE_REPEATS = 3
GOALS = {
    "time": ("prove_seconds", "the fastest proof"),
    "size": ("pk_bytes", "the smallest proving key"),
    "accuracy": ("max_abs_error", "the smallest error against the float model"),
}


@dataclass
class Candidate:
    options: CircuitOptions
    logrows: int | None = None
    num_rows: int | None = None
    agreement: float | None = None
    max_abs_error: float | None = None
    lookup_width: int | None = None  # the span of the nonlinearities' lookup tables
    cheap_seconds: float | None = None  # calibrate + compile + fidelity
    pk_bytes: int | None = None  # measured for the shortlist only
    prove_seconds: float | None = None  # measured for the shortlist only
    rejected: str | None = None  # why it cannot be used


def _usable(candidates: list[Candidate], options: CircuitOptions) -> list[Candidate]:
    """Candidates that keep the bound; the PREFERRED_AGREEMENT ones if there are any."""
    usable = [c for c in candidates if c.rejected is None and c.agreement is not None
              and c.agreement >= options.min_agreement]
    preferred = [c for c in usable if c.agreement is not None
                 and c.agreement >= PREFERRED_AGREEMENT]
    return preferred or usable


def _cheap_rank(candidate: Candidate) -> tuple[int, int, float]:
    """Smaller circuits first; at the same logrows fewer rows, then less error."""
    return (candidate.logrows or 99, candidate.num_rows or 1 << 30,
            candidate.max_abs_error or math.inf)


def _build(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions) -> Candidate:
    """Calibrate, compile and check one candidate in layout; never raises for a bad candidate."""
    start = time.perf_counter()
    candidate = Candidate(options)
    try:
        report = circuit.build(layout, exported, options)
    except (CircuitError, InputError) as exc:  # e.g. held-out data outside its range
        candidate.rejected = exc.message
        return candidate
    candidate.logrows, candidate.num_rows = report.logrows, report.num_rows
    low, high = CircuitSettings.load(layout).lookup_range
    candidate.lookup_width = high - low
    candidate.agreement, candidate.max_abs_error = report.agreement, report.max_abs_error
    candidate.cheap_seconds = round(time.perf_counter() - start, 3)
    if report.agreement < options.min_agreement:
        candidate.rejected = (f"agreement {report.agreement:.1%} below the bound "
                              f"{options.min_agreement:.0%}")
    elif report.lookup_overflows:
        candidate.rejected = f"{report.lookup_overflows} held-out samples overflow a lookup"
    elif report.input_overflows:
        candidate.rejected = f"{report.input_overflows} held-out samples exceed the input range"
    return candidate


def scale_ladder(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
                 progress: ProgressHook = ignore) -> tuple[CircuitOptions, str]:
    """Build scales from LADDER (see the module's docstring) in scratch copies; leave layout
    compiled with the chosen one and say why."""
    tried: list[Candidate] = []
    scale_of: dict[int, int] = {}  # id(candidate) -> its scale
    folder_of: dict[int, ModelLayout] = {}
    with tempfile.TemporaryDirectory(prefix="zkml-ladder-") as scratch:

        def attempt(scale: int, rebase: tuple[int, ...] | None = None) -> Candidate:
            progress(Progress("compile", f"trying scale {scale}"
                              + (f", rescaling x{rebase[0]}" if rebase else "")))
            trial = _trial(layout, Path(scratch), len(tried))
            candidate = _build(trial, exported, dataclasses.replace(
                options, calibration_scales=(scale,), scale_rebase_multiplier=rebase))
            tried.append(candidate)
            scale_of[id(candidate)], folder_of[id(candidate)] = scale, trial
            return candidate

        high, low = attempt(12), attempt(8)
        rows_need = math.ceil(math.log2((low.num_rows or 1) + 8))
        if (low.logrows is not None and high.logrows is not None and low.logrows < high.logrows
                and low.logrows <= rows_need):
            attempt(10)  # 8 made the circuit smaller; 10 may do as well with more precision
        elif low.logrows is not None and low.logrows > rows_need:
            # lookup tables set logrows: they double per bit of scale, so measure their width
            # once (without rescaling multipliers, which would move them to a higher scale)
            # and try the largest scale whose table fits rows_need, then one and two rows more
            probe = attempt(8, rebase=(1,))
            for k in range(rows_need, rows_need + 3):
                if not probe.lookup_width:
                    break
                scale = 8 + math.floor(math.log2((2**k - 9) / probe.lookup_width))
                if not 1 <= scale < 8:
                    continue
                fit = attempt(scale, rebase=(1,))
                if fit.rejected is None and (fit.agreement or 0) >= PREFERRED_AGREEMENT:
                    break
        usable = _usable(tried, options)
        if not usable:
            best = max((c for c in tried if c.agreement is not None),
                       key=lambda c: c.agreement or 0.0, default=None)
            if best is None:
                raise CircuitError("no scale tried gives a circuit that runs the held-out "
                                   f"samples: {tried[0].rejected}")
            _adopt(folder_of[id(best)], layout)
            circuit.check_fidelity(layout, FidelityReport.load(layout), options)  # raises
        chosen = min(usable, key=lambda c: (_cheap_rank(c)[:2], -scale_of[id(c)]))
        _adopt(folder_of[id(chosen)], layout)
    steps = ", ".join(f"scale {scale_of[id(c)]}: "
                      + (f"logrows {c.logrows}, agreement {c.agreement:.0%}" if c.logrows
                         else "rejected") for c in tried)
    return chosen.options, f"scale {scale_of[id(chosen)]} ({steps})"


# ------------------------------------------------------------------------------ layout

# range checks as 256^4 (a 256-row table) or 16384^2 (half the cells per check, but a table
# that needs logrows >= 15): the second pays only for circuits far larger than its table
LAYOUT_DECOMPOSITIONS = [(256, 4), (16384, 2)]
LAYOUT_COLUMNS = (1, 2, 3, 4)
LAYOUT_TRIALS = 3  # layouts whose rows are measured, cheapest estimate first


def _logrows_for(rows: float) -> int:
    return math.ceil(math.log2(rows + 8))


def choose_layout(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
                  progress: ProgressHook = ignore) -> tuple[CircuitOptions, str]:
    """The layout (inner columns, range-check decomposition) with the least proving work, for
    a circuit layout already holds (built with one column and 256^4). Every column spans all
    2^logrows rows, so the work is about columns x 2^logrows: more columns pay when they take a
    logrow off, and at equal work fewer columns win (fewer commitments: less verifier gas).

    Rows at c columns are at least rows(1) / c (regions pack less than that at their edges),
    so layouts are measured in order of that estimate until no estimate can beat the best."""
    settings = CircuitSettings.load(layout)
    current = (options.decomp_base, options.decomp_legs)
    if settings.logrows > _logrows_for(settings.num_rows):
        return options, (f"1 inner column: lookup tables, not rows, set logrows "
                         f"{settings.logrows}")
    with tempfile.TemporaryDirectory(prefix="zkml-layout-") as scratch:
        trials: list[ModelLayout] = []

        def measure(decomposition: tuple[int, int], cols: int) -> CircuitSettings | None:
            progress(Progress("compile", f"measuring {cols} inner column(s), range checks as "
                              f"{decomposition[0]}^{decomposition[1]}"))
            trials.append(_trial(layout, Path(scratch), len(trials)))
            try:
                circuit.make_settings(trials[-1], exported, dataclasses.replace(
                    options, decomp_base=decomposition[0], decomp_legs=decomposition[1],
                    num_inner_cols=cols))
            except CircuitError as exc:
                log.info("layout %s, %d columns: %s", decomposition, cols, exc.message)
                return None
            return CircuitSettings.load(trials[-1])

        rows_at_one = {current: settings.num_rows}
        logrows = {(current, 1): settings.logrows}  # of the layouts measured
        for decomposition in LAYOUT_DECOMPOSITIONS:
            if decomposition not in rows_at_one and \
                    _logrows_for(decomposition[0]) < settings.logrows:
                measured = measure(decomposition, 1)
                if measured is not None:
                    rows_at_one[decomposition] = measured.num_rows
                    logrows[(decomposition, 1)] = measured.logrows

        def estimate(decomposition: tuple[int, int], cols: int) -> int:
            return cols * 2**max(_logrows_for(rows_at_one[decomposition] / cols),
                                 _logrows_for(decomposition[0]))

        order = sorted(((d, c) for d in rows_at_one for c in LAYOUT_COLUMNS),
                       key=lambda dc: (estimate(*dc), dc[1], dc[0] != current))
        best_cost, best = 2**settings.logrows, None
        for decomposition, cols in order[:LAYOUT_TRIALS + 1]:
            if estimate(decomposition, cols) >= best_cost:
                break
            if (decomposition, cols) not in logrows:
                measured = measure(decomposition, cols)
                if measured is None:
                    continue
                logrows[(decomposition, cols)] = measured.logrows
            if cols * 2**logrows[(decomposition, cols)] < best_cost:
                best_cost, best = cols * 2**logrows[(decomposition, cols)], (decomposition, cols)
        if best is None:
            return options, (f"1 inner column, range checks as {current[0]}^{current[1]} "
                             f"(the least work: logrows {settings.logrows})")
        (base, legs), cols = best
        progress(Progress("compile", f"building {cols} inner columns, range checks as "
                          f"{base}^{legs}"))
        chosen = dataclasses.replace(options, decomp_base=base, decomp_legs=legs,
                                     num_inner_cols=cols)
        trial = _trial(layout, Path(scratch), len(trials))
        candidate = _build(trial, exported, chosen)
        if candidate.rejected or candidate.logrows is None:
            return options, (f"1 inner column (logrows {settings.logrows}); {cols} columns with "
                             f"{base}^{legs}: {candidate.rejected}")
        _adopt(trial, layout)
    return chosen, (f"{cols} inner columns, range checks as {base}^{legs}: logrows "
                    f"{candidate.logrows} instead of {settings.logrows} with 1 column")


def _adopt(trial: ModelLayout, layout: ModelLayout) -> None:
    """A candidate's compile outputs into the model folder, each file atomically."""
    for name in ("circuit_onnx", "settings", "calibration_data", "compiled", "fidelity"):
        source: Path = getattr(trial, name)
        with atomic_path(getattr(layout, name), private=name == "calibration_data") as tmp:
            shutil.copyfile(source, tmp)


# ------------------------------------------------------------------------------ --optimize


def _trial(layout: ModelLayout, scratch: Path, index: int) -> ModelLayout:
    """A scratch copy of the model folder's export, for one candidate."""
    trial = ModelLayout(scratch / f"{index:02d}" / layout.name)
    trial.root.mkdir(parents=True)
    for path in (layout.onnx, layout.samples, layout.export_report):
        shutil.copy2(path, trial.root / path.name)
    return trial


def _timed(trial: ModelLayout, candidate: Candidate) -> None:
    """Keys and timed proofs (median of PROVE_REPEATS, once for a slow one)."""
    from zkml import keys, proof
    from zkml.subjects import groups

    keys.setup(trial)
    candidate.pk_bytes = trial.pk.stat().st_size
    rows = groups(ExportedModel.load(trial).holdout, CircuitSettings.load(trial).subjects)[0]
    times: list[float] = []
    while len(times) < (PROVE_REPEATS if not times or times[0] < 1 else 1):
        times.append(proof.prove(trial, rows, trial.bench_proof).seconds)
    candidate.prove_seconds = statistics.median(times)


def grid(base: CircuitOptions) -> list[CircuitOptions]:
    return [dataclasses.replace(base, decomp_base=b, decomp_legs=legs, num_inner_cols=cols,
                                calibration_scales=None if scale is None else (scale,))
            for b, legs in DECOMPOSITIONS for cols in INNER_COLUMNS for scale in SEARCH_SCALES]


def search(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
           progress: ProgressHook = ignore, candidates_to_try: list[CircuitOptions] | None = None,
           ) -> tuple[CircuitOptions, list[Candidate], str]:
    """Every candidate's cheap figures; keys and timed proofs for the SHORTLIST best; the best
    for goal, every candidate and the reason."""
    metric, wording = GOALS[goal]
    base = base or CircuitOptions()
    layout.require(layout.onnx, layout.samples, stage="export")
    exported = ExportedModel.load(layout)
    circuit.probe(layout, exported, base)  # unsupported ops, a broken batch axis: first
    trials = candidates_to_try or grid(base)
    candidates: list[Candidate] = []
    with tempfile.TemporaryDirectory(prefix="zkml-optimize-") as scratch:
        folders = []
        for i, options in enumerate(trials):
            progress(Progress("optimize", f"cheap figures: {options.describe()}", i, len(trials)))
            folders.append(_trial(layout, Path(scratch), i))
            if options.calibration_scales is None and options.calibration_target == "resources":
                try:
                    chosen, _ = scale_ladder(folders[-1], exported, options)
                except CircuitError as exc:
                    candidates.append(Candidate(options, rejected=exc.message))
                    continue
                candidates.append(_build(folders[-1], exported, chosen))
            else:
                candidates.append(_build(folders[-1], exported, options))
        usable = _usable(candidates, base)
        if not usable:
            raise CircuitError(
                f"no candidate settings keep agreement >= {base.min_agreement:.0%}",
                hint="lower --min-agreement or calibrate with --target accuracy",
            )
        if goal == "accuracy":
            best = min(usable, key=lambda c: (c.max_abs_error or math.inf, _cheap_rank(c)))
        else:
            shortlist = sorted(usable, key=_cheap_rank)[:SHORTLIST]
            for c in shortlist:
                progress(Progress("optimize", f"keys and timed proofs: {c.options.describe()}"))
                _timed(folders[candidates.index(c)], c)
            best_value = min(getattr(c, metric) for c in shortlist)
            close = [c for c in shortlist if getattr(c, metric) <= best_value * 1.05]
            best = min(close, key=lambda c: (c.max_abs_error or math.inf, getattr(c, metric)))
    timed = sum(c.prove_seconds is not None for c in candidates)
    reason = (
        f"{wording} among {len(usable)} of {len(candidates)} candidates that keep agreement >= "
        f"{base.min_agreement:.0%} ({timed} shortlisted by logrows and rows, then timed): "
        f"{best.options.describe()}, logrows {best.logrows}"
        + (f", prove {best.prove_seconds:.2f} s" if best.prove_seconds is not None else "")
        + (f", proving key {best.pk_bytes / 1e6:.1f} MB" if best.pk_bytes is not None else "")
        + f", max |error| {best.max_abs_error:.2e}"
    )
    return best.options, candidates, reason


def optimize(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
             force: bool = False, progress: ProgressHook = ignore) -> Any:
    """Search (cached like any stage), record the choice and why in optimize.json, then
    compile with the winner."""
    from zkml import pipeline

    base = base or CircuitOptions()

    def work() -> None:
        chosen, candidates, reason = search(layout, goal, base, progress)
        write_json(layout.optimize_report, {
            "goal": goal,
            "chosen": dataclasses.asdict(chosen),
            "reason": reason,
            "candidates": [to_json(c) for c in candidates],
        })

    searched = pipeline.cached_stage(
        layout, "optimize", [layout.onnx, layout.samples],
        {"goal": goal, **base.as_dict()}, [layout.optimize_report], work, force,
    )
    report = read_json(layout.optimize_report, "optimize report")
    result = pipeline.compile_model(layout, CircuitOptions(**report["chosen"]), force)
    result.seconds += searched.seconds
    result.search = report["reason"]
    if searched.cached:
        log.info("settings search cached: %s", report["reason"])
    return result

