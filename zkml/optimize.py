"""Choosing circuit settings: the least proving area inside the error budget.

Proving costs about the circuit's area: every column spans 2^logrows rows, so the work is about
(inner columns + lookup tables) x 2^logrows: each inner column brings its advice columns, each
lookup or range-check table its own fixed and lookup-argument columns (on the credit MLP, 1
column at logrows 16 proves slower than 3 at 15, with a larger proving key). `choose` minimises
that area inside the error budget (zkml.fidelity) over:
- the fixed-point scale, bits after the point (every scale from 1 to 14; 15 to 18 only when no
  coarser one meets the budget). It sets the error, the size of nonlinearities' lookup tables (a
  Sigmoid's table doubles per bit) and the bits every value needs;
- ezkl's rescaling multiplier (1, 2 or 10): values stay at up to that multiple of the scale
  before they are divided back, so fewer divisions (rows) cost more bits. Models with lookup
  tables keep 1: a rescaled nonlinearity's table is 2^scale times taller;
- the range-check decomposition base^legs (base 2^b): it must hold every value the circuit
  decomposes (b x legs bits, HEADROOM_BITS to spare), its 2^b-row table must fit, and each leg
  costs rows. Once the logrows are known the base grows to what fits for free;
- inner columns (1 to 4): more columns, fewer rows; at equal area fewer win (less verifier gas);
- the lookup tables' margin over the calibration samples' range: ezkl's 2, or narrower (never
  below the range itself) where that fits a finer scale into the same logrows; at equal area
  ezkl's margin wins (more room for inputs unlike the samples).

Nothing is calibrated before the search knows what to try, so its cost does not grow with the
model. One pass gathers the facts (`Facts`, a second or two):
- onnxruntime on the calibration samples, every intermediate tensor an output: each tensor's
  largest |value|, and the few samples that hold every tensor's extremes (calibrating on them
  gives ezkl the ranges all the samples give, at a fraction of the cost);
- ezkl's gen_settings (a layout without values) of the circuit with every tensor an output,
  per multiplier: the scale each tensor lives at, so the bits it needs at any scale;
- gen_settings per multiplier at 1 and 4 legs: the cells at one column (linear in the legs);
- with lookup tables, one calibration at scale 8: their span, which doubles per bit of scale.
Every setting gets an estimated area from these, and settings are built in order of it (at
equal area: ezkl's margin first, then the finer scale, fewer columns, fewer legs): gen_settings
at the setting (its exact rows), calibration on the extreme samples (its exact logrows, or
values that overflow), compile, and the held-out fidelity check (stopped at the first sample
outside the budget). What a build finds corrects the estimates (rows per column, the bits values
need, the tables' span, an error that halves per bit of scale); a setting estimated at more
than ERROR_SLACK times the budget is not built. The search stops when no setting left can have
less area than the best one inside the budget: usually after the first or second build.

`--optimize` (`search`) then tries variants of the choice (other inner columns, lookup tables
split over columns, finer scales for accuracy) and gives keys and timed proofs to the SHORTLIST
least area among those inside the budget: what the cheap figures cannot price.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml import _ezkl, circuit, fidelity, subjects
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.errors import CircuitError, InputError
from zkml.export import ExportedModel
from zkml.fidelity import FidelityReport
from zkml.layout import ModelLayout, atomic_path, read_json
from zkml.progress import Progress, ProgressHook, ignore

log = logging.getLogger("zkml")
SCALES = range(1, 15)  # every scale the search tries
HIGHER_SCALES = range(15, 19)  # only when no scale of SCALES meets the budget
REBASE = (1, 2, 10)  # ezkl's rescaling multipliers; 1 alone for models with lookup tables
LEGS = (1, 2, 3, 4, 5, 6)
COLUMNS = (1, 2, 3, 4)
HEADROOM_BITS = 2  # decomposed values up to 4x the calibration samples' largest still fit
MAX_BASE_BITS = 20  # range-check tables of at most 2^20 rows
REFERENCE_SCALE = 8  # the scale facts are gathered at
RESERVED_ROWS = 9  # rows of every column ezkl keeps for itself (blinding), and one more
MIN_LOGROWS = 6  # ezkl's least
MIN_LOOKUP_MARGIN = 1.0  # lookup tables always cover the calibration samples' range
LOOKUP_MARGIN = 2.0  # ezkl's own
TABLE_FIT = 0.98  # slack when narrowing a table to fit (ezkl rounds its bounds outwards)
ERROR_SLACK = 2.0  # settings estimated past this multiple of the budget are not built
# below this area a proof takes about a second or less whatever the area, while every inner
# column adds verifier gas (digits: 2 columns at logrows 12 cost 129k gas more than 1 at 13):
# there fewer columns come first, then less area
AREA_FLOOR = 2**15
MAX_BUILDS = 12  # calibrations one search may run
INNER_COLUMNS = 1  # --optimize: variants with this many inner columns more and fewer
SHORTLIST = 3  # --optimize: candidates that get keys and timed proofs
PROVE_REPEATS = 3
GOALS = {
    "time": ("prove_seconds", "the fastest proof"),
    "size": ("pk_bytes", "the smallest proving key"),
    "accuracy": ("max_abs_error", "the smallest error against the float model"),
}


def logrows_for(rows: float) -> int:
    """The least logrows whose columns hold this many rows (or a table this tall)."""
    return max(MIN_LOGROWS, math.ceil(math.log2(rows + RESERVED_ROWS)))


# ------------------------------------------------------------------------------ candidates


@dataclass
class Candidate:
    """One setting: its estimate, and what building it measured."""

    options: CircuitOptions
    narrow: bool = False  # a lookup margin narrowed to fit the logrows (the search's)
    tables: int = 0  # lookup and range-check tables (estimated, then as ezkl lays it out)
    estimated_logrows: int | None = None
    estimated_area: int | None = None
    logrows: int | None = None
    num_rows: int | None = None
    agreement: float | None = None
    max_abs_error: float | None = None
    error_pct: float | None = None  # the worst output's max |error|, % of its spread
    excess: float | None = None  # the worst output's max |error| / its budget (<= 1: inside)
    samples: int | None = None  # held-out samples run (fewer when it left the budget early)
    scales: tuple[int, int, int] | None = None  # the input and parameter scales and the
    # rescaling multiplier calibration chose
    lookup_width: int | None = None  # the span of the nonlinearities' lookup tables
    seconds: dict[str, float] = field(default_factory=dict)  # per step: rows, calibrate, ...
    pk_bytes: int | None = None  # measured for --optimize's shortlist only
    prove_seconds: float | None = None  # measured for --optimize's shortlist only
    rejected: str | None = None  # why it cannot be used: outside the budget, or cannot run
    outside_budget: bool = False  # rejected for its error or agreement (not an overflow)
    built: bool = False  # calibrated (its logrows measured), not only estimated

    @property
    def cols(self) -> int:
        return self.options.num_inner_cols or 1

    @property
    def scale(self) -> int:
        return max(self.options.calibration_scales or (0,))

    @property
    def rebase(self) -> int:
        return max(self.options.scale_rebase_multiplier or (1,))

    @property
    def area(self) -> int:
        """Proving work, about (columns + tables) x 2^logrows: measured, else estimated."""
        if self.logrows is not None:
            return (self.cols + self.tables) * 2**self.logrows
        return self.estimated_area or 2**99

    def describe_area(self) -> str:
        """`163,840 = (3 columns + 2 tables) x 2^15`."""
        return (f"{self.area:,} = ({self.cols} column{'s' if self.cols > 1 else ''} + "
                f"{self.tables} table{'s' if self.tables != 1 else ''}) x 2^{self.logrows}")

    @property
    def cheap_seconds(self) -> float:
        return round(sum(self.seconds.values()), 3)

    def label(self) -> str:
        """`scale 12 (x2 rebasing), range checks 2^15 x 2, 3 inner columns, logrows 16`."""
        o = self.options
        text = "calibrated scales" if o.calibration_scales is None else \
            f"scale {','.join(map(str, o.calibration_scales))}"
        if self.scales is not None:
            text = (f"scale {self.scales[0]}" if self.scales[0] == self.scales[1] else
                    f"input scale {self.scales[0]}, parameter scale {self.scales[1]}")
        rebase = self.scales[2] if self.scales else self.rebase \
            if o.scale_rebase_multiplier and len(o.scale_rebase_multiplier) == 1 else 1
        if rebase > 1:
            text += f" (x{rebase} rebasing)"
        if o.lookup_margin is not None:
            text += f" (lookup margin {o.lookup_margin:.2f})"
        if o.max_logrows is not None:
            text += f" (tables split to logrows {o.max_logrows})"
        if o.decomp_base is not None:
            text += f", range checks 2^{round(math.log2(o.decomp_base))} x {o.decomp_legs}"
        if o.num_inner_cols is not None:
            text += f", {o.num_inner_cols} inner column{'s' if o.num_inner_cols > 1 else ''}"
        return text + (f", logrows {self.logrows}" if self.logrows else "")

    def outcome(self) -> str:
        """What became of it, with what was estimated, measured and how long each step took:
        `scale 8, …: estimated logrows 14, measured 14 (area 16,384); max |error| 0.566 % of
        spread on 42 held-out samples; outside the budget (1.13x); calibrate 0.06 s, …`."""
        parts = [", ".join(p for p in (
            "" if self.estimated_logrows is None else
            f"estimated logrows {self.estimated_logrows}",
            "" if self.logrows is None else f"measured {self.logrows} (area {self.area:,})")
            if p)]
        if self.error_pct is not None:
            partial = self.samples is not None and self.samples < fidelity.SAMPLES and \
                self.rejected is not None
            parts.append(f"max |error| {self.error_pct:.3g} % of spread" + (
                f" on {self.samples} held-out sample{'s' if self.samples != 1 else ''}"
                if partial else ""))
        parts.append("inside the budget" if self.rejected is None else
                     f"outside the budget ({self.excess:.3g}x)" if self.outside_budget and
                     self.excess is not None else self.rejected)
        parts.append(", ".join(f"{step} {s:.2f} s" for step, s in self.seconds.items()))
        return f"{self.label()}: " + "; ".join(p for p in parts if p)


def _rank(candidate: Candidate) -> tuple[int, float]:
    """Less area first; at equal area, less error."""
    return candidate.area, candidate.excess if candidate.excess is not None else math.inf


def _order(candidate: Candidate) -> tuple[int, int, int, bool, int, int, int]:
    """The search's order: less area, but below AREA_FLOOR fewer columns first; at equal
    area ezkl's lookup margin before a narrowed one, then the finer scale, fewer columns,
    fewer legs."""
    small = candidate.area <= AREA_FLOOR
    return (max(candidate.area, AREA_FLOOR), candidate.cols if small else 0, candidate.area,
            candidate.narrow, -candidate.scale, candidate.cols,
            candidate.options.decomp_legs or 0)


# ------------------------------------------------------------------------------ facts


@dataclass
class Facts:
    """What the search knows before it builds anything (see the module's docstring)."""

    graph: Path  # the circuit's graph, written once
    extremes: list[int]  # calibration samples holding every tensor's largest and smallest
    magnitudes: dict[str, float]  # max |value| per float tensor, on the calibration samples
    multiples: dict[int, dict[str, float]]  # per multiplier: each tensor's scale / the scale
    cells: dict[int, tuple[float, float]]  # per multiplier: cells at one column, a + b x legs
    lookups: bool  # the circuit has nonlinearities' lookup tables
    tables: int  # its lookup and range-check tables
    floor: int  # logrows nothing goes below (ezkl's Poseidon chip, ...)
    features: int  # values per subject (a KZG-committed subject may raise logrows)
    kzg: bool
    span: float | None = None  # the lookup tables' span at REFERENCE_SCALE, no margin
    seconds: float = 0.0
    packing: dict[int, float] = field(default_factory=dict)  # per columns: rows x cols / cells
    extra_bits: dict[int, int] = field(default_factory=dict)  # per multiplier, learnt
    rows: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)
    # gen_settings at (multiplier, legs, columns), measured (rows do not depend on the scale)

    @property
    def rebases(self) -> tuple[int, ...]:
        return tuple(self.cells)

    def bits(self, scale: int, rebase: int) -> int:
        """Bits the decomposition must hold at this scale and multiplier: the largest
        fixed-point value (|x| x 2^(its scale)), its sign and HEADROOM_BITS. A tensor whose
        scale is unknown is taken to live at the multiplier's full scale."""
        multiples = self.multiples.get(rebase) or {}
        tops = [m * scale + math.log2(max(self.magnitudes[name], 1.0))
                for name, m in multiples.items() if name in self.magnitudes]
        if not tops:
            tops = [rebase * scale + math.log2(max([*self.magnitudes.values(), 1.0]))]
        return math.ceil(max(tops)) + 1 + HEADROOM_BITS + self.extra_bits.get(rebase, 0)


