"""N subjects per proof, each with a salted commitment: the circuit's graph and its input data.

The circuit does not run the exported graph as it is. Its graph takes one input per subject
(the private inputs of one person, one transaction, ...): all of the subject's model inputs
flattened in input order (zkml.signature) and, when the input is committed, interleaved with
private field elements derived from the subject's secret 256-bit salt: after every
CHUNK - BLINDERS values (and after the last one) come BLINDERS blinders. It slices each model
input out of the subjects' columns, stacks them into a batch of N, reshapes and casts each to
the shape and dtype the model declares, and runs the model on them:

    subject_j [1, F + B] --Gather the cells of input i's values--> [1, f_i]
        --Concat(0)--> [N, f_i] --Reshape--> [N, *row_i] (--Cast--> dtype_i) --> model input i

A graph with fixed input shapes (no dynamic batch axis) takes one subject, reshaped to the
declared shapes; nothing the graph computes itself is rewritten. A subject's column is float
when every model input is (ezkl quantizes it at the circuit's scale); with any integer or
boolean input it is an integer column (scale 0, integers exact), which carries float inputs as
round(x * 2^FLOAT_BITS) and divides them back inside the circuit.

The proof then publishes a commitment per subject, over all of that subject's inputs and its
blinders, which the registry keys results by. Two schemes, chosen by the figures in the README:

- "kzg" (ezkl's `polycommit`): the subject's column is committed like any advice column, and
  those commitments are the first points of the proof. It adds columns and no gates, so it
  costs little at any number of rows. A commitment column holds 2^logrows values less a few
  unusable rows, so ezkl spreads a longer subject over several columns, one point each: a
  subject's commitment, as zkml and the registry name it, is keccak256 of all its points in
  order (x ‖ y, 32-byte big-endian each), so it binds every value. The columns carry no random
  blinding rows, and the proof also reveals one evaluation of each at a random point; every
  column holding a subject's values also holds a pair of its blinders (any CHUNK + 1
  consecutive cells do, and compile keeps columns longer than that), which leaves exactly one
  pair consistent with any guess of the column's values. Hiding is computational: the
  blinders come from one 256-bit salt through SHA-512.
- "poseidon" (ezkl's `hashed/public`): a public Poseidon hash of the column's values. Its chip
  adds columns and degree-6 gates that span every row (a proof of LeNet-5 takes twice as
  long), but only one public instance per subject: fewer verifier columns for large batches.

The model never reads the blinders.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import CircuitError
from zkml.felts import FIELD_MODULUS, felt_hex, int_to_felt
from zkml.signature import Signature, graph_inputs

SALT_BITS = 256  # the subject's secret; the circuit sees the blinders derived from it
BLINDERS = 2  # after every chunk of a subject's values
CHUNK = 256  # cells per chunk of a committed column: CHUNK - BLINDERS values, then blinders
# ezkl's commitment columns lose at most this many of their 2^logrows rows (halo2's blinding
# rows, a handful; setup checks it for a subject spread over several columns)
UNUSABLE_ROWS = 64
SUBJECT_INPUT = "subject_{}"
SCHEMES = ("kzg", "poseidon")
# the most subjects per proof for which "kzg" is the cheaper scheme (gas; prove time up to 10)
KZG_MAX_SUBJECTS = 7


def blinders(salt: int, count: int = BLINDERS) -> list[int]:
    """The field elements a salt puts into the circuit: SHA-512 of (salt, i), mod p, so they
    are uniform to within 2^-258, and one stored secret reproduces them."""
    secret = salt.to_bytes(SALT_BITS // 8, "big")
    return [int.from_bytes(hashlib.sha512(secret + _index(i)).digest(), "big") % FIELD_MODULUS
            for i in range(count)]


def _index(i: int) -> bytes:
    return i.to_bytes(max(1, (i.bit_length() + 7) // 8), "big")  # minimal: injective


def chunks(features: int) -> int:
    """Chunks of a subject's committed column, each ending with its blinders."""
    return max(1, math.ceil(features / (CHUNK - BLINDERS)))


def width(features: int, committed: bool) -> int:
    """Cells of a subject's column: its values and, committed, its blinders."""
    return features + (BLINDERS * chunks(features) if committed else 0)


def interleave(values: list[Any], blinder_values: list[Any]) -> list[Any]:
    """A subject's committed column: each chunk of values followed by its blinders."""
    per = CHUNK - BLINDERS
    column: list[Any] = []
    for k in range(chunks(len(values))):
        column += values[k * per:(k + 1) * per] + blinder_values[k * BLINDERS:(k + 1) * BLINDERS]
    return column


