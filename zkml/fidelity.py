"""The error budget: how far the circuit's outputs may be from the float model's, measured on
held-out samples, per output.

Each output's budget is `max_error` (absolute) when given, else `max_error_pct` percent of the
output's spread: p99 - p1 of the float model's outputs on the held-out samples, so that a budget
means the same for an output that lives in [0, 0.01] as for one in [-50, 50]. A classifier
(an output of several values) also keeps its argmax on at least `min_agreement` of the samples;
a single-output model given a `decision_threshold` may flip no decision (float above the
threshold, circuit below, or the reverse). `measure` writes fidelity.json; `check` raises when a
circuit is outside its budget, naming the output and by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from zkml.errors import ArtifactError, CircuitError
from zkml.layout import ModelLayout, read_json, write_json
from zkml.results import to_json

if TYPE_CHECKING:
    from zkml.circuit import CircuitOptions
    from zkml.export import ExportedModel

SAMPLES = 50  # held-out samples every circuit is checked on


class BudgetExceeded(CircuitError):
    """The circuit (or every setting tried) is outside the error budget; `report` is the
    fidelity of the one that came closest."""

    def __init__(self, message: str, report: FidelityReport, hint: str | None = None):
        super().__init__(message, hint)
        self.report = report


@dataclass(frozen=True)
class OutputFidelity:
    """One model output: the circuit against the float model on the held-out samples."""

    output: int
    shape: tuple[int, ...]
    spread: float  # p99 - p1 of the float model's values of this output, held-out
    budget: float  # the largest |error| allowed, absolute
    budget_pct: float  # ... as % of the spread
    max_abs_error: float
    error_pct: float  # max_abs_error as % of the spread
    margin: float  # budget - max_abs_error: what is left (negative: over the budget)
    within_budget: bool  # max_abs_error <= budget and no decision flips
    mean_abs_error: float
    max_abs_error_per_element: list[float]
    agreement_kind: str  # "argmax" (a classifier) or "within budget" (a single value)
    agreement: float  # share of samples with the same argmax, or with |error| <= budget
    decision_threshold: float | None = None  # single-output models: the decision boundary
    decision_flips: int | None = None  # samples on the other side of it in the circuit
    float_accuracy: float | None = None  # against the samples' labels, when there are labels
    circuit_accuracy: float | None = None

    def describe(self) -> str:
        """`output 0: max |error| 0.041 (0.09 % of its spread 45), budget 0.22 (0.5 %)`."""
        text = (f"output {self.output}: max |error| {self.max_abs_error:.3g} "
                f"({self.error_pct:.3g} % of its spread {self.spread:.3g}), budget "
                f"{self.budget:.3g} ({self.budget_pct:.3g} %)")
        if self.decision_flips is not None:
            text += (f", {self.decision_flips} decision flip(s) at threshold "
                     f"{self.decision_threshold:g}")
        return text


def _pct(value: float, spread: float) -> float:
    return 100 * value / spread


@dataclass(frozen=True)
class FidelityReport:
    """fidelity.json: how closely the quantized circuit follows the float model."""

    samples: int
    logrows: int
    num_rows: int
    input_scale: int
    output_scales: list[int]
    min_agreement: float
    outputs: list[OutputFidelity]
    lookup_overflows: int = 0  # held-out samples driving a lookup past its table
    input_overflows: int = 0  # held-out samples outside the circuit's input range

    def __str__(self) -> str:
        verdict = self.problem() or "inside the budget"
        return (f"fidelity on {self.samples} held-out samples: "
                + "; ".join(o.describe() for o in self.outputs) + f" ({verdict})")

    @property
    def agreement(self) -> float:
        return min(o.agreement for o in self.outputs)

    @property
    def max_abs_error(self) -> float:
        return max(o.max_abs_error for o in self.outputs)

    @property
    def within_budget(self) -> bool:
        return all(o.within_budget for o in self.outputs)

    @property
    def excess(self) -> float:
        """The worst output's error as a multiple of its budget (<= 1: inside the budget)."""
        return max(_ratio(o) for o in self.outputs)

    @property
    def worst(self) -> OutputFidelity:
        """The output furthest over its budget, or closest to it."""
        return max(self.outputs, key=lambda o: (not o.within_budget, _ratio(o)))

    def problem(self) -> str | None:
        """Why this circuit cannot be used (None: inside its budget)."""
        if self.input_overflows:
            return (f"{self.input_overflows} held-out samples are outside "
                    "the circuit's input range")
        if self.lookup_overflows:
            return (f"{self.lookup_overflows} of {self.samples} held-out samples drive a "
                    "nonlinearity outside the range the circuit was calibrated for")
        worst = self.worst
        if not worst.within_budget:
            return f"{worst.describe()}: outside its budget"
        argmax = [o for o in self.outputs if o.agreement_kind == "argmax"]
        low = min(argmax, key=lambda o: o.agreement, default=None)
        if low is not None and low.agreement < self.min_agreement:
            return (f"output {low.output}: argmax agrees with the float model on "
                    f"{low.agreement:.1%} of {self.samples} held-out samples, below "
                    f"{self.min_agreement:.0%}")
        return None

    @classmethod
    def load(cls, layout: ModelLayout) -> FidelityReport:
        raw = read_json(layout.fidelity, "fidelity report")
        try:
            outputs = [OutputFidelity(**{**o, "shape": tuple(o["shape"])})
                       for o in raw.pop("outputs")]
            return cls(**raw, outputs=outputs)
        except (KeyError, TypeError):
            raise ArtifactError(f"{layout.fidelity} is incomplete or from another zkml",
                                hint=f"run `zkml compile {layout.name} --force`") from None


