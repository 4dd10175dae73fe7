"""A model too large for one proof: segments of its graph, stitched by salted KZG commitments.

`--max-logrows L` says how large one circuit may be: 2^L rows. When the whole circuit needs
more, compile cuts the circuit graph (zkml.subjects' graph of the model) at tensor boundaries,
after a node where exactly one float tensor crosses to the nodes after it, into the fewest
segments whose circuits each fit 2^L rows, all at the same logrows (stitched commitments must
come from the same SRS and have the same column length). Each segment is its own circuit with
its own keys and proof; the proofs are independent once the witnesses are known (a witness
needs the previous segment's outputs: they run in order, and cheaply), so they are proved in
any order, in the local worker pool or on a Ray cluster, and a killed run resumes.

Links. Segment i's output (the activations where the graph was cut) is a KZG commitment
(ezkl's `polycommit`) in its proof, and segment i + 1's input is the same column, committed in
its own proof: a link holds when the two proofs carry the same points, byte for byte. ezkl's
commitment columns are unblinded, and the activations are a deterministic function of the
input: anyone who guesses an input could recompute them and their commitment. So every link
column carries salt. ezkl reveals, for each proof a column is in, one more linear equation on
its values (the proof's evaluation of it at that proof's challenge) beside the commitment
itself: a link column, in two proofs, gives 3 equations, a column in one proof 2. A column
hides its values when, for any guess of them, its unknown blinders can still satisfy every
equation: at least as many independent unknowns as equations, per column and over any set of
columns (Hall's condition, generic coefficients). The layout:

- Segment 0 takes a second input beside the subject's column (zkml.subjects): the salt column
  X, every link's blinders F followed, after every CHUNK - 2 values (and the last), by 2 of
  its own (as a subject's column). One proof: 2 equations per column, 2 own unknowns.
- Link i is `activations_i ‖ T_i`, T_i being the blinders of the links after it (carried
  along so that no later segment needs an input of its own), followed after every CHUNK - 3
  values (and the last) by 3 blinders of its own, beta_i, which come from F (through T).
  Two proofs: 3 equations per column, 3 own unknowns.
Every column owns at least as many blinders as it has equations, and no blinder is owned by two
columns, so every set of columns has as many unknowns as equations: no guess of the input can
be confirmed (hiding is computational only in that the blinders come from the subject's 256-bit
salt through SHA-512, as the input's do). The cost is one small column (X) for the whole chain,
and Gathers and a Concat, which cost ezkl no rows. setup checks that every link column holds a
full set of blinders at the column length ezkl chose.

Scales. Every segment is calibrated at the chain's scale s (calibration picks each segment's
rescaling multiplier from 1 and 2, so no activation exceeds scale 2s) on the activations the
segments before it compute on the same calibration samples. A link carries its activations at
the scale segment i left them, s_out (s or 2s); segment i + 1 reads its input at scale s and
multiplies it by 2^-(s_out - s), a constant that is exactly 2^(2s - s_out) at scale s: one row
per value, and the values keep segment i's fixed point exactly. The fidelity report measures
the whole chain, witness by witness, against the float model.

On chain, the registry's verifier for a segmented model is a SegmentChain contract (package
data beside the registry): it holds the segments' verifiers (their addresses and code hashes
and the link layout, pinned in its code by an immutable digest), checks every link byte for byte
in the calldata and calls each verifier; the proof it takes is the segments' proofs concatenated,
segment 0 first (so the subject's commitment points are the first points, where the registry
reads them), with the last segment's public instances.

What a segmented model's folder holds: settings.json describes the chain (ezkl's fields zkml
reads, from the first segment's input and the last segment's outputs, and "segments": the plan
with every file's digest); vk.key is the chain's verifying key (JSON: each segment's key
digest, proof length and link positions), whose sha256 is the version's key on chain; each
segment's circuit, settings, keys and verifier live in segments/NN/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml import _ezkl, subjects
from zkml.circuit import CircuitOptions, CircuitSettings, run_args
from zkml.errors import (
    ArtifactError,
    CircuitError,
    InputError,
    ProofError,
    SetupError,
    VerificationFailed,
)
from zkml.export import ExportedModel
from zkml.felts import FIELD_MODULUS, int_to_felt
from zkml.fidelity import FidelityReport
from zkml.keys import SetupResult
from zkml.layout import (
    ModelLayout,
    atomic_path,
    private_scratch,
    read_json,
    sha256_file,
    write_json,
    write_private_text,
)
from zkml.progress import Progress, ProgressHook, ignore
from zkml.proof import Proof, Verification

log = logging.getLogger("zkml")

# 2^18 rows: a segment's proof peaks at about 2 GB here (README, Segments), so two segments
# proving at once (the pool's default on 2 cores) stay near 4 GB of this 24 GB machine
DEFAULT_MAX_LOGROWS = 18
LINK_BLINDERS = 3  # per chunk of a link column: it is in two proofs
SALT_BLINDERS = subjects.BLINDERS  # per chunk of the salt column X: one proof, as a subject
CHUNK = subjects.CHUNK
SALT_INPUT = "zkml_link_salt"
LINK_INPUT = "zkml_link_in"
LINK_OUTPUT = "zkml_link_out"
CHAIN_SCALES = (12, 10, 8, 14)  # the chain's scale: the first that runs and meets the budget
REBASE = (1, 2)  # rescaling multipliers a segment may use: activations stay <= scale 2s
FILL = 0.97  # of 2^L rows, what the row estimates may plan a segment to fill
RESERVED_ROWS = 8  # ezkl keeps this many of a circuit's rows (RESERVED_BLINDING_ROWS)
LINK_TAG = b"zkml segment link"
MAX_CROSSING = 16  # tensors a cut may carry in its link (a split layer's parts, a skip)


def link_blinders(salt: int, count: int) -> list[int]:
    """The chain's blinders, from the subject's salt: SHA-512 of (salt, tag, i), mod p, apart
    from the input's own (zkml.subjects.blinders hashes no tag)."""
    secret = salt.to_bytes(subjects.SALT_BITS // 8, "big") + LINK_TAG
    return [int.from_bytes(hashlib.sha512(secret + i.to_bytes(8, "big")).digest(), "big")
            % FIELD_MODULUS for i in range(count)]


def chunks(count: int, per: int) -> int:
    return max(1, math.ceil(count / (CHUNK - per)))


def cells(count: int, per: int) -> tuple[np.ndarray, np.ndarray]:
    """A column of `count` values with `per` blinders after every CHUNK - per of them (and
    after the last): the cells of its values, and of its blinders, in order."""
    step = CHUNK - per
    values = np.arange(count, dtype=np.int64)
    value_cells = values + per * (values // step)
    blinder_cells = []
    for k in range(chunks(count, per)):
        filled = min(step, count - k * step)
        blinder_cells += [k * CHUNK + filled + j for j in range(per)]
    return value_cells, np.asarray(blinder_cells, dtype=np.int64)


def width(count: int, per: int) -> int:
    return count + per * chunks(count, per)


def interleave(values: list[Any], blinder_values: list[Any], per: int) -> list[Any]:
    """A column as `cells` lays it out."""
    value_cells, blinder_cells = cells(len(values), per)
    column: list[Any] = [None] * (len(values) + len(blinder_cells))
    for cell, value in zip(value_cells, values, strict=True):
        column[cell] = value
    for cell, value in zip(blinder_cells, blinder_values, strict=True):
        column[cell] = value
    return column


# ------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class Cut:
    """A tensor boundary of the circuit graph: nodes[:index] before it, these tensors (at most
    MAX_CROSSING, computed, float) crossing to the nodes after it, in the link in this order."""

    index: int
    tensors: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @property
    def sizes(self) -> list[int]:
        return [math.prod(shape) for shape in self.shapes]

    @property
    def values(self) -> int:
        return sum(self.sizes)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "tensors": list(self.tensors),
                "shapes": [list(s) for s in self.shapes]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Cut:
        return cls(int(raw["index"]), tuple(str(t) for t in raw["tensors"]),
                   tuple(tuple(int(d) for d in s) for s in raw["shapes"]))


@dataclass
class SegmentSpec:
    """One segment as settings.json records it."""

    start: int  # circuit-graph nodes [start, end)
    end: int
    cut: Cut | None  # where it ends (None: the last segment, ending at the model's outputs)
    tail: int = 0  # blinders of later links its output carries
    blinders: int = 0  # its output link's own (LINK_BLINDERS per chunk)
    input_shift: int = 0  # s_in - s: its input link's scale above the chain's (0 or s)
    output_scale: int = 0
    rows: int = 0
    files: dict[str, str] = field(default_factory=dict)  # sha256 of circuit, settings, compiled

    @property
    def link_width(self) -> int:
        """Cells of its output link column (0 for the last segment)."""
        if self.cut is None:
            return 0
        return self.cut.values + self.tail + self.blinders

    def as_dict(self) -> dict[str, Any]:
        raw = dataclasses.asdict(self)
        raw["cut"] = None if self.cut is None else self.cut.as_dict()
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SegmentSpec:
        cut = raw.get("cut")
        return cls(**{**raw, "cut": None if cut is None else Cut.from_dict(cut)})


@dataclass
class Chain:
    """settings.json's "segments": how the model was cut and stitched."""

    max_logrows: int
    logrows: int
    scale: int
    segments: list[SegmentSpec]

    @property
    def salt_values(self) -> int:
        """Blinders the salt column carries for the links (F)."""
        first = self.segments[0]
        return first.blinders + first.tail

    @property
    def salt_width(self) -> int:
        return width(self.salt_values, SALT_BLINDERS)

    def as_dict(self) -> dict[str, Any]:
        return {"max_logrows": self.max_logrows, "logrows": self.logrows, "scale": self.scale,
                "list": [s.as_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Chain:
        return cls(int(raw["max_logrows"]), int(raw["logrows"]), int(raw["scale"]),
                   [SegmentSpec.from_dict(s) for s in raw["list"]])

    def assign_blinders(self) -> None:
        """Each link's own blinders and the later links' it carries, from the last link back."""
        carried = 0
        for spec in reversed(self.segments[:-1]):
            assert spec.cut is not None
            spec.tail = carried
            spec.blinders = LINK_BLINDERS * chunks(spec.cut.values + carried, LINK_BLINDERS)
            carried += spec.blinders


def chain_of(layout: ModelLayout) -> Chain | None:
    """The model's chain, if its circuit is segmented (settings.json says so)."""
    try:
        raw = read_json(layout.settings, "circuit settings")
    except ArtifactError:  # missing or unreadable: whoever reads it next says so
        return None
    segments = raw.get("segments") if isinstance(raw, dict) else None
    if segments is None:
        return None
    try:
        return Chain.from_dict(segments)
    except (KeyError, TypeError, ValueError):
        raise ArtifactError(f"{layout.settings} describes its segments incompletely",
                            hint=f"run `zkml compile {layout.name} --force`") from None


def is_segmented(layout: ModelLayout) -> bool:
    return chain_of(layout) is not None


def max_logrows(options: CircuitOptions) -> int:
    return options.max_logrows or DEFAULT_MAX_LOGROWS


def fits(settings: CircuitSettings, limit: int) -> bool:
    """Whether a circuit fits 2^limit rows as it is laid out. ezkl would also fit a taller one
    into 2^limit by spreading it over more columns: the same work and memory, so no fit."""
    return settings.logrows <= limit and settings.num_rows + RESERVED_ROWS <= 2**limit


# ------------------------------------------------------------------------------ the graphs


def _whole_graph(layout: ModelLayout, exported: ExportedModel, committed: bool,
                 scratch: Path) -> Any:
    """The circuit graph of the whole model (one subject), its Constant nodes as initializers
    (a constant used on both sides of a cut is then no crossing tensor)."""
    import onnx
    from onnx import numpy_helper

    path = scratch / "whole.onnx"
    subjects.write_circuit_graph(layout.onnx, path, exported.signature, 1, committed)
    model = onnx.load(str(path))
    nodes = []
    for node in model.graph.node:
        value = next((a for a in node.attribute if a.name == "value"), None)
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and value is not None:
            model.graph.initializer.append(
                numpy_helper.from_array(numpy_helper.to_array(value.t), node.output[0]))
        else:
            nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def _crossing(model: Any) -> list[tuple[int, list[str]]]:
    """(index, tensors) for every node boundary that 1 to MAX_CROSSING computed tensors cross
    (none of them a graph input or output), in the order they were computed."""
    graph = model.graph
    constants = {i.name for i in graph.initializer}
    inputs = {i.name for i in graph.input}
    outputs = {o.name for o in graph.output}
    nodes = list(graph.node)
    last_use: dict[str, int] = {}
    for k, node in enumerate(nodes):
        for name in node.input:
            last_use[name] = k
    for name in outputs:
        last_use[name] = len(nodes)
    found = []
    alive: list[str] = list(inputs)
    first_model_node = next((k for k, n in enumerate(nodes)
                             if not n.name.startswith("zkml_")), 0)
    for k, node in enumerate(nodes):
        alive += [o for o in node.output if o]
        alive = [t for t in alive if last_use.get(t, -1) > k and t not in constants]
        if first_model_node < k + 1 < len(nodes) and 1 <= len(alive) <= MAX_CROSSING and \
                not set(alive) & (inputs | outputs):
            found.append((k + 1, list(alive)))
    return found


def _column_feeds(rows: np.ndarray, exported: ExportedModel, committed: bool) -> np.ndarray:
    """The subject's column for onnxruntime, blinders zero."""
    values = subjects.column_values(rows, exported.signature).astype(
        subjects.column_type(exported.signature))
    if not committed:
        return values
    zeros = [0] * (subjects.BLINDERS * subjects.chunks(exported.signature.features))
    return np.array([subjects.interleave(list(v), zeros) for v in values], values.dtype)


def _activations(model: Any, exported: ExportedModel, committed: bool, tensors: list[str],
                 rows: np.ndarray, scratch: Path) -> dict[str, np.ndarray]:
    """Each tensor's values on each row (samples, values), by onnxruntime on the graph."""
    import onnx
    from onnx import helper

    from zkml.export import onnx_session

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for tensor in tensors:
        probe.graph.output.append(helper.make_empty_tensor_value_info(tensor))
    path = scratch / "activations.onnx"
    onnx.save(probe, str(path))
    session = onnx_session(path)
    names = [o.name for o in session.get_outputs()]
    feeds = _column_feeds(rows, exported, committed)
    found: dict[str, list[np.ndarray]] = {t: [] for t in tensors}
    for row in feeds:
        for name, value in zip(names, session.run(None, {subjects.SUBJECT_INPUT.format(0):
                                                         row[None]}), strict=True):
            if name in found:
                found[name].append(np.asarray(value))
    return {t: np.stack(v) for t, v in found.items()}


def cuts(model: Any, exported: ExportedModel, committed: bool, scratch: Path
         ) -> tuple[list[Cut], dict[str, np.ndarray]]:
    """The graph's tensor boundaries where float tensors of fixed shape cross, and their
    values on the calibration samples (what the segment after the cut is calibrated on)."""
    found = _crossing(model)
    tensors = sorted({t for _, names in found for t in names})
    values = _activations(model, exported, committed, tensors, exported.calibration, scratch)

    def usable(tensor: str) -> bool:
        sample = values[tensor]
        return sample.dtype == np.float32 and sample.ndim >= 2 and sample.shape[1] == 1

    kept = [Cut(index, tuple(names), tuple(tuple(int(d) for d in values[t].shape[1:])
                                           for t in names))
            for index, names in found if all(usable(t) for t in names)]
    return kept, {t: values[t].reshape(len(exported.calibration), -1)
                  for t in tensors if usable(t)}


def _const(name: str, value: np.ndarray) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(value, name)


def segment_model(whole: Any, chain: Chain, i: int) -> Any:
    """Segment i's graph (see the module's docstring): the nodes between its cuts; its input
    the subject's column and the salt column (segment 0) or the previous link; its output the
    next link, or the model's outputs."""
    from onnx import TensorProto, helper

    spec = chain.segments[i]
    graph = whole.graph
    nodes = list(graph.node[spec.start:spec.end])
    extra: list[Any] = []
    head: list[Any] = []
    if i == 0:
        inputs = [graph.input[0]]
        if len(chain.segments) > 1:
            inputs.append(helper.make_tensor_value_info(SALT_INPUT, TensorProto.FLOAT,
                                                        [1, chain.salt_width]))
        source, source_cells = SALT_INPUT, cells(chain.salt_values, SALT_BLINDERS)[0]
    else:
        before = chain.segments[i - 1]
        assert before.cut is not None
        cut = before.cut
        inputs = [helper.make_tensor_value_info(LINK_INPUT, TensorProto.FLOAT,
                                                [1, before.link_width])]
        value_cells = cells(cut.values + before.tail, LINK_BLINDERS)[0]
        if spec.input_shift:
            # the link's values at scale s + shift, read at scale s: times 2^-shift, which is
            # exactly 2^(s - shift) at the chain's scale s (module docstring, Scales)
            extra.append(_const("zkml_link_shift", np.array(2.0**-spec.input_shift,
                                                            np.float32)))
        offset = 0
        for j, (tensor, shape, size) in enumerate(zip(cut.tensors, cut.shapes, cut.sizes,
                                                      strict=True)):
            tag = f"zkml_link_{j}"
            extra += [_const(f"{tag}_cells", value_cells[offset:offset + size]),
                      _const(f"{tag}_shape", np.array(shape, np.int64))]
            offset += size
            shaped = f"{tag}_shaped" if spec.input_shift else tensor
            head += [helper.make_node("Gather", [LINK_INPUT, f"{tag}_cells"], [f"{tag}_values"],
                                      axis=1, name=f"{tag}_gather"),
                     helper.make_node("Reshape", [f"{tag}_values", f"{tag}_shape"], [shaped],
                                      name=f"{tag}_reshape")]
            if spec.input_shift:
                head.append(helper.make_node("Mul", [shaped, "zkml_link_shift"], [tensor],
                                             name=f"{tag}_shift"))
        source, source_cells = LINK_INPUT, value_cells[cut.values:]
    if spec.cut is None:
        outputs = list(graph.output)
    else:
        values, carried = spec.cut.values, spec.blinders + spec.tail
        extra += [_const("zkml_out_tail", np.asarray(source_cells[:carried], np.int64)),
                  _const("zkml_out_order", _link_order(values, spec.tail, spec.blinders))]
        flat = []
        for j, (tensor, size) in enumerate(zip(spec.cut.tensors, spec.cut.sizes, strict=True)):
            extra.append(_const(f"zkml_out_{j}_shape", np.array([1, size], np.int64)))
            flat.append(f"zkml_out_{j}_values")
            nodes.append(helper.make_node("Reshape", [tensor, f"zkml_out_{j}_shape"],
                                          [flat[-1]], name=f"zkml_out_{j}_flatten"))
        nodes += [helper.make_node("Gather", [source, "zkml_out_tail"], ["zkml_out_carried"],
                                   axis=1, name="zkml_out_gather"),
                  helper.make_node("Concat", [*flat, "zkml_out_carried"],
                                   ["zkml_out_cat"], axis=1, name="zkml_out_concat"),
                  helper.make_node("Gather", ["zkml_out_cat", "zkml_out_order"],
                                   [LINK_OUTPUT], axis=1, name="zkml_out_interleave")]
        outputs = [helper.make_tensor_value_info(LINK_OUTPUT, TensorProto.FLOAT,
                                                 [1, spec.link_width])]
    used = {name for node in head + nodes for name in node.input}
    initializers = [init for init in graph.initializer if init.name in used] + extra
    model = helper.make_model(helper.make_graph(head + nodes, f"segment_{i}", inputs, outputs,
                                                initializers),
                              opset_imports=list(whole.opset_import))
    model.ir_version = whole.ir_version
    return model


SPLITTABLE = ("Conv", "Gemm", "MatMul")


def split_node(model: Any, index: int, parts: int) -> Any | None:
    """The graph with node `index` (a Conv, Gemm or MatMul with constant weights) computed in
    `parts` slices of its output features, concatenated: the same values, and tensor
    boundaries between the slices to cut at. None when the node cannot be split so."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    node = graph.node[index]
    weights = {i.name: i for i in graph.initializer}
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type not in SPLITTABLE or len(node.input) < 2 or node.input[1] not in weights:
        return None
    weight = numpy_helper.to_array(weights[node.input[1]])
    bias = numpy_helper.to_array(weights[node.input[2]]) \
        if len(node.input) > 2 and node.input[2] in weights else None
    if node.op_type == "Conv":
        if attributes.get("group", 1) != 1:
            return None
        axis, out_axis = 0, 1  # weight [M, C, kh, kw]; output [N, M, H, W]
    elif node.op_type == "Gemm":
        if attributes.get("transA", 0) or weight.ndim != 2:
            return None
        axis, out_axis = (0 if attributes.get("transB", 0) else 1), 1
    else:
        if weight.ndim != 2 or len(node.input) != 2:
            return None
        axis, out_axis = 1, -1
    features = weight.shape[axis]
    if bias is not None and bias.size not in (1, features):
        return None
    parts = min(parts, features)
    if parts < 2:
        return None
    bounds = np.linspace(0, features, parts + 1).round().astype(int)
    split = onnx.ModelProto()
    split.CopyFrom(model)
    nodes = list(split.graph.node)
    pieces, outputs = [], []
    for p, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        tag = f"{node.name or node.op_type}_zkml_part{p}"
        split.graph.initializer.append(numpy_helper.from_array(
            np.take(weight, range(a, b), axis=axis), f"{tag}_weight"))
        inputs = [node.input[0], f"{tag}_weight"]
        if bias is not None:
            split.graph.initializer.append(numpy_helper.from_array(
                bias.reshape(-1)[a:b].reshape((b - a,) if bias.ndim == 1 else (1, b - a))
                if bias.size == features else bias, f"{tag}_bias"))
            inputs.append(f"{tag}_bias")
        outputs.append(f"{tag}_out")
        pieces.append(helper.make_node(node.op_type, inputs, [outputs[-1]], name=tag,
                                       **attributes))
    pieces.append(helper.make_node("Concat", outputs, [node.output[0]], axis=out_axis,
                                   name=f"{node.name or node.op_type}_zkml_concat"))
    del split.graph.node[:]
    split.graph.node.extend(nodes[:index] + pieces + nodes[index + 1:])
    return split


def _link_order(values: int, tail: int, blinders: int) -> np.ndarray:
    """Where each cell of a link column comes from in [activations ‖ own blinders ‖ tail]."""
    value_cells, blinder_cells = cells(values + tail, LINK_BLINDERS)
    order = np.zeros(values + tail + blinders, np.int64)
    positions = np.arange(values + tail)
    order[value_cells] = np.where(positions < values, positions, positions + blinders)
    order[blinder_cells] = values + np.arange(blinders)
    return order


# ------------------------------------------------------------------------------ compile


def _segment_args(options: CircuitOptions, i: int, count: int, scale: int,
                  rebase: int = REBASE[-1]) -> dict[str, Any]:
    """ezkl's run args for segment i: the subject's visibility for segment 0's input, KZG
    commitments for every link, public outputs at the end."""
    args = run_args(options, 1)
    if i > 0:
        args["input_visibility"] = "polycommit"
    if i < count - 1:
        args["output_visibility"] = "polycommit"
    args.update(input_scale=scale, param_scale=scale, scale_rebase_multiplier=rebase,
                num_inner_cols=options.num_inner_cols or 1)
    return args


def check_options(options: CircuitOptions, subjects_per_proof: int) -> None:
    """What a segmented circuit does not do (yet), refused in one line before any work."""
    if subjects_per_proof > 1:
        raise CircuitError(f"a segmented circuit proves one subject at a time, not "
                           f"{subjects_per_proof}",
                           hint="drop --batch, or raise --max-logrows until the model fits "
                           "one circuit")
    if options.scheme(1) == "poseidon":
        raise CircuitError("a segmented circuit commits to its input with KZG, not Poseidon",
                           hint="use --commitment kzg (or auto)")
    if options.weights == "hashed":
        raise CircuitError("a segmented circuit keeps its weights fixed; hashed weights would "
                           "publish one hash per segment",
                           hint="drop --weights-visibility hashed, or raise --max-logrows")


def _rows(graph: Any, args: dict[str, Any], scratch: Path, name: str) -> int:
    """ezkl's row count for a graph (gen_settings: no calibration, a second or a few)."""
    import onnx

    path, settings = scratch / f"{name}.onnx", scratch / f"{name}.json"
    onnx.save(graph, str(path))
    try:
        _ezkl.call("gen_settings", str(path), str(settings), py_run_args=args)
    except _ezkl.EzklFailure as exc:
        raise CircuitError(f"ezkl cannot lay out part of the model ({name}): {exc}") from exc
    return int(read_json(settings, "settings")["num_rows"])


def _plan(whole: Any, found: list[Cut], options: CircuitOptions, scale: int, limit: int,
          scratch: Path, progress: ProgressHook) -> list[SegmentSpec]:
    """The fewest segments whose estimated rows fit 2^limit: each stretch between two cuts
    laid out alone once (its rows), then packed greedily."""
    bounds = [0, *[c.index for c in found], len(whole.graph.node)]
    blocks = [SegmentSpec(a, b, cut) for a, b, cut in zip(bounds[:-1], bounds[1:], [*found, None],
                                                          strict=True)]
    probe = Chain(limit, limit, scale, blocks)
    probe.assign_blinders()
    for i, block in enumerate(blocks):
        if i > 0:
            block.input_shift = scale  # at most: one row per value
        progress(Progress("compile", f"estimating part {i + 1} of {len(blocks)} "
                          f"({whole.graph.node[block.start].op_type} …)", i, len(blocks)))
        block.rows = _rows(segment_model(whole, probe, i),
                           _segment_args(options, i, len(blocks), scale), scratch, f"part{i}")
    room = FILL * 2**limit
    segments: list[SegmentSpec] = []
    for block in blocks:
        if block.rows > room:
            raise _TooLarge(block, math.ceil(block.rows / room))
        last = segments[-1] if segments else None
        if last is not None and last.rows + block.rows <= room:
            segments[-1] = SegmentSpec(last.start, block.end, block.cut,
                                       rows=last.rows + block.rows)
        else:
            segments.append(SegmentSpec(block.start, block.end, block.cut, rows=block.rows))
    return segments


class _TooLarge(Exception):
    """The nodes between two cuts need more rows than a segment holds."""

    def __init__(self, block: SegmentSpec, parts: int) -> None:
        super().__init__(block.rows)
        self.block, self.parts = block, parts


def _splittable(whole: Any, block: SegmentSpec) -> int | None:
    """The one layer with weights between two cuts, which split_node can slice."""
    found = [k for k in range(block.start, block.end)
             if whole.graph.node[k].op_type in SPLITTABLE]
    return found[0] if len(found) == 1 else None


def plan(whole: Any, exported: ExportedModel, options: CircuitOptions, committed: bool,
         scratch: Path, progress: ProgressHook = ignore
         ) -> tuple[Any, list[Cut], dict[str, np.ndarray], list[SegmentSpec]]:
    """The graph's cuts and the segments planned over them (a layer too large for one segment
    computed in slices first), with the activations every cut carries on the calibration
    samples."""
    limit = max_logrows(options)
    while True:
        found, activations = cuts(whole, exported, committed, scratch)
        if not found:
            raise CircuitError(f"the model needs more than 2^{limit} rows and has no tensor "
                               "boundary to cut it at", hint="raise --max-logrows")
        try:
            planned = _plan(whole, found, options, CHAIN_SCALES[0], limit, scratch,
                            progress)
            break
        except _TooLarge as large:
            index = _splittable(whole, large.block)
            split = None if index is None else split_node(whole, index, large.parts + 1)
            if split is None or large.parts > MAX_CROSSING // 2:
                node = whole.graph.node[large.block.start]
                need = math.ceil(math.log2(large.block.rows / FILL))
                raise CircuitError(
                    f"node {node.name or node.op_type!r} and the nodes up to the next "
                    f"tensor boundary need about {large.block.rows:,} rows, more than one "
                    f"circuit of 2^{limit} holds", hint=f"raise --max-logrows to {need}"
                ) from None
            node = whole.graph.node[index]
            progress(Progress("compile", f"{node.name or node.op_type} needs about "
                              f"{large.block.rows:,} rows: computing it in "
                              f"{large.parts + 1} slices of its outputs"))
            whole = split
    return whole, found, activations, planned


def _split(segments: list[SegmentSpec], i: int, found: list[Cut]) -> list[SegmentSpec]:
    """Segment i in two at the cut nearest its middle (its calibrated circuit did not fit)."""
    spec = segments[i]
    inside = [c for c in found if spec.start < c.index < spec.end]
    if not inside:
        return []
    middle = min(inside, key=lambda c: abs(c.index - (spec.start + spec.end) / 2))
    halves = [SegmentSpec(spec.start, middle.index, middle, rows=spec.rows // 2),
              SegmentSpec(middle.index, spec.end, spec.cut, rows=spec.rows - spec.rows // 2)]
    return segments[:i] + halves + segments[i + 1:]


def _calibration_rows(chain: Chain, i: int, exported: ExportedModel, committed: bool,
                      activations: dict[str, np.ndarray]) -> dict[str, Any]:
    """Segment i's calibration data: segment 0 the samples' columns (the salt column zero),
    segment i > 0 the previous cut's activations in the link column, read at scale s (so
    2^shift times their values), blinders zero."""
    count = len(exported.calibration)
    if i == 0:
        data = subjects.calibration_data(exported.calibration, 1, committed, exported.signature)
        if len(chain.segments) > 1:
            data["input_data"].append([0.0] * (chain.salt_width * count))
        return data
    before = chain.segments[i - 1]
    assert before.cut is not None
    value_cells = cells(before.cut.values + before.tail, LINK_BLINDERS)[0][:before.cut.values]
    columns = np.zeros((count, before.link_width))
    values = np.concatenate([activations[t] for t in before.cut.tensors], axis=1)
    columns[:, value_cells] = values * 2.0 ** chain.segments[i].input_shift
    return {"input_data": [columns.ravel().tolist()]}


def _calibrate(whole: Any, chain: Chain, i: int, options: CircuitOptions,
               exported: ExportedModel, committed: bool, activations: dict[str, np.ndarray],
               target: ModelLayout) -> bool:
    """Write, set up and calibrate segment i's graph in target; False when it does not fit
    2^max_logrows rows."""
    import onnx

    target.root.mkdir(parents=True, exist_ok=True)
    with atomic_path(target.circuit_onnx) as tmp:
        onnx.save(segment_model(whole, chain, i), str(tmp))
    write_json(target.calibration_data,
               _calibration_rows(chain, i, exported, committed, activations), private=True)
    choices: dict[str, Any] = {"scales": [chain.scale], "scale_rebase_multiplier": list(REBASE),
                               "max_logrows": chain.max_logrows}
    if options.lookup_margin is not None:
        choices["lookup_safety_margin"] = options.lookup_margin
    with atomic_path(target.settings) as tmp:
        try:
            _ezkl.call("gen_settings", str(target.circuit_onnx), str(tmp),
                       py_run_args=_segment_args(options, i, len(chain.segments), chain.scale))
            _ezkl.call("calibrate_settings", str(target.calibration_data),
                       str(target.circuit_onnx), str(tmp), options.calibration_target, **choices)
        except _ezkl.EzklFailure as exc:
            log.info("segment %d does not calibrate at scale %d within 2^%d rows: %s", i,
                     chain.scale, chain.max_logrows, exc)
            return False
    return fits(CircuitSettings.load(target), chain.max_logrows)


class _ScaleFails(Exception):
    """A segment of one cut stretch does not calibrate at this scale: try the next scale."""


def _build(whole: Any, planned: list[SegmentSpec], found: list[Cut], options: CircuitOptions,
           exported: ExportedModel, committed: bool, activations: dict[str, np.ndarray],
           scale: int, root: Path, progress: ProgressHook) -> Chain:
    """Calibrate the planned segments in order (splitting one that does not fit), give them
    one logrows, compile them; the chain, its segments in root/NN."""
    segments = [dataclasses.replace(s) for s in planned]
    limit = max_logrows(options)
    i = 0
    while True:
        chain = Chain(limit, limit, scale, segments)
        chain.assign_blinders()  # fixed by the cuts: a split starts again from segment 0
        if i == len(segments):
            break
        progress(Progress("compile", f"calibrating segment {i + 1} of {len(segments)} at "
                          f"scale {scale}", i, len(segments)))
        target = ModelLayout(root / f"{i:02d}")
        if _calibrate(whole, chain, i, options, exported, committed, activations, target):
            settings = CircuitSettings.load(target)
            segments[i].output_scale = settings.output_scales[0]
            if i + 1 < len(segments):
                shift = settings.output_scales[0] - scale
                if not 0 <= shift <= scale:
                    raise _ScaleFails(f"segment {i + 1}'s output is at scale "
                                      f"{settings.output_scales[0]}")
                segments[i + 1].input_shift = shift
            i += 1
            continue
        split = _split(segments, i, found)
        if not split:
            raise _ScaleFails(f"segment {i + 1} does not calibrate")
        segments = split
        i = 0  # the links' blinders changed: every graph is written again
    # one logrows for every segment (and segment 0's subject column keeps its salt per column)
    logrows = max(CircuitSettings.load(ModelLayout(root / f"{i:02d}")).logrows
                  for i in range(len(segments)))
    if committed:
        logrows = subjects.commitment_logrows(logrows, exported.signature.features)
    chain = Chain(limit, logrows, scale, segments)
    chain.assign_blinders()
    for i, spec in enumerate(segments):
        target = ModelLayout(root / f"{i:02d}")
        raw = read_json(target.settings, "segment settings")
        raw["run_args"]["logrows"] = logrows
        with atomic_path(target.settings) as tmp:
            tmp.write_text(json.dumps(raw))
        progress(Progress("compile", f"compiling segment {i + 1} of {len(segments)}", i,
                          len(segments)))
        with atomic_path(target.compiled) as tmp:
            try:
                _ezkl.call("compile_circuit", str(target.circuit_onnx), str(tmp),
                           str(target.settings))
            except _ezkl.EzklFailure as exc:
                raise CircuitError(f"compiling segment {i + 1} failed: {exc}") from exc
        spec.rows = int(raw["num_rows"])
        spec.files = {name: sha256_file(getattr(target, name))
                      for name in ("circuit_onnx", "settings", "compiled")}
    return chain


def salt_column(chain: Chain, salt: int) -> list[str]:
    """Segment 0's second input: the links' blinders and the column's own, as field elements."""
    values = chain.salt_values
    drawn = link_blinders(salt, width(values, SALT_BLINDERS))
    return [int_to_felt(b) for b in interleave(drawn[:values], drawn[values:], SALT_BLINDERS)]


def segment_layouts(layout: ModelLayout, chain: Chain) -> list[ModelLayout]:
    return [layout.segment(i) for i in range(len(chain.segments))]


def keys_of(layout: ModelLayout, kind: str) -> list[Path]:
    """The model's proving ("pk") or verifying ("vk") key files: its own, or its segments'."""
    chain = chain_of(layout)
    owners = [layout] if chain is None else segment_layouts(layout, chain)
    return [getattr(owner, kind) for owner in owners]


def witnesses(parts: list[ModelLayout], chain: Chain, row: np.ndarray, salt: int,
              committed: bool, signature: Any, scratch: Path, keep: bool = False,
              seconds: list[float] | None = None, progress: ProgressHook = ignore
              ) -> list[dict[str, Any]]:
    """Run the segments in order (the chain's first len(parts)) on one subject's row: each
    witness (written to scratch/NN.witness.json when keep, its time appended to seconds), each
    segment's input the previous one's output column."""
    found = []
    data: list[Any] = subjects.input_data(np.asarray(row)[None], [salt] if committed else None,
                                          signature)["input_data"]
    if len(chain.segments) > 1:
        data.append(salt_column(chain, salt))
    for i, part in enumerate(parts):
        source = scratch / f"{i:02d}.input.json"
        source.unlink(missing_ok=True)
        write_private_text(source, json.dumps({"input_data": data}))
        target = scratch / f"{i:02d}.witness.json" if keep else None
        progress(Progress("prove", f"witness of segment {i + 1}", i, len(parts)))
        begun = time.perf_counter()
        try:
            result = _ezkl.call("gen_witness", str(source), str(part.compiled),
                                None if target is None else str(target))
        except _ezkl.EzklFailure as exc:
            text = f"{exc} {exc.log}"
            if not exc.stuck and any(k in text for k in ("too large", "synthesis error",
                                                          "decomposition", "lookup")):
                raise InputError(f"the input drives segment {i + 1}'s values outside what its "
                                 "circuit can represent",
                                 hint="use inputs scaled like the calibration samples") from exc
            raise CircuitError(f"running segment {i + 1} failed: {exc}") from exc
        source.unlink()
        if seconds is not None:
            seconds.append(time.perf_counter() - begun)
        found.append(result)
        data = [result["outputs"][0]]
    return found


def _fidelity(parts: list[ModelLayout], chain: Chain, exported: ExportedModel,
              options: CircuitOptions, committed: bool, scratch: Path,
              progress: ProgressHook) -> FidelityReport:
    """The chain's outputs against the float model's on the held-out samples, witness chain
    by witness chain (zkml.fidelity's figures)."""
    from zkml import fidelity
    from zkml.circuit import input_limits
    from zkml.felts import felts_to_floats

    settings = [CircuitSettings.load(p) for p in parts]
    count = min(fidelity.SAMPLES, len(exported.holdout))
    held_out = exported.holdout[:count]
    input_overflows = int((np.abs(held_out) >= input_limits(settings[0], exported.signature)
                           ).any(axis=1).sum())
    outputs: list[list[list[float]]] = [[] for _ in exported.output_shapes]
    overflows = 0
    for k, row in enumerate(held_out):
        progress(Progress("compile", "the chain on held-out samples", k, count))
        chained = witnesses(parts, chain, row, 0, committed, exported.signature, scratch)
        overflows += not all(s.lookups_fit(w) for s, w in zip(settings, chained, strict=True))
        for i, (felts, scale) in enumerate(zip(chained[-1]["outputs"], settings[-1].output_scales,
                                               strict=True)):
            outputs[i].append(felts_to_floats(felts, scale))
    report = FidelityReport(
        samples=count, logrows=chain.logrows, num_rows=sum(s.rows for s in chain.segments),
        input_scale=settings[0].input_scale, output_scales=settings[-1].output_scales,
        min_agreement=options.min_agreement,
        outputs=[fidelity.compare(np.asarray(outputs[i]),
                                  exported.holdout_reference[i][:count].reshape(count, -1),
                                  options, i, tuple(shape),
                                  exported.holdout_labels[:count]
                                  if exported.holdout_labels is not None and i == 0 else None)
                 for i, shape in enumerate(exported.output_shapes)],
        lookup_overflows=overflows, input_overflows=input_overflows)
    return report


@dataclass
class Compiled:
    """What compile_chain made: the chain, its fidelity, the files the stage records and why."""

    chain: Chain
    fidelity: FidelityReport
    outputs: list[Path]
    reason: str


def needs_segments(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions
                   ) -> bool:
    """Whether the whole circuit needs more than 2^L rows before any calibration: its rows as
    ezkl lays it out at the chain's first scale (gen_settings, seconds)."""
    from zkml.circuit import subjects_of

    limit = max_logrows(options)
    n = subjects_of(exported, options)
    with tempfile.TemporaryDirectory(prefix="zkml-rows-") as scratch:
        graph = Path(scratch) / "circuit.onnx"
        subjects.write_circuit_graph(layout.onnx, graph, exported.signature, n,
                                     options.scheme(n) is not None)
        args = {**run_args(options, n), "input_scale": CHAIN_SCALES[0],
                "param_scale": CHAIN_SCALES[0], "scale_rebase_multiplier": 10}
        settings = Path(scratch) / "settings.json"
        try:
            _ezkl.call("gen_settings", str(graph), str(settings), py_run_args=args)
        except _ezkl.EzklFailure:
            return False  # the ordinary compile says why, in its own words
        rows = int(read_json(settings, "settings")["num_rows"])
    return rows + RESERVED_ROWS > 2**limit


def compile_chain(layout: ModelLayout, exported: ExportedModel, options: CircuitOptions,
                  progress: ProgressHook = ignore) -> Compiled:
    """Cut the model into the fewest segments that fit 2^L rows each, calibrate and compile
    them at the first scale of CHAIN_SCALES whose chain runs and meets the error budget, and
    write the chain into the model folder (settings.json, fidelity.json, segments/NN/)."""
    from zkml import fidelity
    from zkml.circuit import subjects_of

    check_options(options, subjects_of(exported, options))
    limit = max_logrows(options)
    committed = options.scheme(1) is not None
    with tempfile.TemporaryDirectory(prefix="zkml-segments-") as scratch_dir:
        scratch = Path(scratch_dir)
        whole = _whole_graph(layout, exported, committed, scratch)
        progress(Progress("compile", f"the circuit needs more than 2^{limit} rows: cutting it "
                          "into segments"))
        whole, found, activations, planned = plan(whole, exported, options, committed,
                                                  scratch, progress)
        tried: list[str] = []
        best: tuple[Chain, FidelityReport, Path] | None = None
        for scale in CHAIN_SCALES:
            root = scratch / f"scale{scale}"
            try:
                chain = _build(whole, planned, found, options, exported, committed,
                               activations, scale, root, progress)
            except _ScaleFails as exc:
                tried.append(f"scale {scale}: {exc}")
                continue
            parts = [ModelLayout(root / f"{i:02d}") for i in range(len(chain.segments))]
            report = _fidelity(parts, chain, exported, options, committed, scratch, progress)
            problem = report.problem()
            tried.append(f"scale {scale}: " + (problem or f"max |error| "
                                                f"{report.worst.error_pct:.3g} % of spread"))
            if best is None or report.excess < best[1].excess:
                best = (chain, report, root)
            if problem is None:
                break
        if best is None:
            raise CircuitError(f"no scale gives segments that run: {'; '.join(tried)}")
        chain, report, root = best
        outputs = _adopt(layout, chain, root, report)
    if report.problem() is not None:
        fidelity.check(layout, report)  # raises, naming the output and by how much
    sizes = ", ".join(f"{s.rows:,}" for s in chain.segments)
    reason = (f"{len(chain.segments)} segments of logrows {chain.logrows} (rows {sizes}) at "
              f"scale {chain.scale} ({'; '.join(tried)})")
    return Compiled(chain, report, outputs, reason)


def _adopt(layout: ModelLayout, chain: Chain, root: Path, report: FidelityReport) -> list[Path]:
    """The chain into the model folder: segments/NN/, settings.json describing the chain,
    fidelity.json; the whole-circuit files of an earlier compile removed."""
    import shutil

    from zkml.results import to_json

    for stale in (layout.circuit_onnx, layout.calibration_data, layout.compiled, layout.pk):
        stale.unlink(missing_ok=True)
    shutil.rmtree(layout.segments_dir, ignore_errors=True)
    outputs = []
    for i, _ in enumerate(chain.segments):
        source, target = ModelLayout(root / f"{i:02d}"), layout.segment(i)
        target.root.mkdir(parents=True)
        for name in ("circuit_onnx", "settings", "calibration_data", "compiled"):
            with atomic_path(getattr(target, name), private=name == "calibration_data") as tmp:
                shutil.copyfile(getattr(source, name), tmp)
            outputs.append(getattr(target, name))
    first = read_json(layout.segment(0).settings, "segment settings")
    last = read_json(layout.segment(len(chain.segments) - 1).settings, "segment settings")
    write_json(layout.settings, {
        "run_args": {**first["run_args"], "logrows": chain.logrows,
                     "output_visibility": last["run_args"]["output_visibility"]},
        "num_rows": sum(s.rows for s in chain.segments),
        "total_assignments": sum(int(read_json(layout.segment(i).settings, "segment settings")
                                     ["total_assignments"]) for i in range(len(chain.segments))),
        "model_input_scales": first["model_input_scales"][:1],
        "model_output_scales": last["model_output_scales"],
        "segments": chain.as_dict()})
    write_json(layout.fidelity, to_json(report))
    return [layout.settings, layout.fidelity, *outputs]


def remove(layout: ModelLayout) -> None:
    """A whole-circuit compile replaces a chain: its segments go."""
    import shutil

    shutil.rmtree(layout.segments_dir, ignore_errors=True)


# ------------------------------------------------------------------------------ setup


@dataclass(frozen=True)
class SegmentKey:
    """One segment's keys and proofs, as the chain's key records them."""

    vk_sha256: str
    pk_sha256: str
    compiled_sha256: str
    settings_sha256: str
    proof_bytes: int
    link_offset: int  # where its output link's points start in its proof (points); 0 last
    link_points: int  # its output link's points (columns); 0 for the last segment


@dataclass(frozen=True)
class ChainKey:
    """vk.key of a segmented model: what verifying the chain needs besides each segment's own
    key. Its sha256 is the key the registry's version pins."""

    logrows: int
    srs_sha256: str
    segments: list[SegmentKey]

    @property
    def proof_bytes(self) -> int:
        return sum(s.proof_bytes for s in self.segments)

    def pieces(self, proof: bytes) -> list[bytes]:
        """The segments' proofs in a chain's proof (its length checked before)."""
        found, start = [], 0
        for segment in self.segments:
            found.append(proof[start:start + segment.proof_bytes])
            start += segment.proof_bytes
        return found

    def broken_link(self, pieces: list[bytes]) -> int | None:
        """The first link whose points differ between its two proofs, or None."""
        for i, (segment, after) in enumerate(zip(self.segments, pieces[1:], strict=False)):
            size = 64 * segment.link_points
            start = 64 * segment.link_offset
            if pieces[i][start:start + size] != after[:size]:
                return i
        return None

    @classmethod
    def load(cls, layout: ModelLayout) -> ChainKey:
        layout.require(layout.vk, stage="setup")
        raw = read_json(layout.vk, "the chain's verifying key")
        try:
            return cls(int(raw["logrows"]), str(raw["srs_sha256"]),
                       [SegmentKey(**s) for s in raw["segments"]])
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(f"{layout.vk} is not a segmented model's key",
                                hint=f"run `zkml setup {layout.name} --force`") from None


def _check_compiled(layout: ModelLayout, chain: Chain) -> list[ModelLayout]:
    """The segments' files, as compile recorded them (a recompile or an edit is refused)."""
    from zkml.layout import sha256_file_stat_cached

    parts = segment_layouts(layout, chain)
    for i, (part, spec) in enumerate(zip(parts, chain.segments, strict=True)):
        for name, sha in spec.files.items():
            path = getattr(part, name)
            if not path.is_file() or sha256_file_stat_cached(path) != sha:
                raise ArtifactError(f"segment {i + 1}'s {path.name} of {layout.name} is missing "
                                    "or changed since compile",
                                    hint=f"run `zkml compile {layout.name} --force`")
    return parts


def setup(layout: ModelLayout, srs_file: Path | None = None, force: bool = False,
          cache_dir: Path | None = None) -> SetupResult:
    """Keys for every segment (one SRS: the chain's logrows), a probe chain proved on a
    held-out sample (the keys work, the links hold, where the points are), then vk.key and
    keys.json last (cached like keys.setup)."""
    from zkml import srs
    from zkml.keys import KEY_RECORD_VERSION, KeyRecord
    from zkml.layout import Manifest
    from zkml.stages import cached_stage

    chain = chain_of(layout)
    assert chain is not None
    parts = _check_compiled(layout, chain)
    chosen = srs.resolve(chain.logrows, srs_file, cache_dir)

    def work() -> None:
        layout.key_record.unlink(missing_ok=True)  # no record until keys and record agree
        layout.pk.unlink(missing_ok=True)  # a whole circuit's, from before
        for i, part in enumerate(parts):
            log.info("keys for segment %d of %d", i + 1, len(parts))
            with atomic_path(part.vk) as vk_tmp, atomic_path(part.pk) as pk_tmp:
                try:
                    _ezkl.call("setup", str(part.compiled), str(vk_tmp), str(pk_tmp),
                               srs_path=str(chosen.path))
                except _ezkl.EzklFailure as exc:
                    raise SetupError(f"key generation for segment {i + 1} failed: {exc}"
                                     ) from exc
        key, points, stride = _probe(layout, chain, parts, chosen.path)
        write_json(layout.vk, dataclasses.asdict(key))
        settings = CircuitSettings.load(layout)
        manifest = Manifest(layout)
        record = KeyRecord(
            srs_path=chosen.path, srs_sha256=key.srs_sha256, srs_local=chosen.local,
            # the chain's description (every segment's circuit digest) and its keys' digests
            compiled_sha256=manifest.digest(layout.settings),
            settings_sha256=manifest.digest(layout.settings),
            vk_sha256=manifest.digest(layout.vk),
            pk_sha256=hashlib.sha256("".join(s.pk_sha256 for s in key.segments).encode()
                                     ).hexdigest(),
            input_commitments=1 if settings.salted else 0,
            commitment_points=points, commitment_stride=stride,
            proof_bytes=key.proof_bytes)
        manifest.save()
        write_json(layout.key_record, record.as_dict())

    run = cached_stage(
        layout, "setup", [layout.settings, chosen.path, *[p.compiled for p in parts]],
        {"key_record": KEY_RECORD_VERSION, "segments": len(parts)},
        [layout.vk, layout.key_record, *[p.vk for p in parts], *[p.pk for p in parts]],
        work, force)
    return SetupResult(
        stage="setup", cached=run.cached, seconds=run.seconds,
        warnings=[srs.LOCAL_SRS_WARNING] if chosen.local else [],
        srs=chosen.path, srs_local=chosen.local, logrows=chain.logrows,
        pk_bytes=sum(p.pk.stat().st_size for p in parts),
        vk_bytes=sum(p.vk.stat().st_size for p in parts), segments=len(parts))


def _probe(layout: ModelLayout, chain: Chain, parts: list[ModelLayout], srs_path: Path
           ) -> tuple[ChainKey, int, int]:
    """Prove held-out sample 0 through the chain with the new keys: every segment's proof
    verifies, each link's points are the same in both of its proofs (found, not assumed),
    and every link column holds its blinders at the column length ezkl chose."""
    from zkml.keys import PROBE_SALTS, _commitment_layout, _offset

    exported = ExportedModel.load(layout)
    committed = CircuitSettings.load(layout).salted
    salt = PROBE_SALTS[0]
    made: dict[int, str] = {}
    with private_scratch("probe") as scratch:
        chained = witnesses(parts, chain, exported.holdout[0], salt, committed,
                            exported.signature, scratch, keep=True)

        def land(i: int, text: str) -> None:
            made[i] = text
            log.info("probe proof of segment %d of %d made", i + 1, len(parts))

        try:
            _local_jobs(parts, list(range(len(parts))), scratch, srs_path, None, land)
        except ProofError as exc:
            raise SetupError(f"the new keys cannot prove a held-out sample: {exc.message}"
                             ) from exc
        proofs = []
        for i, part in enumerate(parts):
            target = scratch / f"{i:02d}.proof.json"
            target.write_text(made[i])
            try:
                _ezkl.call("verify", str(target), str(part.settings), str(part.vk),
                           srs_path=str(srs_path))
            except _ezkl.EzklFailure as exc:
                raise SetupError(f"the new keys' proof of segment {i + 1} does not verify: "
                                 f"{exc}") from exc
            proofs.append(bytes(json.loads(made[i])["proof"]))
    keys = []
    for i, part in enumerate(parts):
        offset = points = 0
        if i + 1 < len(parts):
            link = _ezkl.call("kzg_commit", chained[i]["outputs"][0], str(parts[i + 1].vk),
                              str(parts[i + 1].settings), str(srs_path))
            points = len(link)
            raw = b"".join(subjects.point_bytes(p) for p in link)
            found = _offset(proofs[i], raw)
            if found is None or proofs[i + 1][:len(raw)] != raw:
                raise SetupError(f"segments {i + 1} and {i + 2} of {layout.name} do not carry "
                                 "their link's commitment where zkml reads it",
                                 hint="report this with the model: the chain cannot be checked")
            offset = found
            _check_link_columns(chain, i, points, parts[i + 1], srs_path)
        keys.append(SegmentKey(
            vk_sha256=sha256_file(part.vk), pk_sha256=sha256_file(part.pk),
            compiled_sha256=sha256_file(part.compiled),
            settings_sha256=sha256_file(part.settings), proof_bytes=len(proofs[i]),
            link_offset=offset, link_points=points))
    points, stride = _commitment_layout(layout, srs_path, proofs[0], circuit=parts[0]) \
        if committed else (0, 0)
    return ChainKey(chain.logrows, sha256_file(srs_path), keys), points, stride


def _usable_rows(part: ModelLayout, srs_path: Path, logrows: int) -> int:
    """How many cells one commitment column of this circuit holds (2^logrows less the rows
    halo2 keeps for blinding): the longest all-zero message kzg_commit puts in one point."""
    low, high = 2**logrows - subjects.UNUSABLE_ROWS, 2**logrows
    while low < high:
        middle = (low + high + 1) // 2
        if len(_ezkl.call("kzg_commit", ["0" * 64] * middle, str(part.vk), str(part.settings),
                          str(srs_path))) == 1:
            low = middle
        else:
            high = middle - 1
    return low


def _check_link_columns(chain: Chain, i: int, points: int, part: ModelLayout,
                        srs_path: Path) -> None:
    """A link spread over several columns: every column must own LINK_BLINDERS blinders."""
    if points == 1:
        return
    spec = chain.segments[i]
    assert spec.cut is not None
    usable = _usable_rows(part, srs_path, chain.logrows)
    _, blinder_cells = cells(spec.cut.values + spec.tail, LINK_BLINDERS)
    owned = np.bincount(blinder_cells // usable, minlength=points)
    if (owned < LINK_BLINDERS).any():
        raise SetupError(f"link {i + 1}'s column {int(np.argmin(owned)) + 1} of {points} would "
                         f"hold {int(owned.min())} of its blinders, fewer than {LINK_BLINDERS}",
                         hint="compile with another --max-logrows")


# ------------------------------------------------------------------------------ verify


def _segment_proof(piece: bytes, instances: list[list[str]]) -> dict[str, Any]:
    """One segment's proof as ezkl reads it, from its bytes in the chain's proof."""
    return {"protocol": None, "instances": instances, "proof": list(piece),
            "hex_proof": "0x" + piece.hex(), "split": None, "pretty_public_inputs": None,
            "timestamp": None, "version": _ezkl.ezkl_version()}


def _current_parts(layout: ModelLayout, key: ChainKey, proving: bool) -> list[ModelLayout]:
    """The segments' files, checked against the chain's key (a proving key through the
    manifest's digest cache: it can be gigabytes)."""
    from zkml.layout import Manifest, sha256_file_stat_cached

    manifest = Manifest(layout)
    parts = [layout.segment(i) for i in range(len(key.segments))]
    for i, (part, segment) in enumerate(zip(parts, key.segments, strict=True)):
        checks = [(part.settings, segment.settings_sha256), (part.vk, segment.vk_sha256)]
        if proving:
            checks += [(part.compiled, segment.compiled_sha256), (part.pk, segment.pk_sha256)]
        for path, sha in checks:
            current = (manifest.digest(path) if path == part.pk else
                       sha256_file_stat_cached(path)) if path.is_file() else None
            if current != sha:
                raise ArtifactError(f"segment {i + 1}'s {path.name} of {layout.name} is missing "
                                    "or not the one its setup made",
                                    hint=f"run `zkml setup {layout.name}`")
    if proving:
        manifest.save()
    return parts


def verify(layout: ModelLayout, proof_path: Path, vk: Path | None = None) -> Verification:
    """Natively verify a chain's proof: its length, every link (the same points in both of its
    proofs) and every segment's proof against that segment's key. A swapped, reordered,
    dropped or replayed segment, or a broken link, raises VerificationFailed."""
    from zkml.proof import _Loaded, public_instances, read_proof

    loaded = _Loaded.load(layout, proving=False, vk=vk)  # the chain's key, settings and SRS
    key = ChainKey.load(layout)
    parts = _current_parts(layout, key, proving=False)
    proof = read_proof(proof_path)
    instances = public_instances(proof, loaded.settings, loaded.exported, loaded.keys)
    raw = bytes(proof["proof"])
    if len(raw) != key.proof_bytes:
        raise VerificationFailed(
            f"the proof has {len(raw)} bytes; a chain of this model's {len(parts)} segments has "
            f"{key.proof_bytes}", hint="a segment was dropped, added or truncated, or the "
            "proof is of another model")
    pieces = key.pieces(raw)
    broken = key.broken_link(pieces)
    if broken is not None:
        raise VerificationFailed(
            f"the link from segment {broken + 1} to segment {broken + 2} is broken: their "
            "proofs commit to different activations",
            hint="the segments' proofs come from different runs, or were tampered with")
    start = time.perf_counter()
    srs = loaded.keys.checked_srs()
    with private_scratch("verify") as scratch:
        for i, (part, piece) in enumerate(zip(parts, pieces, strict=True)):
            target = scratch / f"{i:02d}.proof.json"
            target.write_text(json.dumps(_segment_proof(
                piece, proof["instances"] if i == len(parts) - 1 else [[]])))
            try:
                _ezkl.call("verify", str(target), str(part.settings), str(part.vk),
                           srs_path=str(srs))
            except _ezkl.EzklFailure as exc:
                if exc.stuck:
                    raise ProofError(f"verifying segment {i + 1} failed: {exc}") from exc
                raise VerificationFailed(
                    f"segment {i + 1} of {proof_path} does NOT verify against its key",
                    hint="it was tampered with, swapped or reordered, or made for other keys"
                ) from exc
    return Verification(stage="verify", seconds=time.perf_counter() - start, valid=True,
                        proof=proof_path, instances=instances, local_srs=loaded.keys.srs_local)


# ------------------------------------------------------------------------------ prove


@dataclass(frozen=True)
class SegmentRun:
    """One segment of a chain's proof: its witness and proof times, the prover's peak memory
    (its ezkl process), and where it was proved."""

    segment: int
    witness_seconds: float
    prove_seconds: float
    peak_mb: float | None
    where: str  # "worker 1", a Ray node, or "kept" (proved by a run that was stopped)


def critical_path(runs: list[SegmentRun]) -> float:
    """The least wall time with a worker per segment: witnesses run in order, and segment i's
    proof needs witness i."""
    witnessed, longest = 0.0, 0.0
    for run in runs:
        witnessed += run.witness_seconds
        longest = max(longest, witnessed + run.prove_seconds)
    return longest


@dataclass(kw_only=True)
class ChainProof(Proof):
    """A segmented model's proof: the chain's, verified; each segment's figures."""

    segments: list[SegmentRun]
    engine: str  # "processes (N workers)" or "ray (ADDRESS)"
    critical_path_seconds: float
    wall_seconds: float

    def summary(self) -> str:
        return (f"{super().summary()}; {len(self.segments)} segments, critical path "
                f"{self.critical_path_seconds:.1f} s, wall {self.wall_seconds:.1f} s "
                f"({self.engine})")


class _State:
    """A chain's proving in progress, beside the proof (layout.proof_parts): the salt, a keyed
    digest of the input (so that a changed input starts again), the chain's key, and each
    segment's proof as it lands. Owner-only: it holds the salt."""

    def __init__(self, folder: Path, chain_key: str, row: np.ndarray, salt: int | None,
                 salt_given: bool) -> None:
        import os
        import shutil
        import threading

        self.folder = folder
        self.lock = threading.Lock()
        self.path = folder / "state.json"
        previous = self._read() or {}
        kept = previous.get("salt")
        self.data: dict[str, Any]
        if isinstance(kept, str) and (not salt_given or int(kept, 16) == salt) and \
                previous.get("chain") == chain_key and \
                previous.get("input") == self.digest(int(kept, 16), row):
            self.salt = int(kept, 16)
            self.data = previous
        else:
            shutil.rmtree(folder, ignore_errors=True)
            from zkml.inputs import new_salt

            self.salt = salt if salt is not None else new_salt()
            self.data = {"chain": chain_key, "input": self.digest(self.salt, row),
                         "salt": f"0x{self.salt:064x}", "proofs": {}}
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        self.save()

    @staticmethod
    def digest(salt: int, row: np.ndarray) -> str:
        return hmac.new(salt.to_bytes(32, "big"), np.asarray(row, np.float64).tobytes(),
                        "sha256").hexdigest()

    def _read(self) -> dict[str, Any] | None:
        with contextlib.suppress(ArtifactError, OSError):
            raw = read_json(self.path, "segmented proof state")
            if isinstance(raw, dict) and isinstance(raw.get("proofs"), dict):
                return raw
        return None

    def save(self) -> None:
        write_json(self.path, self.data, private=True)

    def proof(self, i: int) -> Path:
        return self.folder / f"{i:02d}.proof.json"

    def kept(self, i: int) -> bytes | None:
        """Segment i's proof from an earlier run, if it is there unchanged."""
        path, sha = self.proof(i), self.data["proofs"].get(str(i))
        if sha is None or not path.is_file() or sha256_file(path) != sha:
            return None
        return bytes(json.loads(path.read_text())["proof"])

    def land(self, i: int, text: str) -> None:
        with atomic_path(self.proof(i)) as tmp:
            tmp.write_text(text)
        with self.lock:
            self.data["proofs"][str(i)] = sha256_file(self.proof(i))
            self.save()


def prove(layout: ModelLayout, private_input: Any, proof_path: Path, source: str = "input",
          salts: list[int] | None = None, reuse_salt: bool = False, workers: int | None = None,
          ray_address: str | None = None, progress: ProgressHook = ignore) -> ChainProof:
    """Prove a segmented model's inference: the witnesses in order, then every segment's proof
    as an independent job (worker processes, or Ray), each landing beside the proof as it is
    made (a killed run resumes from them, with its salt), then the chain's proof, verified,
    written. The salt is given, kept for the same input (reuse_salt), the stopped run's, or
    new, and kept in the model's store like zkml.proof.prove's (zkml.salts)."""
    import shutil

    from zkml.circuit import check_input
    from zkml.inputs import parse_salt
    from zkml.keys import current_keys
    from zkml.layout import proof_parts, secret_path
    from zkml.proof import _check_output
    from zkml.salts import (
        choose,
        earlier,
        given_kzg_salt,
        keep,
        proved_before,
        refuse_second_kzg_proof,
        repeats,
        reused,
    )

    started = time.perf_counter()
    _check_output(layout, proof_path)
    keys = current_keys(layout, proving=False)
    key = ChainKey.load(layout)
    parts = _current_parts(layout, key, proving=True)
    chain = chain_of(layout)
    assert chain is not None
    settings = CircuitSettings.load(layout)
    exported = ExportedModel.load(layout)
    (row,) = check_input(settings, exported.signature, private_input, source)
    if salts is not None and (not isinstance(salts, list | tuple) or len(salts) != 1):
        raise InputError(f"{source}: give one salt (a segmented circuit proves one subject)")
    given = [parse_salt(salts[0], source)] if salts else None
    kept = earlier(layout, [row]) if settings.salted else [[]]
    # the links are KZG commitments whatever the input's: never proved again
    refuse_second_kzg_proof(source, proved_before(kept, reuse_salt and not given))
    # a salt given or reused is the proof's; else the stopped run's (_State), or a new one
    salt = choose(given, kept, reuse_salt)[0] if given or (reuse_salt and kept[0]) else None
    state = _State(proof_parts(proof_path), keys.vk_sha256, row, salt, salt is not None)
    srs = keys.checked_srs()
    runs: list[SegmentRun | None] = [None] * len(parts)
    with private_scratch("witness") as scratch:  # witnesses hold what the input implies
        witness_seconds: list[float] = []
        chained = witnesses(parts, chain, row, state.salt, settings.salted, exported.signature,
                            scratch, keep=True, seconds=witness_seconds, progress=progress)
        todo = []
        for i in range(len(parts)):
            if state.kept(i) is not None:
                runs[i] = SegmentRun(i, witness_seconds[i], 0.0, None, "kept")
            else:
                todo.append(i)
        for i, (part, run) in enumerate(zip(parts, runs, strict=True)):
            if run is None and not CircuitSettings.load(part).lookups_fit(chained[i]):
                raise InputError(f"{source} drives a nonlinearity of segment {i + 1} outside "
                                 "the range its circuit was calibrated for (no proof is "
                                 "possible)", hint="recompile with --samples that cover "
                                 "inputs like this one")
        engine, made = (_ray_jobs(parts, todo, scratch, srs, ray_address, state.land, progress)
                        if ray_address else
                        _local_jobs(parts, todo, scratch, srs, workers, state.land, progress))
        for i, seconds, peak, where in made:
            runs[i] = SegmentRun(i, witness_seconds[i], seconds, peak, where)
    pieces = []
    for i in range(len(parts)):
        piece = state.kept(i)
        if piece is None:
            raise ProofError(f"segment {i + 1}'s proof was not made")
        pieces.append(piece)
    last = json.loads(state.proof(len(parts) - 1).read_text())
    whole = b"".join(pieces)
    secret = secret_path(proof_path) if settings.salted else None
    stored: list[Path] = []
    with atomic_path(proof_path) as tmp:
        tmp.write_text(json.dumps({"proof": list(whole), "instances": last["instances"],
                                   "hex_proof": "0x" + whole.hex(),
                                   "segments": [len(p) for p in pieces]}))
        try:
            verification = verify(layout, tmp)
        except VerificationFailed as exc:
            raise ProofError("the chain's proof for this input does not verify, so it was not "
                             f"written: {exc.message}",
                             hint="recompile with samples that cover this input") from exc
        size = tmp.stat().st_size
        commitments = verification.instances.input_commitments
        if secret is not None:  # in the store before the proof lands (and the parts go)
            refuse_second_kzg_proof(source, proved_before(kept, False, commitments))
            stored = keep(layout, [row], [state.salt], commitments, secret)
    shutil.rmtree(state.folder, ignore_errors=True)
    done = [r for r in runs if r is not None]
    repeated = repeats(kept, commitments) if secret is not None else []
    return ChainProof(
        stage="prove", seconds=sum(r.witness_seconds + r.prove_seconds for r in done),
        model=layout.name, path=proof_path, instances=verification.instances, size=size,
        secret=secret, kept=stored, repeats=repeated,
        reused=reused(kept, commitments) if secret is not None else [],
        warnings=[r.describe(source, 1) for r in repeated]
        + ([given_kzg_salt(source)] if given and secret is not None else []),
        segments=done, engine=engine,
        critical_path_seconds=critical_path(done), wall_seconds=time.perf_counter() - started)


Job = tuple[int, float, "float | None", str]  # segment, prove seconds, peak MB, where


def _prove_one(part: ModelLayout, witness: Path, target: Path, srs: Path) -> tuple[float,
                                                                                  float | None]:
    """ezkl's prove of one segment in this thread's worker: its time and the worker's peak."""
    _ezkl.reset_worker_peak()
    begun = time.perf_counter()
    _ezkl.call("prove", str(witness), str(part.compiled), str(part.pk), str(target),
               srs_path=str(srs))
    return time.perf_counter() - begun, _ezkl.worker_peak_mb()


def _failed(i: int, exc: BaseException) -> BaseException:
    if isinstance(exc, _ezkl.EzklFailure):
        return ProofError(f"proving segment {i + 1} failed: {exc}")
    return exc


def _local_jobs(parts: list[ModelLayout], todo: list[int], scratch: Path, srs: Path,
                workers: int | None, land: Callable[[int, str], None],
                progress: ProgressHook = ignore) -> tuple[str, list[Job]]:
    """The segments' proofs (each from scratch/NN.witness.json) in worker threads, each driving
    its own ezkl process (memory decides how many, as for prove-batch); each proof is handed to
    land as it is made."""
    import threading

    from zkml.batch import plan_workers

    count = max(1, min(len(todo), plan_workers(max((parts[i].pk.stat().st_size for i in todo),
                                                   default=0), workers)))
    pending = list(todo)
    made: list[Job] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def loop(worker: int) -> None:
        try:
            while True:
                with lock:
                    if errors or not pending:
                        return
                    i = pending.pop(0)
                target = scratch / f"{i:02d}.proof.json"
                try:
                    seconds, peak = _prove_one(parts[i], scratch / f"{i:02d}.witness.json",
                                               target, srs)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                    with lock:
                        errors.append(_failed(i, exc))
                    return
                land(i, target.read_text())
                target.unlink(missing_ok=True)
                with lock:
                    made.append((i, seconds, peak, f"worker {worker + 1}"))
                    progress(Progress("prove", f"segment {i + 1} proved in {seconds:.1f} s",
                                      len(made), len(todo)))
        finally:
            _ezkl.stop_thread_worker()

    threads = [threading.Thread(target=loop, args=(w,), daemon=True, name=f"zkml-segment-{w}")
               for w in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return f"processes ({count} worker{'s' if count > 1 else ''})", made


def _ray_prove(compiled: bytes, pk: bytes, srs: bytes, witness: str
               ) -> tuple[str, float, float | None, str]:
    """One segment's proof on a Ray worker, in a scratch folder gone when the task ends."""
    import ray

    with private_scratch("ray") as scratch:
        part = ModelLayout(scratch / "segment")
        part.root.mkdir()
        part.compiled.write_bytes(compiled)
        part.pk.write_bytes(pk)
        (scratch / "kzg.srs").write_bytes(srs)
        write_private_text(scratch / "witness.json", witness)
        try:
            seconds, peak = _prove_one(part, scratch / "witness.json", scratch / "proof.json",
                                       scratch / "kzg.srs")
        finally:
            _ezkl.stop_thread_worker()  # its memory back before the next task
        node = ray.get_runtime_context().get_node_id()[:8]
        return (scratch / "proof.json").read_text(), seconds, peak, f"ray node {node}"


def _ray_jobs(parts: list[ModelLayout], todo: list[int], scratch: Path, srs: Path,
              address: str, land: Callable[[int, str], None], progress: ProgressHook
              ) -> tuple[str, list[Job]]:
    """The segments' proofs as Ray tasks (one CPU each): every task gets its segment's
    compiled circuit and proving key, the SRS and its witness through Ray's object store, as
    many in flight as the cluster has CPUs (the keys are large)."""
    from zkml.batch import ray_session

    ray, started_here = ray_session(address)
    made: list[Job] = []
    try:
        shared = ray.put(srs.read_bytes())
        remote = ray.remote(_ray_prove)
        limit = max(1, int(ray.available_resources().get("CPU", 1)))
        pending: dict[Any, int] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < limit:
                i = queue.pop(0)
                witness = (scratch / f"{i:02d}.witness.json").read_text()
                pending[remote.remote(ray.put(parts[i].compiled.read_bytes()),
                                      ray.put(parts[i].pk.read_bytes()), shared, witness)] = i
            done, _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(done[0])
            try:
                text, seconds, peak, where = ray.get(done[0])
            except Exception as exc:  # noqa: BLE001 - Ray wraps the task's error
                raise ProofError(f"proving segment {i + 1} on Ray failed: "
                                 f"{str(exc).strip().splitlines()[-1][:300]}") from None
            land(i, text)
            made.append((i, seconds, peak, where))
            progress(Progress("prove", f"segment {i + 1} proved in {seconds:.1f} s ({where})",
                              len(made), len(todo)))
    finally:
        if started_here:
            ray.shutdown()
    return f"ray ({address})", made


# ------------------------------------------------------------------------------ on chain


def chain_source() -> Path:
    """The chain verifier's Solidity source, shipped beside the registry's."""
    from importlib import resources

    return Path(str(resources.files("zkml.contracts") / "SegmentChain.sol"))


def build_verifier(layout: ModelLayout, force: bool = False) -> Any:
    """Each segment's Solidity verifier (ezkl's, optimizer on) and the SegmentChain contract
    that the registry's version calls (compiled once per machine); evm.json holds them all,
    the chain's as "verifier"."""
    from zkml.evm import verifier as evm
    from zkml.evm.solc import compile_sources
    from zkml.keys import current_keys
    from zkml.stages import cached_stage

    keys = current_keys(layout, proving=False)
    key = ChainKey.load(layout)
    parts = _current_parts(layout, key, proving=False)

    def work() -> None:
        srs = keys.checked_srs()
        builds = []
        for i, part in enumerate(parts):
            log.info("verifier of segment %d of %d", i + 1, len(parts))
            with atomic_path(part.verifier_sol) as sol:
                evm.write_verifier_sol(part.vk, part.settings, srs, sol)
            builds.append(compile_sources({part.verifier_sol.name: part.verifier_sol}
                                          )["Halo2Verifier"])
        write_json(layout.evm_build, {"verifier": evm._cached_build(chain_source(),
                                                                     "SegmentChain"),
                                      "registry": evm.registry_build(), "segments": builds})

    run = cached_stage(
        layout, "verifier", [layout.vk, layout.settings, layout.key_record,
                             evm.registry_source(), chain_source(), *[p.vk for p in parts]],
        {"segments": len(parts)}, [layout.evm_build, *[p.verifier_sol for p in parts]], work,
        force)
    built = read_json(layout.evm_build, "EVM build")
    warnings = [w for w in (evm.size_warning(b["runtime_size"]) for b in built["segments"]) if w]
    return evm.VerifierResult(stage="verifier", cached=run.cached, seconds=run.seconds,
                              warnings=warnings[:1], path=layout.evm_build,
                              runtime_bytes=int(built["verifier"]["runtime_size"]))


def deploy_verifier(chain: Any, layout: ModelLayout) -> tuple[str, int]:
    """Every segment's verifier, then the SegmentChain over them: its address and the gas of
    all the deployments."""
    from zkml.evm import rpc

    key = ChainKey.load(layout)
    built = read_json(layout.evm_build, "EVM build")
    addresses, gas = [], 0
    for build in built["segments"]:
        address, spent = rpc.deploy(chain, build)
        addresses.append(address)
        gas += spent
    address, spent = rpc.deploy(chain, built["verifier"], addresses,
                                [s.proof_bytes for s in key.segments],
                                [s.link_offset for s in key.segments],
                                [s.link_points for s in key.segments])
    return address, gas + spent