def value_cells(start: int, end: int, committed: bool) -> np.ndarray:
    """The cells of a subject's column that hold its values [start, end), in order."""
    values = np.arange(start, end, dtype=np.int64)
    return values + BLINDERS * (values // (CHUNK - BLINDERS)) if committed else values


def commitment_logrows(logrows: int, features: int) -> int:
    """The least logrows, from `logrows` up, at which every KZG column holding a subject's
    values also holds a pair of its blinders: one column (2^logrows less the unusable rows)
    holds the whole subject, or more than CHUNK cells."""
    while width(features, True) > 2**logrows - UNUSABLE_ROWS and \
            2**logrows - UNUSABLE_ROWS <= CHUNK:
        logrows += 1
    return logrows


# a subject with both float and integer inputs has an integer column (integers must reach the
# model at scale 0, exactly); its float inputs travel in it as round(x * 2^FLOAT_BITS) and the
# circuit divides them back, landing at the circuit's scale
FLOAT_BITS = 16


def column_type(signature: Signature) -> str:
    """The dtype of a subject's input column: float (as the model's float inputs are, float64
    only when all of them are), or int64 when any input is an integer or a boolean."""
    if signature.all_float:
        return "float64" if {s.dtype for s in signature.inputs} == {"float64"} else "float32"
    return "int64"


def column_values(rows: np.ndarray, signature: Signature) -> np.ndarray:
    """Subjects' flat rows as their input columns hold them (without blinders): as they are in
    a float column; in an integer column, integers as they are and float inputs as
    round(x * 2^FLOAT_BITS)."""
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), signature.features)
    if column_type(signature) != "int64":
        return rows
    values = rows.copy()
    for spec, (start, end) in zip(signature.inputs, signature.offsets(), strict=True):
        if spec.kind == "float":
            values[:, start:end] = np.round(rows[:, start:end] * 2**FLOAT_BITS)
    return values


def _load(onnx_path: Path) -> Any:
    import onnx

    try:
        return onnx.load(str(onnx_path))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise CircuitError(f"{onnx_path} is not a readable ONNX model ({type(exc).__name__})",
                           hint="export it again with `zkml export`") from None


def check_subjects(signature: Signature, subjects: int, model_onnx: Path | str) -> None:
    """N subjects per proof need a batch axis to stack them along."""
    if subjects > 1 and not signature.batch_axis:
        fixed = next((s for s in signature.inputs), None)
        raise CircuitError(
            f"{model_onnx} fixes its inputs' shapes"
            + (f" (input {fixed.name!r} is {list(fixed.shape)})" if fixed else " (no inputs)")
            + f", so a proof holds one subject, not {subjects}",
            hint="drop --batch, or export the model with a dynamic batch axis")