def _ratio(output: OutputFidelity) -> float:
    if output.budget:
        return output.max_abs_error / output.budget
    return math.inf if output.max_abs_error else 0.0


def spread(reference: np.ndarray) -> float:
    """p99 - p1 of an output's float values; for a constant output its magnitude (or 1)."""
    width = float(np.percentile(reference, 99) - np.percentile(reference, 1))
    return width or float(np.abs(reference).max()) or 1.0


def budget(options: CircuitOptions, output_spread: float) -> float:
    """An output's budget: max_error when given, else max_error_pct % of its spread."""
    if options.max_error is not None:
        return options.max_error
    return options.max_error_pct / 100 * output_spread


def compare(circuit: np.ndarray, reference: np.ndarray, options: CircuitOptions,
            index: int = 0, shape: tuple[int, ...] | None = None,
            labels: np.ndarray | None = None, width: float | None = None) -> OutputFidelity:
    """One output's figures: circuit and float values, one row per held-out sample (width:
    the output's spread, when it comes from more samples than these)."""
    error = np.abs(circuit - reference)
    single = reference.shape[1] == 1
    width = spread(reference) if width is None else width
    allowed = budget(options, width)
    flips = None
    threshold = options.decision_threshold if single else None
    if threshold is not None:
        flips = int(np.sum((reference > threshold) != (circuit > threshold)))
    agreement = ((error <= allowed).all(axis=1) if single
                 else circuit.argmax(1) == reference.argmax(1))
    worst = float(error.max())
    return OutputFidelity(
        output=index,
        shape=shape or (1, *reference.shape[1:]),
        spread=width,
        budget=allowed,
        budget_pct=_pct(allowed, width),
        max_abs_error=worst,
        error_pct=_pct(worst, width),
        margin=allowed - worst,
        within_budget=worst <= allowed and not flips,
        mean_abs_error=float(error.mean()),
        max_abs_error_per_element=error.max(axis=0).tolist(),
        agreement_kind="within budget" if single else "argmax",
        agreement=float(np.mean(agreement)),
        decision_threshold=threshold,
        decision_flips=flips,
        float_accuracy=None if labels is None or single
        else float(np.mean(reference.argmax(1) == labels)),
        circuit_accuracy=None if labels is None or single
        else float(np.mean(circuit.argmax(1) == labels)),
    )


