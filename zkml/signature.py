"""What a model takes and gives: its inputs (names, shapes, dtypes) and one subject's flat row.

A model has any number of inputs (none too), each with its own shape and dtype as the ONNX file
declares them. Everything zkml keeps about one subject's inputs (samples, a proof's private
input, batch rows) is one flat row of float64: every input flattened, in input order. That row
is also what the circuit commits to (zkml.subjects), so a subject's commitment covers all of its
private inputs. float64 holds every value of an int32, a bool and any int64 a circuit can
represent exactly, and `feeds` turns a row back into each input's own dtype for onnxruntime.

The batch axis: a graph whose every input has a symbolic first dimension (torch's export with a
dynamic batch) takes one subject as a batch of 1, and N subjects stacked along axis 0. A graph
whose inputs have fixed shapes (a batch fixed in the graph: shapes baked into Reshape, Gather or
constants, or no batch axis at all) takes one subject as the whole input, as declared, and a
proof holds one subject.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# ONNX TensorProto element types zkml proves, by numpy name (ezkl quantizes floats at the
# circuit's scale and takes integers and booleans at scale 0, exactly)
ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
               7: "int64", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}


@dataclass(frozen=True)
class InputSpec:
    """One model input: its name, one subject's shape (batch 1 on a dynamic batch axis, the
    declared shape on a fixed one; () for a scalar) and its numpy dtype name."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def kind(self) -> str:
        """"float", "int" or "bool"."""
        if self.dtype == "bool":
            return "bool"
        return "float" if np.dtype(self.dtype).kind == "f" else "int"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> InputSpec:
        return cls(str(raw["name"]), tuple(int(d) for d in raw["shape"]), str(raw["dtype"]))

    def describe(self) -> str:
        return f"{self.name!r} {self.dtype}{list(self.shape)}"


@dataclass(frozen=True)
class Signature:
    """A model's inputs, and whether they share a dynamic batch axis."""

    inputs: tuple[InputSpec, ...]
    batch_axis: bool  # every input's first dimension is symbolic: N subjects stack along it

    @property
    def features(self) -> int:
        """Values in one subject's flat row."""
        return sum(spec.size for spec in self.inputs)

    @property
    def kinds(self) -> set[str]:
        return {spec.kind for spec in self.inputs}

    @property
    def all_float(self) -> bool:
        return self.kinds <= {"float"}

    def offsets(self) -> list[tuple[int, int]]:
        """Each input's [start, end) in a subject's flat row."""
        spans, start = [], 0
        for spec in self.inputs:
            spans.append((start, start + spec.size))
            start += spec.size
        return spans

    def element(self, index: int) -> str:
        """Where a flat row's element lies, for messages: "element 3 of input 'x'"."""
        for spec, (start, end) in zip(self.inputs, self.offsets(), strict=True):
            if start <= index < end:
                return (f"element {index - start} of input {spec.name!r}"
                        if len(self.inputs) > 1 else f"element {index}")
        return f"element {index}"

    def feeds(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """onnxruntime's inputs for stacked subjects' flat rows, each input in its own dtype:
        rows stacked along the batch axis, or (a fixed graph) one row as declared."""
        rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), self.features)
        feeds = {}
        for spec, (start, end) in zip(self.inputs, self.offsets(), strict=True):
            part = rows[:, start:end]
            shape = (len(rows), *spec.shape[1:]) if self.batch_axis else spec.shape
            feeds[spec.name] = part.reshape(shape).astype(spec.dtype)
        return feeds

    def ezkl_data(self, rows: np.ndarray) -> dict[str, Any]:
        """ezkl's own data file for the model as it is (not zkml's circuit graph): one flat
        list per model input, holding the rows' values of that input in turn."""
        rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), self.features)
        return {"input_data": [rows[:, start:end].ravel().tolist()
                               for start, end in self.offsets()]}

    def as_dict(self) -> dict[str, Any]:
        return {"inputs": [spec.as_dict() for spec in self.inputs],
                "batch_axis": self.batch_axis}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Signature:
        return cls(tuple(InputSpec.from_dict(i) for i in raw["inputs"]), bool(raw["batch_axis"]))

    @classmethod
    def single(cls, shape: tuple[int, ...], name: str = "input") -> Signature:
        """A torch model's one float input, exported with a dynamic batch axis."""
        return cls((InputSpec(name, (1, *shape[1:]), "float32"),), batch_axis=True)

    def describe(self) -> str:
        if not self.inputs:
            return "no inputs"
        return ", ".join(spec.describe() for spec in self.inputs)


def graph_inputs(graph: Any) -> list[Any]:
    """A graph's real inputs: its inputs less initializers (old files list weights as inputs)."""
    initializers = {i.name for i in graph.initializer}
    return [i for i in graph.input if i.name not in initializers]


def read_signature(graph: Any, source: str) -> Signature:
    """The inputs an ONNX graph declares. A symbolic dimension other than the first of every
    input (the batch axis) is refused: zkml would not know what size to prove."""
    from zkml.errors import ModelError

    specs, dynamic = [], []
    for value in graph_inputs(graph):
        tensor = value.type.tensor_type
        if not value.type.HasField("tensor_type"):
            raise ModelError(f"{source}: input {value.name!r} is not a tensor",
                             hint="zkml proves models whose inputs are tensors")
        dtype = ONNX_DTYPES.get(tensor.elem_type)
        if dtype is None:
            raise ModelError(f"{source}: input {value.name!r} has ONNX element type "
                             f"{tensor.elem_type}, which a circuit cannot take",
                             hint="use float, integer or boolean inputs")
        if not tensor.HasField("shape"):
            raise ModelError(f"{source}: input {value.name!r} declares no shape",
                             hint="give every input a shape (the batch axis may be symbolic)")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        dynamic.append(bool(dims) and dims[0] is None)
        if any(d is None for d in dims[1:]):
            raise ModelError(
                f"{source}: input {value.name!r} has a symbolic dimension other than its first",
                hint="fix every dimension but the batch axis (e.g. re-export with a fixed "
                "sequence length)")
        specs.append(InputSpec(value.name, tuple(1 if d is None else d for d in dims), dtype))
    return Signature(tuple(specs), batch_axis=bool(specs) and all(dynamic))
