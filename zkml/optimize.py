"""Choosing circuit settings: the least proving work inside the error budget.

A candidate's cheap figures come from calibrating and compiling it and running its circuit on
held-out samples (a witness each, no keys): logrows, rows and its error against the float model,
per output, measured against the budget (zkml.fidelity). They take a second or two. Keys and
timed proofs cost far more, so `search` makes them only for the SHORTLIST best candidates.

Plain `compile` runs a smaller cheap search, the scale ladder. The fixed-point scale (bits after
the point) sets the error, how large nonlinearities' lookup tables are (a Sigmoid's table
doubles per bit) and so, for lookup-heavy models, logrows. Proving work is about columns x
2^logrows, so the ladder looks for the fewest logrows inside the budget and, at equal logrows,
the least error:
- scales 12 and 8, with rescaling multipliers 1, 2 or 10 (ezkl keeps the fewest rows);
- when both need the same logrows (scale costs no rows): 14 too, for less error at that work;
- when 8 made the circuit smaller (12 needs rescaling rows, or its values overflow without
  them): the highest scale in between at 8's logrows, then its parameters one bit finer than
  its inputs (ezkl calibrates the two apart);
- when lookup tables, not the model's rows, set logrows at scale 8: for each logrows from what
  the rows need upwards, the largest scale whose table fits with ezkl's 2x headroom over the
  calibration samples' range; if that misses the budget, one bit finer with the headroom
  narrowed to fit (never below the calibration range itself, and every held-out sample must
  still fit). The first logrows with a setting inside the budget wins;
- when nothing met the budget, higher scales (14, 16, 18) until one does.
A scale known to miss the budget is not tried again, nor any coarser one (errors shrink as
scales grow, whatever the tables' size). ezkl's other levers do not pay for lookups: a finer
parameter scale moves the activations to it (ezkl rescales to the larger of the two), and a
rescaling multiplier above 1 leaves a nonlinearity's input at a multiple of the scale (a far
taller table). Lookup tables split over several columns (`max_logrows`) are tried by
`--optimize`, which times them: they add lookup arguments of a higher degree, which the cheap
figures cannot price.
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

from zkml import circuit, fidelity
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.errors import CircuitError, InputError
from zkml.export import ExportedModel
from zkml.fidelity import FidelityReport
from zkml.layout import ModelLayout, atomic_path, read_json
from zkml.progress import Progress, ProgressHook, ignore

log = logging.getLogger("zkml")
HIGH_SCALE, LOW_SCALE, FINER_SCALE = 12, 8, 14
REBASE = (1, 2, 10)  # rescaling multipliers calibration chooses from (ezkl's are 1 and 10)
HIGHER_SCALES = (14, 16, 18)  # when no scale of the ladder meets the budget
MIN_LOOKUP_MARGIN = 1.0  # lookup tables always cover the calibration samples' range
TABLE_FIT = 0.98  # slack when narrowing a table to fit (ezkl rounds its bounds outwards)
INNER_COLUMNS = [1, 2]
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
    error_pct: float | None = None  # the worst output's max |error|, % of its spread
    excess: float | None = None  # the worst output's max |error| / its budget (<= 1: inside)
    scales: tuple[int, int, int] | None = None  # the input and parameter scales and the
    # rescaling multiplier calibration chose
    lookup_width: int | None = None  # the span of the nonlinearities' lookup tables
    cheap_seconds: float | None = None  # calibrate + compile + fidelity
    pk_bytes: int | None = None  # measured for the shortlist only
    prove_seconds: float | None = None  # measured for the shortlist only
    rejected: str | None = None  # why it cannot be used: outside the budget, or cannot run
    outside_budget: bool = False  # rejected for its error or agreement (not an overflow)

    @property
    def work(self) -> int:
        """Proving work, about columns x 2^logrows (the layout pass's measure)."""
        return (self.options.num_inner_cols or 1) * 2 ** (self.logrows or 99)

    def label(self) -> str:
        o = self.options
        text = "calibrated scales" if o.calibration_scales is None else \
            f"scale {','.join(map(str, o.calibration_scales))}"
        if self.scales is not None:
            text = (f"scale {self.scales[0]}" if self.scales[0] == self.scales[1] else
                    f"input scale {self.scales[0]}, parameter scale {self.scales[1]}")
        if o.lookup_margin is not None:
            text += f" (lookup margin {o.lookup_margin:.2f})"
        if o.max_logrows is not None:
            text += f" (tables split to logrows {o.max_logrows})"
        return text + (f", logrows {self.logrows}" if self.logrows else "")


def _rank(candidate: Candidate) -> tuple[int, float]:
    """Less proving work first; at equal work, less error."""
    return candidate.work, candidate.excess if candidate.excess is not None else math.inf


def build(layout: ModelLayout, exported: ExportedModel,
          options: CircuitOptions) -> FidelityReport:
    """Settings, calibration, compiled circuit and fidelity report, for these options as they
    are (nothing checked against the budget: see fidelity.check)."""
    circuit.make_settings(layout, exported, options)
    circuit.compile_circuit(layout)
    return fidelity.measure(layout, exported, options)


def _build(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions) -> Candidate:
    """Calibrate, compile and check one candidate in layout; never raises for a bad candidate."""
    start = time.perf_counter()
    candidate = Candidate(options)
    try:
        report = build(layout, exported, options)
    except (CircuitError, InputError) as exc:  # e.g. held-out data outside its range
        candidate.rejected = exc.message
        return candidate
    candidate.logrows, candidate.num_rows = report.logrows, report.num_rows
    settings = CircuitSettings.load(layout)
    low, high = settings.lookup_range
    candidate.lookup_width = high - low
    args = read_json(layout.settings, "settings")["run_args"]
    candidate.scales = (args["input_scale"], args["param_scale"],
                        args["scale_rebase_multiplier"])
    candidate.agreement, candidate.max_abs_error = report.agreement, report.max_abs_error
    candidate.error_pct = max(o.error_pct for o in report.outputs)
    candidate.excess = report.excess
    candidate.cheap_seconds = round(time.perf_counter() - start, 3)
    candidate.rejected = report.problem()
    candidate.outside_budget = candidate.rejected is not None and not (
        report.lookup_overflows or report.input_overflows)
    return candidate


def _nothing_fits(tried: list[Candidate], folders: dict[int, ModelLayout]) -> CircuitError:
    """One line: the output that misses, by how much, at the closest setting tried, and the
    fastest setting tried."""
    measured = [c for c in tried if c.excess is not None]
    if not measured:
        return CircuitError("no setting tried gives a circuit that runs the held-out samples: "
                            f"{tried[0].rejected}")
    closest = min(measured, key=lambda c: (c.excess or math.inf, c.work))
    fastest = min(measured, key=lambda c: (c.work, c.excess or math.inf))
    report = FidelityReport.load(folders[id(closest)])
    worst = report.worst
    what = (f"{closest.rejected}" if worst.within_budget else
            f"output {worst.output} misses it by {worst.max_abs_error / worst.budget:.3g}x "
            f"(max |error| {worst.max_abs_error:.3g}, {worst.error_pct:.3g} % of its spread "
            f"{worst.spread:.3g}; budget {worst.budget:.3g}, {worst.budget_pct:.3g} %)")
    also = "" if fastest is closest else (
        f"; the fastest tried, {fastest.label()}, has max |error| "
        f"{fastest.max_abs_error:.3g} ({fastest.error_pct:.3g} % of the spread)")
    return fidelity.BudgetExceeded(
        f"no setting meets the error budget: {what} at the closest setting tried, "
        f"{closest.label()}{also}", report, hint=fidelity.BUDGET_HINT)


def scale_ladder(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
                 progress: ProgressHook = ignore) -> tuple[Candidate, str]:
    """Build the ladder's settings (see the module's docstring) in scratch copies; leave layout
    compiled with the least work inside the budget and say why. Raises CircuitError when no
    setting tried meets the budget."""
    tried: list[Candidate] = []
    folder_of: dict[int, ModelLayout] = {}
    with tempfile.TemporaryDirectory(prefix="zkml-ladder-") as scratch:

        def attempt(*scales: int, rebase: tuple[int, ...] | None = REBASE,
                    margin: float | None = None) -> Candidate:
            trial_options = dataclasses.replace(
                options, calibration_scales=scales, scale_rebase_multiplier=rebase,
                lookup_margin=margin)
            progress(Progress("compile", f"trying {Candidate(trial_options).label()}"))
            trial = _trial(layout, Path(scratch), len(tried))
            candidate = _build(trial, exported, trial_options)
            tried.append(candidate)
            folder_of[id(candidate)] = trial
            return candidate

        def fits(logrows: int) -> bool:
            return any(c.rejected is None and (c.logrows or 99) <= logrows for c in tried)

        def misses(scale: int) -> bool:
            """Whether this scale is known to miss the budget: errors shrink as scales grow
            and do not depend on the tables' size, so a miss at this scale or a finer one."""
            return any(c.outside_budget and max(c.options.calibration_scales or (0,)) >= scale
                       for c in tried)

        high, low = attempt(HIGH_SCALE), attempt(LOW_SCALE)
        rows_need = _logrows_for(low.num_rows or 1)
        if high.logrows is not None and high.logrows == low.logrows:
            attempt(FINER_SCALE)  # scale costs no rows here: at equal work, less error
        elif (low.logrows is not None and high.logrows is not None and low.logrows < high.logrows
                and low.logrows <= rows_need):
            # 8 made the circuit smaller (12 needs rescaling rows, or overflows without them):
            # the highest scale in between at 8's logrows, then its parameters one bit finer
            for scale in range(HIGH_SCALE - 2, LOW_SCALE, -1):
                if attempt(scale).logrows == low.logrows:
                    attempt(scale, scale + 1)
                    break
            else:
                attempt(LOW_SCALE, LOW_SCALE + 1)
        elif low.logrows is not None and low.logrows > rows_need:
            # lookup tables set logrows: they double per bit of scale, so measure their width
            # once (without rescaling multipliers, which would move them to a higher scale)
            probe = low if low.scales and low.scales[2] == 1 else \
                attempt(LOW_SCALE, rebase=(1,))
            width = probe.lookup_width
            for k in range(rows_need, (high.logrows or low.logrows) + 1):
                if not width or fits(k):
                    break
                room = 2**k - 9  # rows a table may fill at logrows k (ezkl keeps 9 for itself)
                scale = LOW_SCALE + math.floor(math.log2(room / width))
                # the largest scale whose table fits with ezkl's 2x margin; then one bit finer,
                # its table narrowed to fit
                margin = 2 * TABLE_FIT * room / (width * 2 ** (scale + 1 - LOW_SCALE))
                for finer, narrowed in ((scale, None), (scale + 1, round(margin, 3))):
                    if not 1 <= finer < HIGH_SCALE or misses(finer) or \
                            (narrowed is not None and narrowed < MIN_LOOKUP_MARGIN):
                        continue
                    if attempt(finer, rebase=(1,), margin=narrowed).rejected is None:
                        break
        for scale in HIGHER_SCALES:  # then higher scales, until the budget is met
            if any(c.rejected is None for c in tried):
                break
            if (scale,) not in [c.options.calibration_scales for c in tried] and \
                    attempt(scale).excess is None:
                break  # this scale no longer calibrates (values overflow)
        usable = [c for c in tried if c.rejected is None]
        if not usable:
            raise _nothing_fits(tried, folder_of)
        chosen = min(usable, key=_rank)
        _adopt(folder_of[id(chosen)], layout)
    steps = ", ".join(f"{c.label()}: " + (f"max |error| {c.error_pct:.3g} % of spread"
                                          if c.error_pct is not None else "rejected")
                      + (" (outside the budget)" if c.rejected and c.error_pct is not None
                         else "") for c in tried)
    return chosen, f"{chosen.label()}, max |error| {chosen.error_pct:.3g} % of spread ({steps})"


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


def variants(chosen: Candidate, goal: str) -> list[CircuitOptions]:
    """What --optimize tries beside the ladder's choice (which has one inner column): the other
    inner columns; where lookup tables set logrows, the tables split over columns one logrow
    lower (which only a timed proof can price); for accuracy, finer scales."""
    options = chosen.options
    found = [dataclasses.replace(options, num_inner_cols=cols) for cols in INNER_COLUMNS
             if cols != 1]
    rows_need = _logrows_for(chosen.num_rows or 1)
    if chosen.logrows is not None and chosen.logrows > rows_need:
        found.append(dataclasses.replace(options, num_inner_cols=1,
                                         max_logrows=chosen.logrows - 1))
    if goal == "accuracy" and options.calibration_scales:
        scale = max(options.calibration_scales)
        found += [dataclasses.replace(options, num_inner_cols=1, calibration_scales=(finer,),
                                      lookup_margin=None) for finer in (scale + 1, scale + 2)]
    return found


def search(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
           progress: ProgressHook = ignore, candidates_to_try: list[CircuitOptions] | None = None,
           ) -> tuple[CircuitOptions, list[Candidate], str]:
    """The ladder's choice and its variants (or candidates_to_try), each with its cheap
    figures; keys and timed proofs for the SHORTLIST least work among those inside the budget;
    the best for goal, every candidate and the reason."""
    metric, wording = GOALS[goal]
    base = base or CircuitOptions()
    layout.require(layout.onnx, layout.samples, stage="export")
    exported = ExportedModel.load(layout)
    fidelity.validate(base, exported)
    circuit.probe(layout, exported, base)  # unsupported ops, a broken batch axis: first
    candidates: list[Candidate] = []
    with tempfile.TemporaryDirectory(prefix="zkml-optimize-") as scratch:
        folders: list[ModelLayout] = []
        trials = candidates_to_try
        if trials is None:
            progress(Progress("optimize", "the scale ladder: the least work inside the budget"))
            folders.append(_trial(layout, Path(scratch), 0))
            chosen, _ = scale_ladder(folders[0], exported,
                                     dataclasses.replace(base, num_inner_cols=1))
            candidates.append(chosen)
            trials = variants(chosen, goal)
        for options in trials:
            progress(Progress("optimize", f"cheap figures: {options.describe()}",
                              len(candidates), len(candidates) + len(trials)))
            folders.append(_trial(layout, Path(scratch), len(folders)))
            candidates.append(_build(folders[-1], exported, options))
        usable = [c for c in candidates if c.rejected is None]
        if not usable:
            raise _nothing_fits(candidates, {id(c): f for c, f in zip(candidates, folders,
                                                                       strict=True)})
        if goal == "accuracy":
            best = min(usable, key=lambda c: (c.excess or 0.0, c.work))
        else:
            shortlist = sorted(usable, key=_rank)[:SHORTLIST]
            for c in shortlist:
                progress(Progress("optimize", f"keys and timed proofs: {c.options.describe()}"))
                _timed(folders[candidates.index(c)], c)
            best_value = min(getattr(c, metric) for c in shortlist)
            close = [c for c in shortlist if getattr(c, metric) <= best_value * 1.05]
            best = min(close, key=lambda c: (c.excess or 0.0, getattr(c, metric)))
    timed = sum(c.prove_seconds is not None for c in candidates)
    reason = (
        f"{wording} among {len(usable)} of {len(candidates)} candidates inside the error "
        f"budget ({timed} shortlisted by work, then timed): {best.options.describe()}, "
        f"logrows {best.logrows}"
        + (f", prove {best.prove_seconds:.2f} s" if best.prove_seconds is not None else "")
        + (f", proving key {best.pk_bytes / 1e6:.1f} MB" if best.pk_bytes is not None else "")
        + f", max |error| {best.max_abs_error:.2e} ({best.error_pct:.3g} % of spread)"
    )
    return best.options, candidates, reason
