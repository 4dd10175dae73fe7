"""N subjects per proof, each with a salted commitment: the circuit's graph and its input data.

The circuit does not run the exported graph as it is. Its graph takes one input per subject
(the private input of one person, one transaction, ...), each followed, when the input is
committed, by BLINDERS private field elements derived from the subject's secret 256-bit salt;
slices the blinders off, stacks the subjects' rows into a batch of N and runs the model on it:

    subject_j [1, F + B] --Slice--> [1, F] --Concat(0)--> [N, F] --Reshape--> [N, *row] --> model

The proof then publishes one commitment per subject input, over its features and blinders,
which the registry keys results by. Two schemes, chosen by the figures in the README:

- "kzg" (ezkl's `polycommit`): the subject's input column is committed like any advice column,
  and that commitment is the first points of the proof. It adds one column and no gates, so
  it costs little at any number of rows, but one column per subject. A subject's commitment,
  as zkml and the registry name it, is keccak256 of the point (x ‖ y, 32-byte big-endian each).
  The column carries no random blinding rows, so the proof also reveals one evaluation of it
  at a random point; two uniform blinders leave exactly one salt consistent with any guess of
  the input, so the commitment and that evaluation together hide the input perfectly.
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

SALT_BITS = 256  # the subject's secret; the circuit sees the blinders derived from it
BLINDERS = 2
SUBJECT_INPUT = "subject_{}"
SCHEMES = ("kzg", "poseidon")
# the most subjects per proof for which "kzg" is the cheaper scheme (gas; prove time up to 10)
KZG_MAX_SUBJECTS = 7


def blinders(salt: int) -> list[int]:
    """The field elements a salt puts into the circuit: SHA-512 of (salt, i), mod p, so they
    are uniform to within 2^-258, and one stored secret reproduces them."""
    secret = salt.to_bytes(SALT_BITS // 8, "big")
    return [int.from_bytes(hashlib.sha512(secret + bytes([i])).digest(), "big") % FIELD_MODULUS
            for i in range(BLINDERS)]


def _static_dims(value_info: Any) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None
            for d in value_info.type.tensor_type.shape.dim]


def _load(onnx_path: Path) -> Any:
    import onnx

    try:
        return onnx.load(str(onnx_path))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise CircuitError(f"{onnx_path} is not a readable ONNX model ({type(exc).__name__})",
                           hint="export it again with `zkml export`") from None


def graph_batch(onnx_path: Path) -> int | None:
    """The exported graph's batch size, or None when its batch axis is dynamic."""
    model = _load(onnx_path)
    initializers = {i.name for i in model.graph.initializer}
    (graph_input,) = [i for i in model.graph.input if i.name not in initializers]
    return _static_dims(graph_input)[0]