def write_circuit_graph(model_onnx: Path, target: Path, signature: Signature,
                        subjects: int, committed: bool) -> None:
    """The graph the circuit is built from (see the module's docstring). Only the graph's
    inputs change: every shape the graph computes itself is left to it, and its outputs'
    declared shapes are dropped (ezkl and onnxruntime infer them)."""
    import onnx
    from onnx import helper, numpy_helper

    check_subjects(signature, subjects, model_onnx)
    model = _load(model_onnx)
    graph = model.graph
    originals = graph_inputs(graph)
    if [i.name for i in originals] != [s.name for s in signature.inputs]:
        raise CircuitError(f"{model_onnx} is not the graph that was exported",
                           hint="export it again with `zkml export`")
    column = column_type(signature)
    old_nodes = _scale_safe_equals(model)  # typed while the model's inputs are still there
    for value in originals:
        graph.input.remove(value)
    constants: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: np.ndarray) -> str:
        constants.append(numpy_helper.from_array(value, name))
        return name

    for j in range(subjects):
        graph.input.insert(j, helper.make_tensor_value_info(
            SUBJECT_INPUT.format(j), helper.np_dtype_to_tensor_dtype(np.dtype(column)),
            [1, width(signature.features, committed)]))
    for i, (spec, (start, end)) in enumerate(zip(signature.inputs, signature.offsets(),
                                                strict=True)):
        tag = "" if i == 0 else f"_{i}"  # a one-input graph keeps the names it always had
        cells = constant(f"zkml_cells{tag}", value_cells(start, end, committed))
        shape = (subjects, *spec.shape[1:]) if signature.batch_axis else spec.shape
        target_shape = constant(f"zkml_batch_shape{tag}", np.array(shape, np.int64))
        rows = []
        for j in range(subjects):
            # a Gather of constant indices costs no rows in ezkl (a Slice copies its input)
            rows.append(f"{SUBJECT_INPUT.format(j)}_features{tag}")
            nodes.append(helper.make_node("Gather", [SUBJECT_INPUT.format(j), cells], [rows[-1]],
                                          axis=1, name=f"zkml_gather_{j}{tag}"))
        nodes.append(helper.make_node("Concat", rows, [f"zkml_rows{tag}"], axis=0,
                                      name=f"zkml_concat{tag}"))
        value = f"zkml_rows{tag}"
        steps: list[tuple[str, dict[str, Any], list[str]]] = [("Reshape", {}, [target_shape])]
        if column == "int64" and spec.kind == "float":
            steps += [("Cast", {"to": onnx.TensorProto.FLOAT}, []),
                      ("Div", {}, [constant(f"zkml_float_scale{tag}",
                                            np.array(2.0**FLOAT_BITS, np.float32))])]
            if spec.dtype != "float32":
                steps.append(("Cast", {"to": helper.np_dtype_to_tensor_dtype(
                    np.dtype(spec.dtype))}, []))
        elif spec.dtype != column:
            steps.append(("Cast", {"to": helper.np_dtype_to_tensor_dtype(np.dtype(spec.dtype))},
                          []))
        for k, (op, attributes, extra) in enumerate(steps):
            out = spec.name if k == len(steps) - 1 else f"zkml_{op.lower()}_{k}{tag}"
            nodes.append(helper.make_node(op, [value, *extra], [out],
                                          name=f"zkml_{op.lower()}{'' if k == 0 else k}{tag}",
                                          **attributes))
            value = out
    graph.initializer.extend(constants)
    del graph.node[:]
    graph.node.extend(nodes + old_nodes)
    for output in graph.output:  # N subjects change them; the graph computes its own
        output.type.tensor_type.ClearField("shape")
    del graph.value_info[:]
    onnx.save(model, str(target))


def _scale_safe_equals(model: Any) -> list[Any]:
    """The graph's nodes, each numeric Equal(a, b) as Not(Or(Less(a, b), Greater(a, b))): the
    same booleans, but ezkl 23 gives Equal's output its input's fixed-point scale, not scale 0,
    so a 0/1 that feeds a product reads 2^scale times too small (a hummingbird-style tree's
    probabilities came out as 2^-12). Less, Greater, Or and Not are scale 0 in ezkl."""
    import onnx
    from onnx import helper

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a graph ONNX cannot infer is left as it is
        return list(model.graph.node)
    types = {v.name: v.type.tensor_type.elem_type for v in [
        *inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]}
    types.update({i.name: i.data_type for i in model.graph.initializer})
    numeric = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
               onnx.TensorProto.INT64, onnx.TensorProto.INT32}
    nodes = []
    for k, node in enumerate(model.graph.node):
        if node.op_type != "Equal" or node.domain not in ("", "ai.onnx") or \
                types.get(node.input[0]) not in numeric:
            nodes.append(node)
            continue
        a, b = node.input
        tag = f"zkml_equal_{k}"
        nodes += [helper.make_node("Less", [a, b], [f"{tag}_lt"], name=f"{tag}_lt"),
                  helper.make_node("Greater", [a, b], [f"{tag}_gt"], name=f"{tag}_gt"),
                  helper.make_node("Or", [f"{tag}_lt", f"{tag}_gt"], [f"{tag}_ne"],
                                   name=f"{tag}_ne"),
                  helper.make_node("Not", [f"{tag}_ne"], list(node.output), name=tag)]
    return nodes


