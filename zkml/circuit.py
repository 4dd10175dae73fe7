"""ezkl settings with explicit visibility, calibration on real samples, compilation."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkml import _ezkl, subjects
from zkml.errors import CircuitError, InputError
from zkml.export import ExportedModel
from zkml.inputs import parse_input
from zkml.layout import (
    ModelLayout,
    ScratchLayout,
    atomic_path,
    private_scratch,
    read_json,
    write_json,
    write_private_text,
)
from zkml.signature import Signature

# ezkl's Python PyRunArgs defaults to *public* inputs; every visibility is set here on purpose.
# 256^4 range checks where no search chooses (ezkl's own 16384^2 needs a 2^14-row table:
# logrows 15 on a model of a thousand rows)
DECOMPOSITION = (256, 4)
INPUT_VISIBILITY = ("committed", "private")
COMMITMENT_VISIBILITY = {"kzg": "polycommit", "poseidon": "hashed/public"}
COMMITMENTS = ("auto", *subjects.SCHEMES)
WEIGHT_VISIBILITY = {"fixed": "fixed", "hashed": "hashed/public"}


@dataclass(frozen=True)
class CircuitOptions:
    """How the circuit is built; every field is part of the compile stage's cache key."""

    # committed: the input is a private witness and the proof publishes a commitment to it and
    # a secret 256-bit salt (what the registry keys results by); private: the input is a
    # private witness and nothing about it is published
    input_visibility: str = "committed"
    # the commitment scheme (zkml.subjects): auto picks kzg for up to KZG_MAX_SUBJECTS subjects
    # per proof and poseidon above, by the measured gas and prove times
    commitment: str = "auto"
    # fixed: weights baked into the circuit (verifying key pins them); hashed: weights are a
    # private witness and only their Poseidon hash is public (a proprietary model)
    weights: str = "fixed"
    # private inputs (subjects) per proof; None: the batch of the exported example input
    subjects: int | None = None
    # decomposition of range checks (base^legs covers every value the circuit decomposes);
    # None: compile chooses it with the scale and the columns, by the values' bits and the
    # least area (the range-check table has `base` rows); DECOMPOSITION where nothing chooses
    decomp_base: int | None = None
    decomp_legs: int | None = None
    # columns per lookup/einsum region: more columns, fewer rows; None: compile's search
    # (zkml.optimize) picks them with the rest, for the least proving area
    num_inner_cols: int | None = None
    calibration_target: str = "resources"
    # fixed-point scales (fractional bits) to choose from; None: the search tries every scale
    # from 1 to 14, and 15 to 18 when the budget needs them (accuracy target: ezkl's own list)
    calibration_scales: tuple[int, ...] | None = None
    # ezkl's rescaling multipliers to choose from; None: the search tries 1, 2 and 10 (1 alone
    # with lookup tables: it keeps nonlinearities at the chosen scale, their tables small)
    scale_rebase_multiplier: tuple[int, ...] | None = None
    # how far lookup tables reach past the calibration samples' range (ezkl's
    # lookup_safety_margin); None: ezkl's 2, which the search narrows (never below 1) to fit
    # a finer scale into the same logrows when the error budget needs it
    lookup_margin: float | None = None
    # the largest circuit, 2^max_logrows rows: calibration splits a taller lookup table over
    # several columns (--optimize tries that), and a model whose circuit still needs more rows
    # is cut into segments of at most 2^max_logrows rows each (zkml.segments); None: no cap
    # on calibration, and segments of zkml.segments.DEFAULT_MAX_LOGROWS
    max_logrows: int | None = None
    # the error budget (zkml.fidelity), per output, on held-out samples: max_error (absolute)
    # when given, else max_error_pct % of the output's float spread (p99 - p1)
    max_error: float | None = None
    max_error_pct: float = 0.5
    # single-output models: the decision boundary; no held-out decision may flip across it
    decision_threshold: float | None = None
    # classifiers: least share of held-out samples whose argmax the circuit keeps
    min_agreement: float = 1.0

    def __post_init__(self) -> None:
        for name in ("calibration_scales", "scale_rebase_multiplier"):
            value = getattr(self, name)
            if value is not None:  # from JSON (optimize.json) it is a list
                object.__setattr__(self, name, tuple(value))
        if self.input_visibility not in INPUT_VISIBILITY:
            raise CircuitError(f"input visibility must be one of {', '.join(INPUT_VISIBILITY)}")
        if self.commitment not in COMMITMENTS:
            raise CircuitError(f"the commitment must be one of {', '.join(COMMITMENTS)}")
        if self.weights not in WEIGHT_VISIBILITY:
            raise CircuitError(f"weights must be one of {sorted(WEIGHT_VISIBILITY)}")
        if self.subjects is not None and self.subjects < 1:
            raise CircuitError("a proof needs at least one subject (--batch 1 or more)")
        if self.max_error is not None and not self.max_error >= 0:
            raise CircuitError("--max-error must be a number >= 0")
        if not self.max_error_pct > 0:
            raise CircuitError("--max-error-pct must be a percentage above 0")
        if not 0 <= self.min_agreement <= 1:
            raise CircuitError("--min-agreement must be between 0 and 1")
        if self.max_logrows is not None and not 9 <= self.max_logrows <= 26:
            raise CircuitError("--max-logrows must be between 9 (a range check's table) and 26 "
                               "(the largest SRS)")
        if self.lookup_margin is not None and not self.lookup_margin >= 1:
            raise CircuitError("the lookup margin must be at least 1 (the calibration range)")

    def scheme(self, subjects_per_proof: int) -> str | None:
        """The commitment scheme for a circuit of this many subjects; None: no commitment."""
        if self.input_visibility != "committed":
            return None
        if self.commitment != "auto":
            return self.commitment
        return "kzg" if subjects_per_proof <= subjects.KZG_MAX_SUBJECTS else "poseidon"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe_budget(self) -> str:
        """`max |error| <= 0.5 % of each output's spread` and the rest of the budget."""
        text = (f"max |error| <= {self.max_error:g} on held-out samples"
                if self.max_error is not None else
                f"max |error| <= {self.max_error_pct:g} % of each output's spread on held-out "
                "samples")
        if self.decision_threshold is not None:
            text += f", no decision flips at {self.decision_threshold:g}"
        return text + f"; a classifier keeps its argmax on >= {self.min_agreement:.0%} of them"

    @property
    def decomposition(self) -> tuple[int, int]:
        """(base, legs) of range checks: as given, else DECOMPOSITION."""
        return (self.decomp_base or DECOMPOSITION[0], self.decomp_legs or DECOMPOSITION[1])

    def describe(self) -> str:
        scales = ("calibrated scales" if self.calibration_scales is None
                  else f"scale {', '.join(map(str, self.calibration_scales))}")
        cols = "chosen" if self.num_inner_cols is None else self.num_inner_cols
        extra = "" if self.lookup_margin is None else f", lookup margin {self.lookup_margin:g}"
        if self.scale_rebase_multiplier is not None:
            extra += f", rebase x{','.join(map(str, self.scale_rebase_multiplier))}"
        if self.max_logrows is not None:
            extra += f", logrows <= {self.max_logrows}"
        decomposition = "chosen" if self.decomp_base is None else \
            f"{self.decomp_base}^{self.decomp_legs}"
        return (f"decomp {decomposition}, {cols} inner "
                f"columns, {self.calibration_target} calibration, {scales}{extra}")


