"""N subjects per proof, each with a salted commitment: the circuit's graph and its input data.

The circuit does not run the exported graph as it is. Its graph takes one input per subject
(the private input of one person, one transaction, ...), each followed, when inputs are hashed,
by a private 128-bit salt in a few limbs; slices the salt off, stacks the subjects' rows
into a batch of N and runs the model on it:

    subject_j [1, F + S] --Slice--> [1, F] --Concat(0)--> [N, F] --Reshape--> [N, *row] --> model

ezkl's hashed input visibility then publishes one Poseidon hash per subject input, over its
features and its salt: a commitment nobody can brute-force from a small input space (the salt
has 128 bits), which the registry keys results by. The model never reads the salt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import CircuitError
from zkml.felts import int_to_felt

SALT_BITS = 128
SUBJECT_INPUT = "subject_{}"


@dataclass(frozen=True)
class SaltLayout:
    """How a 128-bit salt is cut into limbs that each pass the circuit's input range check
    (|x| < decomp_base^decomp_legs: 4 limbs of 32 bits for 256^4, 5 of 30 for 1024^3)."""

    limbs: int
    bits: int

    @classmethod
    def for_decomposition(cls, base: int, legs: int) -> SaltLayout:
        bits = min(64, (base**legs).bit_length() - 1)
        return cls(math.ceil(SALT_BITS / bits), bits)

    def split(self, salt: int) -> list[int]:
        return [(salt >> (self.bits * i)) & ((1 << self.bits) - 1) for i in range(self.limbs)]


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
                        subjects: int, salt: SaltLayout | None) -> None:
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
    width = features + (salt.limbs if salt else 0)
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


def input_data(rows: np.ndarray, salts: list[int] | None,
               salt: SaltLayout | None) -> dict[str, Any]:
    """ezkl's data file for one proof: one list per subject input, its features as floats and,
    when hashed, its salt limbs as field elements (never rounded through a float)."""
    data = []
    for j, row in enumerate(rows):
        values: list[Any] = np.asarray(row, dtype=np.float64).ravel().tolist()
        if salt is not None and salts is not None:
            values += [int_to_felt(limb) for limb in salt.split(salts[j])]
        data.append(values)
    return {"input_data": data}


def calibration_data(samples: np.ndarray, subjects: int,
                     salt: SaltLayout | None) -> dict[str, Any]:
    """All calibration samples for every subject input (each sample with a random salt)."""
    rng = np.random.default_rng(0)  # salts here only need to look like salts
    per_input = []
    for _ in range(subjects):
        values: list[Any] = []
        for row in samples:
            values += np.asarray(row, dtype=np.float64).ravel().tolist()
            if salt is not None:
                values += [int_to_felt(limb) for limb in
                           salt.split(int.from_bytes(rng.bytes(SALT_BITS // 8), "little"))]
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


def commitment(row: np.ndarray, salt: int, input_scale: int, layout: SaltLayout) -> str:
    """A subject's input commitment computed outside the circuit, as a 0x number: what the data
    subject, who holds the input and the salt, checks a proof's `input_commitments` (and the
    registry's key, and proof.secret.json) against."""
    from zkml import _ezkl
    from zkml.felts import FIELD_MODULUS, felt_hex

    message = [int_to_felt(quantize(float(v), input_scale) % FIELD_MODULUS)
               for v in np.ravel(row)]
    message += [int_to_felt(limb) for limb in layout.split(salt)]
    return felt_hex(str(_ezkl.call("poseidon_hash", message)[0]))