def check_circuit_graph(graph_path: Path, signature: Signature, rows: np.ndarray,
                        reference: list[np.ndarray], subjects: int, committed: bool) -> None:
    """Run the circuit's graph in onnxruntime on `subjects` samples (blinders zero) and check
    that each subject's share of every output is what the model gives that sample alone: it
    loads, it computes what the model computes, and axis 0 really is the batch."""
    from zkml.export import ExportError, onnx_session

    try:
        session = onnx_session(graph_path)
    except ExportError as exc:
        raise CircuitError(f"the circuit graph does not load in onnxruntime: {exc.message}",
                           hint="report this: zkml's rewrite of a graph that onnxruntime "
                           "loads must load too") from None
    values = column_values(rows, signature).astype(column_type(signature))
    zeros = [0] * (BLINDERS * chunks(signature.features))
    feeds = {SUBJECT_INPUT.format(j): np.array(
        [interleave(values[j].tolist(), zeros) if committed else values[j].tolist()],
        values.dtype) for j in range(subjects)}
    try:
        outputs = session.run(None, feeds)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise CircuitError(
            f"the circuit graph for {subjects} subject(s) does not run: {line}",
            hint="the model must treat axis 0 of its inputs as their batch (drop --batch, "
            "or export with a dynamic batch axis)" if subjects > 1 else
            "check the graph with onnxruntime") from None
    # an integer column rounds float inputs to 2^-FLOAT_BITS: allow what that can move
    carried = "float" in signature.kinds and column_type(signature) == "int64"
    tolerance = 1e-2 if carried else 1e-3
    for i, (output, expected) in enumerate(zip(outputs, reference, strict=True)):
        got = np.asarray(output, dtype=np.float64).ravel()
        want = np.asarray(expected[:subjects], dtype=np.float64).ravel()
        close = got.shape == want.shape and np.allclose(got, want, rtol=tolerance,
                                                        atol=tolerance)
        if not close:
            raise CircuitError(
                f"the circuit graph for {subjects} subject(s) does not compute the model's "
                f"output {i} for each subject"
                + (" (the model does not treat axis 0 as a batch)" if subjects > 1 else ""),
                hint="drop --batch, or export the model with a dynamic batch axis"
                if subjects > 1 else "report this: the rewrite must not change the model")


def input_data(rows: np.ndarray, salts: list[int] | None,
               signature: Signature | None = None) -> dict[str, Any]:
    """ezkl's data file for one proof: one list per subject input, its column values (floats,
    or integers in an integer column) and, when committed, its blinders as field elements
    (never rounded through a float)."""
    values = _json_values(rows, signature)
    if salts is None:
        return {"input_data": values}
    return {"input_data": [salted(row, salt) for row, salt in zip(values, salts, strict=True)]}


def salted(values: list[Any], salt: int) -> list[Any]:
    """A subject's committed column: its values interleaved with its salt's blinders."""
    return interleave(values, [int_to_felt(b) for b in
                               blinders(salt, BLINDERS * chunks(len(values)))])


def _json_values(rows: np.ndarray, signature: Signature | None) -> list[list[Any]]:
    if signature is None or column_type(signature) != "int64":
        return [np.asarray(r, dtype=np.float64).ravel().tolist() for r in rows]
    return [[int(v) for v in r] for r in column_values(rows, signature)]