@dataclass(frozen=True)
class CircuitSettings:
    """The parts of ezkl's settings.json that zkml reads."""

    logrows: int
    num_rows: int
    subjects: int  # one circuit input per subject
    input_scale: int
    output_scales: list[int]
    decomp_base: int
    decomp_legs: int
    input_visibility: str
    param_visibility: str
    lookup_range: tuple[int, int]  # what nonlinearities' lookup tables cover (fixed point)

    @classmethod
    def load(cls, layout: ModelLayout) -> CircuitSettings:
        layout.require(layout.settings, stage="compile")
        raw = read_json(layout.settings, "circuit settings")
        try:
            args = raw["run_args"]
            return cls(
                logrows=int(args["logrows"]),
                num_rows=int(raw["num_rows"]),
                subjects=len(raw["model_input_scales"]),
                input_scale=int(args["input_scale"]),
                output_scales=[int(s) for s in raw["model_output_scales"]],
                decomp_base=int(args["decomp_base"]),
                decomp_legs=int(args["decomp_legs"]),
                input_visibility=str(args["input_visibility"]),
                param_visibility=str(args["param_visibility"]),
                lookup_range=(int(args["lookup_range"][0]), int(args["lookup_range"][1])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CircuitError(
                f"{layout.settings} is not an ezkl settings file ({exc})",
                hint=f"run `zkml compile {layout.name} --force`",
            ) from None

    @property
    def commitment(self) -> str | None:
        """The scheme of the subjects' input commitments (zkml.subjects), or None."""
        if "KZGCommit" in self.input_visibility:
            return "kzg"
        return "poseidon" if "Hashed" in self.input_visibility else None

    @property
    def salted(self) -> bool:
        return self.commitment is not None

    def lookups_fit(self, witness: dict[str, Any]) -> bool:
        """Whether a witness's nonlinearities stay inside the lookup tables. One that does not
        would make ezkl's prover deadlock, not fail: check before proving."""
        low, high = self.lookup_range
        return low <= int(witness.get("min_lookup_inputs", 0)) and \
            int(witness.get("max_lookup_inputs", 0)) <= high

    @property
    def input_limit(self) -> float:
        """Largest |x| the input's fixed-point encoding can hold."""
        return (self.decomp_base**self.decomp_legs) / 2 / 2**self.input_scale


def run_args(options: CircuitOptions, subjects_per_proof: int) -> dict[str, Any]:
    """ezkl's PyRunArgs for these options, every visibility explicit."""
    scheme = options.scheme(subjects_per_proof)
    return {
        "input_visibility": "private" if scheme is None else COMMITMENT_VISIBILITY[scheme],
        "output_visibility": "public",
        "param_visibility": WEIGHT_VISIBILITY[options.weights],
        "decomp_base": options.decomposition[0],
        "decomp_legs": options.decomposition[1],
        "num_inner_cols": options.num_inner_cols or 1,
        # ezkl's Freivalds matmul check adds advice columns (and verifier gas) for batched
        # circuits; plain constraints are cheaper here
        "disable_freivalds": True,
        # ezkl would range-check every input and output element: rows that protect nothing
        # here, since zkml checks inputs before ezkl sees them, the commitment binds the input,
        # and the registry checks that outputs fit. It also lets a blinder be any field element.
        "ignore_range_check_inputs_outputs": True,
    }


def subjects_of(exported: ExportedModel, options: CircuitOptions) -> int:
    return options.subjects or exported.default_subjects


def make_settings(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions) -> None:
    """The circuit's graph (zkml.subjects), then gen_settings with explicit visibilities and
    calibration on the model's real samples."""
    n = subjects_of(exported, options)
    committed = options.scheme(n) is not None
    with atomic_path(layout.circuit_onnx) as graph:
        subjects.write_circuit_graph(layout.onnx, graph, exported.signature, n, committed)
    write_json(layout.calibration_data,
               subjects.calibration_data(exported.calibration, n, committed,
                                         exported.signature), private=True)
    with atomic_path(layout.settings) as tmp:
        try:
            _ezkl.call("gen_settings", str(layout.circuit_onnx), str(tmp),
                       py_run_args=run_args(options, n))
            choices: dict[str, Any] = {}  # ezkl's own lists where the options leave them open
            if options.calibration_scales is not None:
                choices["scales"] = list(options.calibration_scales)
            if options.scale_rebase_multiplier is not None:
                choices["scale_rebase_multiplier"] = list(options.scale_rebase_multiplier)
            if options.lookup_margin is not None:
                choices["lookup_safety_margin"] = options.lookup_margin
            if options.max_logrows is not None:
                choices["max_logrows"] = options.max_logrows
            _ezkl.call("calibrate_settings", str(layout.calibration_data),
                       str(layout.circuit_onnx), str(tmp), options.calibration_target, **choices)
        except _ezkl.EzklFailure as exc:
            raise _circuit_error(exc, layout) from exc
        if options.scheme(n) == "kzg":
            _keep_salt_in_every_column(tmp, exported.signature.features)


def _keep_salt_in_every_column(settings_path: Path, features: int) -> None:
    """Raise logrows where a subject spread over several KZG columns could leave one without
    blinders (zkml.subjects.commitment_logrows): a few rows more, never an unhidden column."""
    raw = read_json(settings_path, "circuit settings")
    logrows = int(raw["run_args"]["logrows"])
    needed = subjects.commitment_logrows(logrows, features)
    if needed != logrows:
        raw["run_args"]["logrows"] = needed
        settings_path.write_text(json.dumps(raw))


UNSUPPORTED_OP = re.compile(
    r"Unimplemented\((\w+)\)|Unknown op: (\w+)|Failed analyse for node .* (\w+)$", re.MULTILINE
)


def _unsupported_node(onnx_path: Path, ops: list[str]) -> tuple[str, str]:
    """The first ONNX node whose op type ezkl named as unknown: ("node 'n' (op type T)", T).
    ezkl names ops as its ONNX reader (tract) does: the ONNX op type, or for an op tract
    expands, tract's own name, which no node has (then the first name is said as it is)."""
    with contextlib.suppress(CircuitError):
        graph = subjects._load(onnx_path).graph
        for op in ops:
            for index, node in enumerate(graph.node):
                if node.op_type == op:
                    domain = f", domain {node.domain}" if node.domain not in ("", "ai.onnx") \
                        else ""
                    which = repr(node.name) if node.name else f"#{index}"
                    return f"node {which} (op type {op}{domain})", op
    return f"operator {ops[0]}", ops[0]


def _circuit_error(exc: _ezkl.EzklFailure, layout: ModelLayout) -> CircuitError:
    ops = [next(g for g in m.groups() if g) for m in UNSUPPORTED_OP.finditer(f"{exc}\n{exc.log}")]
    if ops:
        what, op = _unsupported_node(layout.onnx, ops)
        return CircuitError(
            f"ezkl cannot build a circuit for {layout.onnx}: unsupported {what}",
            hint=f"replace the {op} with supported ops (see ezkl's operator list)",
        )
    if "Reading proto model" in str(exc):
        return CircuitError(
            f"{layout.onnx} is not a readable ONNX model",
            hint=f"re-export it with `zkml export {layout.name}`",
        )
    return CircuitError(f"building the circuit failed: {exc}")


def probe(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions) -> None:
    """Before any calibration: the circuit graph computes what the model computes (in
    onnxruntime, on held-out samples, N subjects at once) and ezkl can read it (gen_settings,
    about a second). An op ezkl refuses is one line naming the node and its op type."""
    import tempfile

    n = subjects_of(exported, options)
    committed = options.scheme(n) is not None
    with tempfile.TemporaryDirectory(prefix="zkml-probe-") as scratch:
        graph = Path(scratch) / layout.circuit_onnx.name
        subjects.write_circuit_graph(layout.onnx, graph, exported.signature, n, committed)
        rows = subjects.groups(exported.holdout, n)[0]
        reference = [np.take(r, range(n), axis=0, mode="wrap")
                     for r in exported.holdout_reference]
        subjects.check_circuit_graph(graph, exported.signature, rows, reference, n, committed)
        try:
            _ezkl.call("gen_settings", str(graph), str(Path(scratch) / "settings.json"),
                       py_run_args=run_args(options, n))
        except _ezkl.EzklFailure as exc:
            raise _circuit_error(exc, layout) from exc


def compile_circuit(layout: ModelLayout) -> None:
    with atomic_path(layout.compiled) as tmp:
        try:
            _ezkl.call("compile_circuit", str(layout.circuit_onnx), str(tmp),
                       str(layout.settings))
        except _ezkl.EzklFailure as exc:
            raise _circuit_error(exc, layout) from exc


def input_limits(settings: CircuitSettings, signature: Signature) -> np.ndarray:
    """Per element of a subject's flat row, the largest |x| the circuit can hold: a float's
    fixed-point encoding at the circuit's scale, an integer's at scale 0."""
    limits = np.full(signature.features, settings.input_limit)
    for spec, (start, end) in zip(signature.inputs, signature.offsets(), strict=True):
        if spec.kind != "float":
            limits[start:end] = (settings.decomp_base**settings.decomp_legs) / 2
    return limits


def check_input(settings: CircuitSettings, signature: Signature, raw: Any,
                source: str) -> np.ndarray:
    """The subjects' flat rows (zkml.signature), after the checks of a file's input (shapes,
    dtypes, finite numbers) and of the circuit's range, before ezkl sees them."""
    rows = parse_input(raw, signature, source, settings.subjects)
    outside = np.argwhere(np.abs(rows) >= input_limits(settings, signature))
    if outside.size:
        # the element's index, never its value: inputs are private and errors reach logs
        subject, index = (int(v) for v in outside[0])
        limit = input_limits(settings, signature)[index]
        raise InputError(
            f"{source}: {signature.element(index)}"
            + (f" of subject {subject}" if settings.subjects > 1 else "")
            + f" is outside the circuit's input range (|x| < {limit:.6g})",
            hint="scale the input like the samples the circuit was calibrated on",
        )
    return rows


def witness(layout: ModelLayout, rows: np.ndarray, salts: list[int] | None,
            signature: Signature, output: Path | None = None) -> dict[str, Any]:
    """Run the compiled circuit on one proof's rows (one per subject, with their salts when
    inputs are committed); its outputs are what a proof would publish."""
    with private_scratch("input") as private_dir:
        data = ScratchLayout(private_dir).input
        write_private_text(data, json.dumps(subjects.input_data(rows, salts, signature)))
        try:
            return _ezkl.call(
                "gen_witness",
                str(data),
                str(layout.compiled),
                None if output is None else str(output),
            )
        except _ezkl.EzklFailure as exc:
            text = f"{exc} {exc.log}"
            if exc.stuck:
                raise CircuitError(f"running the circuit failed: {exc}") from exc
            if any(k in text for k in ("too large", "synthesis error", "decomposition", "lookup")):
                raise InputError(
                    "the input drives values outside what the circuit can represent",
                    hint="use inputs scaled like the calibration samples, or recompile with "
                    "samples that cover this range",
                ) from exc
            raise CircuitError(f"running the circuit failed: {exc}") from exc
