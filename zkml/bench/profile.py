"""Where a circuit's rows come from: its cells (rows at one inner column) per ONNX node.

ezkl reports a circuit's cells as a whole (gen_settings' total_assignments). Laying out the
graph cut after each node in turn, with every tensor left hanging a private output (no output
checks), and taking differences gives each node's own cells: its matrix products' one cell per
multiply-accumulate, its rescaling divisions and ReLUs' decompositions (a few cells per leg per
value), its lookups. zkml's own input plumbing (the subject columns' Gather, Concat, Reshape) is
one line. A cut costs one gen_settings: about a second for the benchmark's largest model.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml.layout import ModelLayout, read_json

PLUMBING = "zkml's input columns"


@dataclass(frozen=True)
class Layer:
    node: str
    op: str
    cells: int
    elements: int  # values the node outputs (what its per-value costs multiply; 0: unknown)


def profile(graph: Path, run_args: dict[str, Any]) -> list[Layer]:
    """Cells per node of this graph laid out with these run args (at one inner column)."""
    import onnx

    from zkml import _ezkl

    model = onnx.load(str(graph))
    typed = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    nodes = [type(n).FromString(n.SerializeToString()) for n in model.graph.node]
    run = {**run_args, "num_inner_cols": 1, "output_visibility": "private"}
    layers: list[Layer] = []
    before = 0
    plumbing = 0
    with tempfile.TemporaryDirectory(prefix="zkml-profile-") as scratch:
        cut, settings = Path(scratch) / "cut.onnx", Path(scratch) / "settings.json"
        for k, node in enumerate(nodes):
            if node.op_type == "Constant":
                continue
            kept = nodes[:k + 1]
            used = {name for n in kept for name in n.input}
            hanging = [typed.get(o) or onnx.helper.make_empty_tensor_value_info(o)
                       for n in kept for o in n.output if o not in used]
            del model.graph.node[:]
            model.graph.node.extend(kept)
            del model.graph.output[:]
            model.graph.output.extend(hanging)
            onnx.save(model, str(cut))
            try:
                _ezkl.call("gen_settings", str(cut), str(settings), py_run_args=run)
            except _ezkl.EzklFailure:
                continue  # a cut ezkl cannot read alone (e.g. a shape-only tensor): the next
            cells = int(read_json(settings, "settings")["total_assignments"])
            value = typed.get(node.output[0])
            dims = [d.dim_value for d in value.type.tensor_type.shape.dim] \
                if value is not None else []
            elements = math.prod(dims) if dims and all(dims) else 0  # 0: not known
            if node.name.startswith("zkml_"):
                plumbing += cells - before
            else:
                layers.append(Layer(node.name or node.output[0], node.op_type, cells - before,
                                    elements))
            before = cells
    return [Layer(PLUMBING, "Gather/Concat/Reshape", plumbing, 0), *layers] if plumbing \
        else layers


def zkml_profile(layout: ModelLayout) -> list[Layer]:
    """A compiled zkml circuit's cells per node, at its own scale and decomposition."""
    raw = read_json(layout.settings, "circuit settings")
    args = raw["run_args"]
    run = {"input_visibility": "private", "param_visibility": "fixed",
           "input_scale": args["input_scale"], "param_scale": args["param_scale"],
           "scale_rebase_multiplier": args["scale_rebase_multiplier"],
           "decomp_base": args["decomp_base"], "decomp_legs": args["decomp_legs"],
           "disable_freivalds": args["disable_freivalds"],
           "ignore_range_check_inputs_outputs": args["ignore_range_check_inputs_outputs"]}
    return profile(layout.circuit_onnx, run)


def plain_profile(root: Path) -> list[Layer]:
    """A plain-ezkl circuit's (zkml.bench.plain) cells per node, at its settings."""
    plain = ModelLayout(root)
    args = json.loads(plain.settings.read_text())["run_args"]
    run = {"input_visibility": "private", "param_visibility": "fixed",
           "variables": [tuple(v) for v in args["variables"]],
           "input_scale": args["input_scale"], "param_scale": args["param_scale"],
           "scale_rebase_multiplier": args["scale_rebase_multiplier"],
           "decomp_base": args["decomp_base"], "decomp_legs": args["decomp_legs"]}
    return profile(plain.onnx, run)