def measure(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
            stop_outside: bool = False) -> FidelityReport:
    """Run the compiled circuit on the held-out samples, compare every output with the float
    model's, and write fidelity.json (see `check` for the verdict). stop_outside: stop at the
    first proof's worth of samples that puts the circuit outside its budget (a search's
    rejected setting need not run the rest); the report then covers the samples run."""
    from zkml import subjects
    from zkml.circuit import CircuitSettings, input_limits, witness
    from zkml.felts import felts_to_floats

    settings = CircuitSettings.load(layout)
    count = min(SAMPLES, len(exported.holdout))
    limits = input_limits(settings, exported.signature)
    outside = (np.abs(exported.holdout[:count]) >= limits).any(axis=1)
    # a search stops at the first sample outside the input range: run the samples from it on
    order = np.roll(np.arange(count), -int(np.argmax(outside))) if stop_outside else \
        np.arange(count)
    held_out = exported.holdout[:count][order]
    references = [exported.holdout_reference[i][:count].reshape(count, -1)[order]
                  for i in range(len(exported.output_shapes))]
    widths = [spread(r) for r in references]
    input_overflows = int(outside.sum())
    groups = subjects.groups(held_out, settings.subjects)
    circuit_outputs: list[list[list[float]]] = [[] for _ in exported.output_shapes]
    salts = [0] * settings.subjects if settings.salted else None
    overflows = 0
    for rows in groups:
        result = witness(layout, rows, salts, signature=exported.signature)
        overflows += not settings.lookups_fit(result)
        for i, (felts, scale) in enumerate(zip(result["outputs"], settings.output_scales,
                                               strict=True)):
            values = felts_to_floats(felts, scale)
            per_row = len(values) // settings.subjects
            circuit_outputs[i] += [values[j * per_row:(j + 1) * per_row]
                                   for j in range(settings.subjects)]
        if stop_outside and (overflows or input_overflows or not _inside(
                circuit_outputs, references, widths, options)):
            break
    done = min(count, len(circuit_outputs[0]))
    outputs = []
    for i, shape in enumerate(exported.output_shapes):
        labels = exported.holdout_labels[:count][order][:done] \
            if exported.holdout_labels is not None and i == 0 else None
        outputs.append(compare(np.asarray(circuit_outputs[i][:done]), references[i][:done],
                               options, i, tuple(shape), labels, widths[i]))
    report = FidelityReport(
        samples=done, logrows=settings.logrows, num_rows=settings.num_rows,
        input_scale=settings.input_scale, output_scales=settings.output_scales,
        min_agreement=options.min_agreement, outputs=outputs, lookup_overflows=overflows,
        input_overflows=input_overflows,
    )
    write_json(layout.fidelity, to_json(report))
    return report


def _inside(circuit: list[list[list[float]]], references: list[np.ndarray],
            widths: list[float], options: CircuitOptions) -> bool:
    """Whether the samples run so far leave every output inside its budget (its argmax
    agreement judged against all the samples still to come)."""
    count = len(references[0])
    for values, reference, width in zip(circuit, references, widths, strict=True):
        done = min(len(values), count)
        figures = compare(np.asarray(values[:done]), reference[:done], options, width=width)
        if not figures.within_budget:
            return False
        if figures.agreement_kind == "argmax" and \
                (1 - figures.agreement) * done > (1 - options.min_agreement) * count:
            return False
    return True


def validate(options: CircuitOptions, exported: ExportedModel) -> None:
    """Refuse a budget that does not apply to this model, before anything is built."""
    single = len(exported.output_shapes) == 1 and math.prod(exported.output_shapes[0]) == 1
    if options.decision_threshold is not None and not single:
        shapes = ", ".join(str(list(s)) for s in exported.output_shapes)
        raise CircuitError(
            f"--decision-threshold applies to a model with one output value; this one has "
            f"outputs of shape {shapes}",
            hint="drop --decision-threshold; a classifier's decisions are its argmax "
            "(--min-agreement)")


def check(layout: ModelLayout, report: FidelityReport) -> None:
    """Raise when the circuit is outside its budget (naming the output and by how much), or
    cannot run a held-out sample."""
    problem = report.problem()
    if problem is None:
        return
    if report.input_overflows:
        raise CircuitError(f"{problem} (see {layout.fidelity})", hint="use a larger "
                           "range-check decomposition, or scale the inputs like the samples")
    if report.lookup_overflows:
        raise CircuitError(f"{problem} (see {layout.fidelity})",
                           hint="calibrate on samples that cover the held-out data (--samples)")
    raise BudgetExceeded(f"{problem} (see {layout.fidelity})", report, hint=BUDGET_HINT)


BUDGET_HINT = ("raise --max-error-pct or --max-error (or lower --min-agreement) if that is "
               "acceptable, or calibrate on samples closer to the held-out data")