def _settings_json(graph: Path, run: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """ezkl's gen_settings of a graph: its layout without values (no calibration)."""
    target = scratch / "gen_settings.json"
    try:
        _ezkl.call("gen_settings", str(graph), str(target), py_run_args=run)
    except _ezkl.EzklFailure as exc:
        raise CircuitError(f"building the circuit failed: {exc}") from exc
    return read_json(target, "circuit settings")


def _with_outputs(model: Any, only: Iterable[str] | None = None) -> list[str]:
    """Make every float tensor a node computes (besides the graph's outputs and zkml's own
    input plumbing) an output of the model too; the names added, in order."""
    import onnx

    typed = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    wanted = None if only is None else set(only)
    present = {o.name for o in model.graph.output}
    added = []
    for node in model.graph.node:
        for name in node.output:
            value = typed.get(name)
            if node.op_type == "Constant" or name in present or value is None or \
                    name.startswith("zkml_") or (wanted is not None and name not in wanted) or \
                    value.type.tensor_type.elem_type not in (onnx.TensorProto.FLOAT,
                                                             onnx.TensorProto.DOUBLE):
                continue
            model.graph.output.append(value)
            present.add(name)
            added.append(name)
    return added


def _tensor_pass(layout: ModelLayout, exported: ExportedModel
                 ) -> tuple[list[int], dict[str, float]]:
    """onnxruntime on the calibration samples with every tensor an output: the samples that
    hold each tensor's largest and smallest value, and each tensor's largest |value| (the
    model's float inputs' too)."""
    import onnx
    import onnxruntime as ort

    rows, signature = exported.calibration, exported.signature
    model = onnx.load(str(layout.onnx))
    added = set(_with_outputs(model))
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    keep = [i for i, name in enumerate(names) if name in added]
    floats = [(spec.name, rows[:, start:end]) for spec, (start, end) in
              zip(signature.inputs, signature.offsets(), strict=True) if spec.kind == "float"]
    highs = np.full((len(rows), len(keep) + len(floats)), -np.inf)
    lows = np.full_like(highs, np.inf)
    for r, row in enumerate(rows):
        outputs = session.run(None, signature.feeds(row[None]))
        for k, i in enumerate(keep):
            values = np.asarray(outputs[i], dtype=np.float64)
            if values.size:
                highs[r, k], lows[r, k] = values.max(), values.min()
    tensors = [names[i] for i in keep]
    for k, (name, values) in enumerate(floats, start=len(keep)):
        tensors.append(name)
        if values.size:
            highs[:, k], lows[:, k] = values.max(axis=1), values.min(axis=1)
    picked = {int(np.argmax(highs[:, k])) for k in range(highs.shape[1])} | \
        {int(np.argmin(lows[:, k])) for k in range(lows.shape[1])} | {0}
    magnitudes = {name: float(max(abs(highs[:, k].max()), abs(lows[:, k].min())))
                  for k, name in enumerate(tensors) if np.isfinite(highs[:, k]).any()}
    return sorted(picked), magnitudes


def _multiples(graph: Path, names: Iterable[str], run: dict[str, Any], scratch: Path
               ) -> dict[str, float]:
    """The scale each named tensor lives at in ezkl's circuit, as a multiple of the scale:
    gen_settings of the circuit's graph with those tensors as private outputs."""
    import onnx

    model = onnx.load(str(graph))
    outputs = len(model.graph.output)
    added = _with_outputs(model, names)
    probe = scratch / "tensors.onnx"
    onnx.save(model, str(probe))
    scales = _settings_json(probe, {**run, "output_visibility": "private"},
                            scratch)["model_output_scales"][outputs:]
    return {name: scale / REFERENCE_SCALE for name, scale in zip(added, scales, strict=True)}


def gather_facts(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
                 scratch: Path, progress: ProgressHook = ignore) -> Facts:
    """The search's facts (see the module's docstring)."""
    start = time.perf_counter()
    progress(Progress("compile", "one pass over the model: its tensors' ranges and scales, "
                      "its rows"))
    n = circuit.subjects_of(exported, options)
    graph = scratch / "circuit.onnx"
    subjects.write_circuit_graph(layout.onnx, graph, exported.signature, n,
                                 options.scheme(n) is not None)
    try:
        extremes, magnitudes = _tensor_pass(layout, exported)
    except Exception as exc:  # noqa: BLE001 - onnx and onnxruntime raise untyped errors
        log.info("the tensor pass failed (%s): calibrating on every sample", exc)
        extremes, magnitudes = list(range(len(exported.calibration))), {}
    run = {**circuit.run_args(dataclasses.replace(options, num_inner_cols=1), n),
           "input_scale": REFERENCE_SCALE, "param_scale": REFERENCE_SCALE,
           "decomp_base": 2**8}
    first = _settings_json(graph, {**run, "decomp_legs": 1}, scratch)
    lookups = bool(first["required_lookups"])
    rebases = tuple(options.scale_rebase_multiplier or ((1,) if lookups else REBASE))
    cells: dict[int, tuple[float, float]] = {}
    multiples: dict[int, dict[str, float]] = {}
    for rebase in rebases:
        at = {**run, "scale_rebase_multiplier": rebase}
        one = first if rebase == 1 else _settings_json(graph, {**at, "decomp_legs": 1}, scratch)
        four = _settings_json(graph, {**at, "decomp_legs": 4}, scratch)
        per_leg = (four["total_assignments"] - one["total_assignments"]) / 3
        cells[rebase] = (one["total_assignments"] - per_leg, per_leg)
        try:
            multiples[rebase] = _multiples(graph, magnitudes, {**at, "decomp_legs": 4},
                                           scratch)
        except (CircuitError, ValueError) as exc:  # ezkl reads the graph only as it is
            log.info("tensor scales at x%d rebasing unknown (%s)", rebase, exc)
            multiples[rebase] = {}
    poseidon = first.get("module_sizes", {}).get("poseidon", [0])[0] or 0
    facts = Facts(graph, extremes, magnitudes, multiples, cells, lookups, _tables(first),
                  logrows_for(poseidon) if poseidon else MIN_LOGROWS,
                  exported.signature.features, options.scheme(n) == "kzg")
    if lookups:
        facts.span = _lookup_span(layout, exported, options, facts, scratch)
    facts.seconds = round(time.perf_counter() - start, 3)
    return facts


def _lookup_span(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
                 facts: Facts, scratch: Path) -> float | None:
    """The lookup tables' span at REFERENCE_SCALE over the calibration samples' range (no
    margin): one calibration on the extreme samples."""
    trial = _trial(layout, scratch, "span")
    legs = math.ceil(facts.bits(REFERENCE_SCALE, 1) / 16)
    probe = dataclasses.replace(
        options, calibration_scales=(REFERENCE_SCALE,), scale_rebase_multiplier=(1,),
        lookup_margin=MIN_LOOKUP_MARGIN, num_inner_cols=1, max_logrows=None,
        decomp_base=2**math.ceil(facts.bits(REFERENCE_SCALE, 1) / legs), decomp_legs=legs)
    try:
        circuit.make_settings(trial, _extremes(exported, facts), probe)
    except CircuitError as exc:
        log.info("the lookup tables' span is unknown: %s", exc.message)
        return None
    low, high = CircuitSettings.load(trial).lookup_range
    return float(high - low)


def _tables(settings: dict[str, Any]) -> int:
    """ezkl's lookup and range-check tables in these settings."""
    return len(settings["required_lookups"]) + len(settings["required_range_checks"])


def _extremes(exported: ExportedModel, facts: Facts) -> ExportedModel:
    """The model with its extreme calibration samples alone: what every build calibrates on."""
    return dataclasses.replace(exported, calibration=exported.calibration[facts.extremes])


# ------------------------------------------------------------------------------ estimates


def _candidates(options: CircuitOptions, facts: Facts, scales: Iterable[int]
                ) -> Iterator[Candidate]:
    """Every setting of the search space the options leave open, estimated."""
    narrowing = (False, True) if facts.lookups and options.lookup_margin is None else (False,)
    for scale in scales:
        for rebase in facts.rebases:
            for legs in (options.decomp_legs,) if options.decomp_legs else LEGS:
                for cols in (options.num_inner_cols,) if options.num_inner_cols else COLUMNS:
                    for narrow in narrowing:
                        candidate = Candidate(dataclasses.replace(
                            options, calibration_scales=(scale,),
                            scale_rebase_multiplier=(rebase,), decomp_legs=legs,
                            num_inner_cols=cols), narrow)
                        if _estimate(candidate, facts, options):
                            yield candidate


def _estimate(candidate: Candidate, facts: Facts, given: CircuitOptions) -> bool:
    """Set the candidate's estimated logrows and area, with the decomposition base and lookup
    margin that go with them (given: the options the search started from); False when it
    cannot be built as estimated (values need a base past MAX_BASE_BITS, a narrowed margin
    that does not fit)."""
    scale, rebase, cols = candidate.scale, candidate.rebase, candidate.cols
    legs = candidate.options.decomp_legs or 1
    measured = facts.rows.get((rebase, legs, cols))
    if measured is not None:
        rows = float(measured["num_rows"])
    else:
        a, b = facts.cells[rebase]
        rows = (a + b * legs) * facts.packing.get(cols, 1.0) / cols
    needed = math.ceil(facts.bits(scale, rebase) / legs) if given.decomp_base is None else \
        round(math.log2(given.decomp_base))
    if needed > MAX_BASE_BITS:
        return False
    logrows = max(logrows_for(rows), logrows_for(2**needed), facts.floor)
    if measured is not None:  # other range checks the circuit makes, of fixed sizes
        logrows = max([logrows, *(logrows_for(high - low) for low, high in
                                  measured["required_range_checks"]
                                  if high - low + 1 < 2**needed)])
    margin = given.lookup_margin
    span = facts.span * 2.0 ** (scale - REFERENCE_SCALE) if facts.lookups and facts.span \
        else None
    if span is not None:  # ezkl's margin, or (narrowed) the least logrows the range fits
        logrows = max(logrows, logrows_for(span / TABLE_FIT if candidate.narrow else
                                           (margin or LOOKUP_MARGIN) * span))
    if facts.kzg:
        logrows = subjects.commitment_logrows(logrows, facts.features)
    if candidate.narrow:  # the widest margin below ezkl's that keeps the table in logrows
        fit = TABLE_FIT * (2**logrows - RESERVED_ROWS) / span if span else LOOKUP_MARGIN
        if fit >= LOOKUP_MARGIN:
            return False
        margin = math.floor(fit * 1000) / 1000
    base = given.decomp_base or 2**min(max(needed, logrows - 1), MAX_BASE_BITS)
    candidate.options = dataclasses.replace(candidate.options, decomp_base=base,
                                            decomp_legs=legs, lookup_margin=margin)
    candidate.tables = facts.tables if measured is None else _tables(measured)
    candidate.estimated_logrows = logrows
    candidate.estimated_area = (cols + candidate.tables) * 2**logrows
    return True


# ------------------------------------------------------------------------------ the search


@dataclass
class Search:
    """What `choose` did: the facts, how many settings it estimated, the ones it built or
    dropped (each once, in the order tried) and why it stopped."""

    chosen: Candidate
    tried: list[Candidate]
    estimated: int
    facts_seconds: float
    seconds: float
    stop: str

    def summary(self) -> str:
        """The one line compile prints after `chose`."""
        c = self.chosen
        built = sum(t.built for t in self.tried)
        return (f"{c.label()}: area {c.describe_area()}, max |error| "
                f"{c.error_pct:.3g} % of spread; {self.estimated:,} settings estimated from "
                f"one pass over the model ({self.facts_seconds:.1f} s), {built} built in "
                f"{self.seconds - self.facts_seconds:.1f} s; {self.stop}")

    def lines(self) -> list[str]:
        """One line per setting built (estimated and measured figures, each step's time), in
        the order built, and one for those the builds showed need not be."""
        lines = [("chosen: " if t is self.chosen else "") + t.outcome()
                 for t in self.tried if t.built]
        skipped = [t.rejected or "" for t in self.tried if not t.built]
        if skipped:
            coarser = sum("misses the budget" in why for why in skipped)
            kinds = [f"{coarser} no finer than a scale that misses the budget" if coarser
                     else "", f"{len(skipped) - coarser} estimated outside it"
                     if len(skipped) > coarser else ""]
            lines.append(f"not built, though next by area: {', '.join(k for k in kinds if k)}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "tried": self.lines(),
                "estimated": self.estimated, "facts_seconds": self.facts_seconds,
                "seconds": round(self.seconds, 3)}


def _hopeless(candidate: Candidate, tried: list[Candidate]) -> str | None:
    """Why a setting need not be built, from what builds so far found: errors grow as scales
    fall (by about 2x a bit)."""
    same = [t.scale for t in tried if t.outside_budget and t.rebase == candidate.rebase and
            t.scale >= candidate.scale]
    if same:
        return f"scale {candidate.scale} misses the budget" if min(same) == candidate.scale \
            else f"coarser than scale {min(same)}, which misses the budget"
    measured = [t for t in tried if t.excess is not None]
    if not measured:
        return None
    nearest = min(measured, key=lambda t: (t.rebase != candidate.rebase,
                                           abs(t.scale - candidate.scale)))
    guess = (nearest.excess or 0.0) * 2.0 ** (nearest.scale - candidate.scale)
    if guess > ERROR_SLACK:
        return (f"estimated outside the budget (max |error| about {guess:.2g}x the budget, "
                f"from scale {nearest.scale}'s)")
    return None


def _overflowed(candidate: Candidate, facts: Facts) -> None:
    """A calibration found values past the decomposition: at this multiplier, the estimate of
    the bits values need was short, by at least what it held less the estimate, plus one."""
    held = round(math.log2(candidate.options.decomp_base or 2)) * \
        (candidate.options.decomp_legs or 1)
    short = held + 1 - facts.bits(candidate.scale, candidate.rebase)
    facts.extra_bits[candidate.rebase] = facts.extra_bits.get(candidate.rebase, 0) + \
        max(1, short)


def choose(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
           progress: ProgressHook = ignore) -> Search:
    """Search (see the module's docstring) in scratch copies; leave layout compiled with the
    least area inside the budget. Raises CircuitError (BudgetExceeded) when no setting tried
    meets the budget."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zkml-search-") as tmp:
        scratch = Path(tmp)
        facts = gather_facts(layout, exported, options, scratch, progress)
        data = _extremes(exported, facts)
        scales: Iterable[int] = options.calibration_scales or SCALES
        pool = list(_candidates(options, facts, scales))
        if not pool:  # only options that fix the decomposition get here
            scale = min(scales)
            raise CircuitError(
                f"no setting fits the options given: values at scale {scale} need "
                f"{min(facts.bits(scale, r) for r in facts.rebases)} bits, more than "
                f"{options.decomp_legs or 1} range-check leg(s) of at most {MAX_BASE_BITS} "
                "bits hold",
                hint="leave the range-check decomposition to compile, or give more legs")
        estimated = len(pool)
        tried: list[Candidate] = []
        folders: dict[int, ModelLayout] = {}
        best: Candidate | None = None
        higher = options.calibration_scales is not None
        forced: Candidate | None = None  # built although estimated outside the budget
        stop = "no setting was left to try"
        while True:
            live = [c for c in pool if c.rejected is None and c.excess is None]
            if sum(t.built for t in tried) >= MAX_BUILDS:
                stop = f"stopped after {MAX_BUILDS} builds"
                break
            if not live:
                if best is None and not higher:
                    higher = True  # nothing coarser met the budget: finer scales
                    pool += list(_candidates(options, facts, HIGHER_SCALES))
                    estimated = len(pool)
                    continue
                if best is None and forced is None:  # the finest scale measured, not guessed
                    finest = [t for t in tried if not t.built and
                              (t.rejected or "").startswith("estimated outside")]
                    if finest:
                        forced = min(finest, key=lambda t: (-t.scale, t.area))
                        forced.rejected = None
                        continue
                break
            candidate = min(live, key=_order)
            if best is not None and _order(candidate) >= _order(best):
                stop = (f"no setting left can have less area (the next, "
                        f"{candidate.label()}, {'is' if candidate.built else 'is estimated'} "
                        f"at {candidate.area:,})")
                break
            if candidate not in tried:
                tried.append(candidate)
            why = None if candidate is forced else _hopeless(candidate, tried)
            if why is not None:
                candidate.rejected = why
                continue
            changed = _step(candidate, layout, data, facts, folders, scratch, progress)
            if changed:
                for other in live:
                    if not other.built and not _estimate(other, facts, options):
                        other.rejected = "estimated past the largest range-check table"
            if candidate.excess is not None and candidate.rejected is None and \
                    (best is None or _order(candidate) < _order(best)):
                best = candidate
        tried = [t for t in tried if t.built or t.rejected]
        if best is None:
            raise _nothing_fits(tried, folders, data, options)
        _adopt(folders[id(best)], layout)
    return Search(best, tried, estimated, facts.seconds, time.perf_counter() - start, stop)


def _step(candidate: Candidate, layout: ModelLayout, exported: ExportedModel, facts: Facts,
          folders: dict[int, ModelLayout], scratch: Path, progress: ProgressHook) -> bool:
    """Take the candidate one step further: its exact rows, then its calibration, then its
    fidelity. True when what it found changes other settings' estimates."""
    o = candidate.options
    key = (candidate.rebase, o.decomp_legs or 1, candidate.cols)
    if key not in facts.rows:
        started = time.perf_counter()
        n = circuit.subjects_of(exported, o)
        settings = _settings_json(facts.graph, {
            **circuit.run_args(o, n), "input_scale": candidate.scale,
            "param_scale": candidate.scale, "scale_rebase_multiplier": candidate.rebase},
            scratch)
        candidate.seconds["rows"] = round(time.perf_counter() - started, 3)
        facts.rows[key] = settings
        a, b = facts.cells[candidate.rebase]
        facts.packing[candidate.cols] = max(
            facts.packing.get(candidate.cols, 1.0),
            settings["num_rows"] * candidate.cols / (a + b * key[1]))
        return True
    if not candidate.built:
        progress(Progress("compile", f"calibrating {candidate.label()} (estimated logrows "
                          f"{candidate.estimated_logrows})"))
        started = time.perf_counter()
        trial = _trial(layout, scratch, f"{len(folders):02d}")
        folders[id(candidate)] = trial
        candidate.built = True
        try:
            circuit.make_settings(trial, exported, o)
        except CircuitError as exc:
            candidate.seconds["calibrate"] = round(time.perf_counter() - started, 3)
            if "calibration failed" in exc.message:
                bits = round(math.log2(o.decomp_base or 2)) * (o.decomp_legs or 1)
                candidate.rejected = (f"values overflow at scale {candidate.scale} (more than "
                                      f"{bits} bits)")
                _overflowed(candidate, facts)
                return True
            candidate.rejected = exc.message
            return False
        candidate.seconds["calibrate"] = round(time.perf_counter() - started, 3)
        _measured(candidate, trial)
        low, high = CircuitSettings.load(trial).lookup_range
        if facts.lookups and high > low:  # the tables' span, corrected
            margin = o.lookup_margin or LOOKUP_MARGIN
            facts.span = (high - low) / margin / 2.0 ** (candidate.scale - REFERENCE_SCALE)
        return facts.lookups
    progress(Progress("compile", f"checking {candidate.label()} on held-out samples"))
    started = time.perf_counter()
    trial = folders[id(candidate)]
    try:
        circuit.compile_circuit(trial)
        candidate.seconds["compile"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        report = fidelity.measure(trial, exported, o, stop_outside=True)
    except (CircuitError, InputError) as exc:  # e.g. held-out data outside its range
        candidate.rejected = exc.message
        candidate.excess = math.inf
        return False
    candidate.seconds["fidelity"] = round(time.perf_counter() - started, 3)
    _record(candidate, report)
    return False


def _measured(candidate: Candidate, trial: ModelLayout) -> None:
    """A calibrated candidate's logrows, rows, tables and scales, from its settings."""
    raw = read_json(trial.settings, "settings")
    args = raw["run_args"]
    candidate.logrows, candidate.num_rows = int(args["logrows"]), int(raw["num_rows"])
    candidate.tables = _tables(raw)
    candidate.scales = (args["input_scale"], args["param_scale"],
                        args["scale_rebase_multiplier"])
    candidate.lookup_width = args["lookup_range"][1] - args["lookup_range"][0]


def _record(candidate: Candidate, report: FidelityReport) -> None:
    """A candidate's figures from its fidelity report."""
    candidate.agreement, candidate.max_abs_error = report.agreement, report.max_abs_error
    candidate.error_pct = max(o.error_pct for o in report.outputs)
    candidate.excess = report.excess
    candidate.samples = report.samples
    candidate.rejected = report.problem()
    candidate.outside_budget = candidate.rejected is not None and not (
        report.lookup_overflows or report.input_overflows)


# ------------------------------------------------------------------------------ builds


def build(layout: ModelLayout, exported: ExportedModel,
          options: CircuitOptions) -> FidelityReport:
    """Settings, calibration, compiled circuit and fidelity report, for these options as they
    are (nothing checked against the budget: see fidelity.check)."""
    circuit.make_settings(layout, exported, options)
    circuit.compile_circuit(layout)
    return fidelity.measure(layout, exported, options)


def _build(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions) -> Candidate:
    """Calibrate, compile and check one fully given candidate in layout; never raises for a
    bad candidate."""
    start = time.perf_counter()
    candidate = Candidate(options, built=True)
    try:
        report = build(layout, exported, options)
    except (CircuitError, InputError) as exc:  # e.g. held-out data outside its range
        candidate.rejected = exc.message
        return candidate
    _measured(candidate, layout)
    _record(candidate, report)
    candidate.seconds["build"] = round(time.perf_counter() - start, 3)
    return candidate


def _nothing_fits(tried: list[Candidate], folders: dict[int, ModelLayout],
                  exported: ExportedModel, options: CircuitOptions) -> CircuitError:
    """One line: the output that misses, by how much, at the closest setting tried (measured
    on every held-out sample), and the one with the least area."""
    measured = [c for c in tried if c.excess is not None and math.isfinite(c.excess)]
    if not measured:
        reasons = [c.rejected for c in tried if c.rejected]
        return CircuitError("no setting tried gives a circuit that runs the held-out samples"
                            + (f": {reasons[0]}" if reasons else ""))
    closest = min(measured, key=lambda c: (c.excess or math.inf, c.area))
    smallest = min(measured, key=lambda c: (c.area, c.excess or math.inf))
    folder = folders[id(closest)]
    if closest.samples is not None and \
            closest.samples < min(fidelity.SAMPLES, len(exported.holdout)):
        _record(closest, fidelity.measure(folder, exported, closest.options))
    report = FidelityReport.load(folder)
    worst = report.worst
    what = (f"{report.problem()}" if worst.max_abs_error <= worst.budget else
            f"output {worst.output} misses it by {worst.max_abs_error / worst.budget:.3g}x "
            f"(max |error| {worst.max_abs_error:.3g}, {worst.error_pct:.3g} % of its spread "
            f"{worst.spread:.3g}; budget {worst.budget:.3g}, {worst.budget_pct:.3g} %)")
    also = "" if smallest is closest else (
        f"; the least area tried, {smallest.label()}, has max |error| "
        f"{smallest.max_abs_error:.3g} ({smallest.error_pct:.3g} % of the spread"
        + (f" on {smallest.samples} held-out sample{'s' if smallest.samples != 1 else ''}"
           if smallest.samples and smallest.samples < len(exported.holdout[:fidelity.SAMPLES])
           else "") + ")")
    finer = [c for c in tried if not c.built and c.scale > closest.scale]
    if finer:
        top = max(finer, key=lambda c: c.scale)
        also += f"; finer scales were not built (scale {top.scale}: {top.rejected})"
    samples = report.lookup_overflows or report.input_overflows
    return fidelity.BudgetExceeded(
        f"no setting meets the error budget: {what} at the closest setting tried, "
        f"{closest.label()}{also}", report,
        hint=fidelity.BUDGET_HINT if samples else SEARCH_HINT)


SEARCH_HINT = ("raise --max-error-pct or --max-error (or lower --min-agreement) if that is "
               "acceptable")


def _adopt(trial: ModelLayout, layout: ModelLayout) -> None:
    """A candidate's compile outputs into the model folder, each file atomically."""
    for name in ("circuit_onnx", "settings", "calibration_data", "compiled", "fidelity"):
        source: Path = getattr(trial, name)
        with atomic_path(getattr(layout, name), private=name == "calibration_data") as tmp:
            shutil.copyfile(source, tmp)


def _trial(layout: ModelLayout, scratch: Path, name: str) -> ModelLayout:
    """A scratch copy of the model folder's export, for one candidate."""
    trial = ModelLayout(scratch / name / layout.name)
    trial.root.mkdir(parents=True)
    for path in (layout.onnx, layout.samples, layout.export_report):
        shutil.copy2(path, trial.root / path.name)
    return trial


# ------------------------------------------------------------------------------ --optimize


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
    """What --optimize tries beside the search's choice: INNER_COLUMNS more and fewer inner
    columns; where lookup tables set logrows, the tables split over columns one logrow lower
    (which only a timed proof can price); for accuracy, finer scales (a leg more each)."""
    options = chosen.options
    cols = chosen.cols
    found = [dataclasses.replace(options, num_inner_cols=c)
             for c in (cols - INNER_COLUMNS, cols + INNER_COLUMNS) if c >= 1]
    if chosen.logrows is not None and chosen.num_rows is not None and \
            chosen.logrows > logrows_for(chosen.num_rows):
        found.append(dataclasses.replace(options, max_logrows=chosen.logrows - 1))
    if goal == "accuracy" and options.calibration_scales:
        scale = max(options.calibration_scales)
        found += [dataclasses.replace(options, calibration_scales=(finer,), lookup_margin=None,
                                      decomp_legs=(options.decomp_legs or 1) + step)
                  for step, finer in enumerate((scale + 1, scale + 2), start=1)]
    return found


def search(layout: ModelLayout, goal: str, base: CircuitOptions | None = None,
           progress: ProgressHook = ignore, candidates_to_try: list[CircuitOptions] | None = None,
           ) -> tuple[CircuitOptions, list[Candidate], str]:
    """The search's choice and its variants (or candidates_to_try), each with its cheap
    figures; keys and timed proofs for the SHORTLIST least area among those inside the budget;
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
            progress(Progress("optimize", "the search: the least area inside the budget"))
            folders.append(_trial(layout, Path(scratch), "00"))
            chosen = choose(folders[0], exported, base).chosen
            candidates.append(chosen)
            trials = variants(chosen, goal)
        for options in trials:
            progress(Progress("optimize", f"cheap figures: {options.describe()}",
                              len(candidates), len(candidates) + len(trials)))
            folders.append(_trial(layout, Path(scratch), f"{len(folders):02d}"))
            candidates.append(_build(folders[-1], exported, options))
        usable = [c for c in candidates if c.rejected is None]
        if not usable:
            raise _nothing_fits(candidates, {id(c): f for c, f in zip(candidates, folders,
                                                                       strict=True)},
                                exported, base)
        if goal == "accuracy":
            best = min(usable, key=lambda c: (c.excess or 0.0, c.area))
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
        f"budget ({timed} shortlisted by area, then timed): {best.options.describe()}, "
        f"logrows {best.logrows}"
        + (f", prove {best.prove_seconds:.2f} s" if best.prove_seconds is not None else "")
        + (f", proving key {best.pk_bytes / 1e6:.1f} MB" if best.pk_bytes is not None else "")
        + f", max |error| {best.max_abs_error:.2e} ({best.error_pct:.3g} % of spread)"
    )
    return best.options, candidates, reason