def calibration_data(samples: np.ndarray, subjects: int, committed: bool,
                     signature: Signature | None = None) -> dict[str, Any]:
    """All calibration samples for every subject input (each sample with its own salt)."""
    rng = np.random.default_rng(0)  # salts here only need to look like salts
    values = _json_values(samples, signature)
    per_input = []
    for _ in range(subjects):
        column: list[Any] = []
        for row in values:
            column += salted(row, int.from_bytes(rng.bytes(SALT_BITS // 8), "little")) \
                if committed else row
        per_input.append(column)
    return {"input_data": per_input}


def groups(samples: np.ndarray, subjects: int) -> list[np.ndarray]:
    """Samples in proofs of `subjects` rows each; the last group is topped up from the start."""
    count = math.ceil(len(samples) / subjects)
    padded = np.take(samples, range(count * subjects), axis=0, mode="wrap")
    return [padded[i * subjects:(i + 1) * subjects] for i in range(count)]


def quantize(value: float, scale: int, column: str = "float32") -> int:
    """The field integer ezkl makes of an input value: round half away from zero at 2^scale,
    after a round trip through the column's dtype (an integer column holds integers)."""
    if column == "int64":
        return int(value)
    scaled = (float(np.float32(value)) if column == "float32" else float(value)) * 2**scale
    return int(math.copysign(math.floor(abs(scaled) + 0.5), scaled))


def message(row: np.ndarray, salt: int, input_scale: int,
            signature: Signature | None = None) -> list[str]:
    """A subject's column as the circuit commits to it: its quantized values interleaved with
    its blinders, as field elements."""
    column = "float32" if signature is None else column_type(signature)
    values = np.ravel(row) if signature is None else column_values(np.asarray(row)[None],
                                                                   signature)[0]
    return salted([int_to_felt(quantize(float(v), input_scale, column) % FIELD_MODULUS)
                   for v in values], salt)


def points_key(points: bytes) -> str:
    """A subject's KZG commitment points (x ‖ y, 32-byte big-endian each, as proofs carry
    them, in column order) as the 0x number the registry keys results by: keccak256 of them."""
    from Crypto.Hash import keccak

    return "0x" + keccak.new(digest_bits=256, data=points).hexdigest()


def point_bytes(point: dict[str, str]) -> bytes:
    """ezkl's kzg_commit point (little-endian hex coordinates) as a proof carries it."""
    return bytes.fromhex(point["x"])[::-1] + bytes.fromhex(point["y"])[::-1]


def proof_commitments(proof_bytes: bytes | list[int], subjects: int, points: int = 1,
                      stride: int = 1) -> list[str]:
    """The subjects' KZG commitments, read where the proof carries them: subject j's `points`
    points start at the proof's point j * stride (keys.KeyRecord records both)."""
    raw = bytes(proof_bytes)
    return [points_key(raw[64 * stride * j:64 * (stride * j + points)])
            for j in range(subjects)]


def commitment(layout: Any, row: Any, salt: int) -> str:
    """A subject's input commitment computed outside the circuit, as a 0x number: what the data
    subject, who holds the input (all of its inputs: an array, a list per input or an object
    keyed by input name, as `prove` takes it) and the salt, checks a proof's
    `input_commitments` (and the registry's key, and proof.secret.json) against. Needs the
    model's settings, and for "kzg" its verifying key and SRS: public files, not the proving
    key or any witness."""
    from zkml import _ezkl
    from zkml.circuit import CircuitSettings
    from zkml.export import ExportedModel
    from zkml.inputs import parse_input
    from zkml.keys import current_keys

    settings = CircuitSettings.load(layout)
    if settings.commitment is None:
        raise CircuitError(f"{layout.name}'s circuit publishes no commitment to its input",
                           hint="compile it with --input-visibility committed")
    signature = ExportedModel.load(layout).signature
    (flat,) = parse_input(row, signature, "input")
    felts = message(flat, salt, settings.input_scale, signature)
    if settings.commitment == "poseidon":
        return felt_hex(str(_ezkl.call("poseidon_hash", felts)[0]))
    from zkml import segments

    keys = current_keys(layout, proving=False)
    circuit = layout.segment(0) if segments.is_segmented(layout) else layout  # its input's
    points = _ezkl.call("kzg_commit", felts, str(circuit.vk), str(circuit.settings),
                        str(keys.checked_srs()))
    if len(points) != keys.commitment_points:
        raise CircuitError(f"{layout.name}'s proofs carry {keys.commitment_points} point(s) per "
                           f"subject; this input spans {len(points)}",
                           hint=f"run `zkml setup {layout.name} --force`")
    return points_key(b"".join(point_bytes(p) for p in points))


@dataclass(frozen=True)
class CommitmentCheck:
    """One subject of a proof.secret.json: the commitment its input and salt give, and the one
    the file names (what the registry keys the subject's result by)."""

    index: int
    computed: str
    claimed: str
    matches: bool


def check_secret(layout: Any, input_file: Path, secret_file: Path) -> list[CommitmentCheck]:
    """Recompute each subject's commitment from its private input (as given to `zkml prove`)
    and the salt in proof.secret.json, offline, and compare it with the commitment the file
    names: how a data subject checks that a recorded result is about them."""
    from zkml.circuit import CircuitSettings, check_input
    from zkml.export import ExportedModel
    from zkml.inputs import parse_salt, read_private_input
    from zkml.layout import read_json

    raw = read_json(secret_file, "secret file")
    entries = raw.get("subjects") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries or not all(
            isinstance(e, dict) and "salt" in e and "commitment" in e for e in entries):
        raise CircuitError(f"{secret_file} is not a proof.secret.json",
                           hint='it holds {"subjects": [{"salt": …, "commitment": …}]}')
    settings = CircuitSettings.load(layout)
    if len(entries) != settings.subjects:
        raise CircuitError(f"{secret_file} holds {len(entries)} subject(s); {layout.name}'s "
                           f"proofs have {settings.subjects}", hint="check the model")
    private = read_private_input(input_file)
    rows = check_input(settings, ExportedModel.load(layout).signature, private.values,
                       str(input_file))
    checks = []
    for j, (row, entry) in enumerate(zip(rows, entries, strict=True)):
        computed = commitment(layout, row, parse_salt(entry["salt"], secret_file))
        try:
            claimed = f"0x{int(str(entry['commitment']), 16):064x}"
        except ValueError:
            claimed = str(entry["commitment"])[:80]
        checks.append(CommitmentCheck(j, computed, claimed, computed == claimed))
    return checks