def write_circuit_graph(model_onnx: Path, target: Path, row_shape: tuple[int, ...],
                        subjects: int, committed: bool) -> None:
    """The graph the circuit is built from (see the module's docstring), with static shapes."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = _load(model_onnx)
    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise CircuitError(f"{model_onnx} has {len(inputs)} inputs; zkml supports one")
    batch = _static_dims(inputs[0])[0]
    if batch not in (None, subjects):
        raise CircuitError(
            f"{model_onnx} has a fixed batch of {batch}, so it cannot prove {subjects} inputs "
            "per proof",
            hint=f"use --batch {batch}, or export the model with a dynamic batch axis")
    original = inputs[0].name
    features = math.prod(row_shape)
    width = features + (BLINDERS if committed else 0)
    graph.input.remove(inputs[0])
    graph.initializer.extend([
        numpy_helper.from_array(np.array([0], np.int64), "zkml_slice_starts"),
        numpy_helper.from_array(np.array([features], np.int64), "zkml_slice_ends"),
        numpy_helper.from_array(np.array([-1], np.int64), "zkml_slice_axes"),
        numpy_helper.from_array(np.array([subjects, *row_shape], np.int64), "zkml_batch_shape"),
    ])
    nodes, rows = [], []
    for j in range(subjects):
        name = SUBJECT_INPUT.format(j)
        graph.input.insert(j, helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, width]))
        rows.append(f"{name}_features")
        nodes.append(helper.make_node(
            "Slice", [name, "zkml_slice_starts", "zkml_slice_ends", "zkml_slice_axes"],
            [rows[-1]], name=f"zkml_slice_{j}"))
    nodes.append(helper.make_node("Concat", rows, ["zkml_rows"], axis=0, name="zkml_concat"))
    nodes.append(helper.make_node("Reshape", ["zkml_rows", "zkml_batch_shape"], [original],
                                  name="zkml_reshape"))
    old_nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + old_nodes)
    for output in graph.output:
        dims = output.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_value = subjects
    del graph.value_info[:]
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        onnx.checker.check_model(model)
    except Exception as exc:
        raise CircuitError(
            f"the circuit graph for {subjects} subject(s) does not check: {exc}",
            hint="the model must treat axis 0 as its batch (export with a dynamic batch axis)",
        ) from None
    onnx.save(model, str(target))


def input_data(rows: np.ndarray, salts: list[int] | None) -> dict[str, Any]:
    """ezkl's data file for one proof: one list per subject input, its features as floats and,
    when committed, its blinders as field elements (never rounded through a float)."""
    data = []
    for j, row in enumerate(rows):
        values: list[Any] = np.asarray(row, dtype=np.float64).ravel().tolist()
        if salts is not None:
            values += [int_to_felt(b) for b in blinders(salts[j])]
        data.append(values)
    return {"input_data": data}


def calibration_data(samples: np.ndarray, subjects: int, committed: bool) -> dict[str, Any]:
    """All calibration samples for every subject input (each sample with its own salt)."""
    rng = np.random.default_rng(0)  # salts here only need to look like salts
    per_input = []
    for _ in range(subjects):
        values: list[Any] = []
        for row in samples:
            values += np.asarray(row, dtype=np.float64).ravel().tolist()
            if committed:
                salt = int.from_bytes(rng.bytes(SALT_BITS // 8), "little")
                values += [int_to_felt(b) for b in blinders(salt)]
        per_input.append(values)
    return {"input_data": per_input}


def groups(samples: np.ndarray, subjects: int) -> list[np.ndarray]:
    """Samples in proofs of `subjects` rows each; the last group is topped up from the start."""
    count = math.ceil(len(samples) / subjects)
    padded = np.take(samples, range(count * subjects), axis=0, mode="wrap")
    return [padded[i * subjects:(i + 1) * subjects] for i in range(count)]


def quantize(value: float, scale: int) -> int:
    """The field integer ezkl makes of an input value: round half away from zero at 2^scale."""
    scaled = float(np.float32(value)) * 2**scale
    return int(math.copysign(math.floor(abs(scaled) + 0.5), scaled))


def message(row: np.ndarray, salt: int, input_scale: int) -> list[str]:
    """A subject input's column as the circuit commits to it: its quantized features, then its
    blinders, as field elements."""
    return ([int_to_felt(quantize(float(v), input_scale) % FIELD_MODULUS) for v in np.ravel(row)]
            + [int_to_felt(b) for b in blinders(salt)])


def point_key(point: bytes) -> str:
    """A KZG commitment (x ‖ y, 32-byte big-endian each, as proofs carry it) as the 0x number
    the registry keys results by: keccak256 of its 64 bytes."""
    from Crypto.Hash import keccak

    return "0x" + keccak.new(digest_bits=256, data=point).hexdigest()


def proof_commitments(proof_bytes: bytes | list[int], subjects: int) -> list[str]:
    """The subjects' KZG commitments, read where the proof carries them: its first points, one
    per subject input, in order."""
    raw = bytes(proof_bytes)
    return [point_key(raw[64 * j:64 * (j + 1)]) for j in range(subjects)]


def commitment(layout: Any, row: np.ndarray, salt: int) -> str:
    """A subject's input commitment computed outside the circuit, as a 0x number: what the data
    subject, who holds the input and the salt, checks a proof's `input_commitments` (and the
    registry's key, and proof.secret.json) against. Needs the model's settings, and for "kzg"
    its verifying key and SRS: public files, not the proving key or any witness."""
    from zkml import _ezkl
    from zkml.circuit import CircuitSettings
    from zkml.keys import current_keys

    settings = CircuitSettings.load(layout)
    if settings.commitment is None:
        raise CircuitError(f"{layout.name}'s circuit publishes no commitment to its input",
                           hint="compile it with --input-visibility committed")
    felts = message(row, salt, settings.input_scale)
    if settings.commitment == "poseidon":
        return felt_hex(str(_ezkl.call("poseidon_hash", felts)[0]))
    srs = current_keys(layout, proving=False).checked_srs()
    (point,) = _ezkl.call("kzg_commit", felts, str(layout.vk), str(layout.settings), str(srs))
    return point_key(bytes.fromhex(point["x"])[::-1] + bytes.fromhex(point["y"])[::-1])


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
    rows = check_input(settings, ExportedModel.load(layout).row_shape, private.values,
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
