"""Models whose input is longer than one KZG commitment column at the logrows compile picks: a
long record (scikit-learn's digits pixels, 3,000 fields a subject) of which the model reads
only the last few fields. ezkl spreads such a subject over several commitment columns, so
these are the models that show whether a subject's commitment binds and hides all of it.

Each builder writes `<name>.onnx` (a dynamic batch axis) and `<name>.samples.json` into a
folder and returns the ONNX file's path; the weights are fixed numbers, not trained.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIELDS = 3000
READ = 16  # the last READ fields are all the model reads


def records(fields: int) -> np.ndarray:
    """Rows of `fields` consecutive digit pixels, scaled to [0, 1]: real data, long rows."""
    from sklearn.datasets import load_digits

    pixels = load_digits().data.ravel() / 16
    return pixels[:len(pixels) // fields * fields].reshape(-1, fields).astype(np.float32)


def _model(fields: int, read_node, extra_initializers: dict) -> object:
    from onnx import TensorProto, helper, numpy_helper

    weights = np.linspace(-1, 1, READ * 2, dtype=np.float32).reshape(2, READ)
    initializers = {"w": weights, "b": np.array([0.25, -0.25], np.float32),
                    **extra_initializers}
    graph = helper.make_graph(
        [read_node, helper.make_node("Gemm", ["fields", "w", "b"], ["score"], transB=1)],
        "long_record",
        [helper.make_tensor_value_info("record", TensorProto.FLOAT, ["N", fields])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in initializers.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _save(model, folder: Path, name: str, fields: int) -> Path:
    import onnx

    onnx.checker.check_model(model)
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    path.with_suffix(".samples.json").write_text(
        json.dumps({"input_data": records(fields).tolist()}))
    return path


def tail_slice(folder: Path, fields: int = FIELDS) -> Path:
    """record[:, -16:] through a Slice, then a linear layer: what a tabular model that ignores
    most of a record looks like. With 3 inner columns it compiles at logrows 11, where a
    subject spans two commitment columns."""
    from onnx import helper

    read = helper.make_node("Slice", ["record", "starts", "ends", "axes"], ["fields"])
    model = _model(fields, read, {"starts": np.array([fields - READ]),
                                  "ends": np.array([fields]), "axes": np.array([1])})
    return _save(model, folder, "tail_slice", fields)


def tail_gather(folder: Path, fields: int = 2800) -> Path:
    """The last 16 fields picked by index (a Gather, which costs ezkl no rows): with two
    subjects per proof and 3 inner columns, each subject spans two commitment columns."""
    from onnx import helper

    read = helper.make_node("Gather", ["record", "picked"], ["fields"], axis=1)
    model = _model(fields, read, {"picked": np.arange(fields - READ, fields)})
    return _save(model, folder, "tail_gather", fields)
