"""A model for the segment tests: an MLP 16-24-24-24-2 with fixed weights (no torch, no
training), which needs more than 2^12 rows and is cut into two segments of logrows 12 at
--max-logrows 12, and its samples (normal rows, a fixed seed).

`write(folder)` writes `chain_mlp.onnx` and `chain_mlp.samples.json` and returns the ONNX
file's path (regression/models/ holds the same files, the regression zoo's chain_mlp).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WIDTHS = (16, 24, 24, 24, 2)
MAX_LOGROWS = 12
# the layout pinned (one inner column, 256^4 range checks), where the whole circuit needs 2^13
# rows and two segments fit 2^12 each; the search alone fits it into one circuit of 2^12
LAYOUT = {"num_inner_cols": 1, "decomp_base": 256, "decomp_legs": 4}
SAMPLES = 80


def write(folder: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, initializers, value = [], [], "x"
    for k, (n_in, n_out) in enumerate(zip(WIDTHS, WIDTHS[1:], strict=False)):
        weight = (rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
        bias = (rng.normal(size=n_out) * 0.1).astype(np.float32)
        initializers += [numpy_helper.from_array(weight, f"w{k}"),
                         numpy_helper.from_array(bias, f"b{k}")]
        out = "y" if k == len(WIDTHS) - 2 else f"h{k}"
        nodes.append(helper.make_node("Gemm", [value, f"w{k}", f"b{k}"], [out], transB=1,
                                      name=f"dense{k}"))
        if out != "y":
            nodes.append(helper.make_node("Relu", [out], [f"a{k}"], name=f"relu{k}"))
            out = f"a{k}"
        value = out
    graph = helper.make_graph(
        nodes, "chain_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    path = folder / "chain_mlp.onnx"
    onnx.save(model, str(path))
    rows = np.random.default_rng(1).normal(size=(SAMPLES, WIDTHS[0])).round(4)
    path.with_suffix(".samples.json").write_text(json.dumps(rows.tolist()))
    return path
