"""A dozen tiny ONNX files that zkml did not export, built the ways users build theirs: with
onnx.helper (opsets 10 to 18), torch's exporter, and scikit-learn through skl2onnx or a
hummingbird-style tensor translation of a tree ensemble. Each builder writes `<name>.onnx` and,
when the model has inputs, `<name>.samples.json` (calibration and held-out samples in one of
the forms a user gives them) into a folder, and returns what the coverage test needs to know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLES = 12  # 9 calibrate, 3 are held out: enough for tiny models, and quick


@dataclass(frozen=True)
class Built:
    name: str
    onnx: Path
    samples: Path | None
    chain: bool = False  # whether the registry flow runs on it in the default tier (all: slow)


def _save(model, folder: Path, name: str, samples=None) -> Built:
    import onnx

    onnx.checker.check_model(model)
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    written = None
    if samples is not None:
        written = folder / f"{name}.samples.json"
        written.write_text(json.dumps(samples))
    return Built(name, path, written)


def _graph(nodes, inputs, outputs, initializers=(), opset=18, name="g"):
    from onnx import helper, numpy_helper

    graph = helper.make_graph(nodes, name, inputs, outputs,
                              [numpy_helper.from_array(np.asarray(v), k)
                               for k, v in dict(initializers).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=8)


def _io(name, dtype, shape):
    from onnx import helper

    return helper.make_tensor_value_info(name, dtype, shape)


def _rng():
    return np.random.default_rng(0)


def two_inputs(folder: Path) -> Built:
    """Two float inputs with a dynamic batch axis (samples keyed by input name)."""
    from onnx import TensorProto as T
    from onnx import helper

    w = _rng().normal(0, 0.5, (3, 2)).astype(np.float32)
    model = _graph([helper.make_node("Add", ["a", "b"], ["s"]),
                    helper.make_node("MatMul", ["s", "w"], ["y"])],
                   [_io("a", T.FLOAT, ["n", 3]), _io("b", T.FLOAT, ["n", 3])],
                   [_io("y", T.FLOAT, ["n", 2])], {"w": w})
    rng = _rng()
    samples = {"a": rng.uniform(-1, 1, (SAMPLES, 3)).tolist(),
               "b": rng.uniform(-1, 1, (SAMPLES, 3)).tolist()}
    return _save(model, folder, "two_inputs", samples)


def gather_index(folder: Path) -> Built:
    """A float table and an int64 index (a gather with a dynamic index): samples as ezkl's
    own input_data, one flat list per input."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("Gather", ["table", "idx"], ["y"], axis=1)],
                   [_io("table", T.FLOAT, [1, 5]), _io("idx", T.INT64, [1])],
                   [_io("y", T.FLOAT, [1, 1])], opset=13)
    rng = _rng()
    samples = {"input_data": [rng.uniform(-2, 2, SAMPLES * 5).round(3).tolist(),
                              rng.integers(0, 5, SAMPLES).tolist()]}
    return _save(model, folder, "gather_index", samples)


def where_bool(folder: Path) -> Built:
    """A boolean mask choosing between two float inputs (JSON true/false in the samples); two
    outputs, the choice and its sum, a zero-dimensional scalar."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("Where", ["mask", "a", "b"], ["y"]),
                    helper.make_node("ReduceSum", ["y"], ["total"], keepdims=0)],
                   [_io("mask", T.BOOL, [1, 4]), _io("a", T.FLOAT, [1, 4]),
                    _io("b", T.FLOAT, [1, 4])],
                   [_io("y", T.FLOAT, [1, 4]), _io("total", T.FLOAT, [])], opset=16)
    rng = _rng()
    samples = {"mask": (rng.uniform(size=(SAMPLES, 4)) > 0.5).tolist(),
               "a": rng.uniform(-1, 1, (SAMPLES, 4)).tolist(),
               "b": rng.uniform(-1, 1, (SAMPLES, 4)).tolist()}
    built = _save(model, folder, "where_bool", samples)
    return Built(built.name, built.onnx, built.samples, chain=True)


def scalar_mean(folder: Path) -> Built:
    """A zero-dimensional output: the mean of the input's elements."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("ReduceMean", ["x"], ["y"], keepdims=0)],
                   [_io("x", T.FLOAT, [1, 6])], [_io("y", T.FLOAT, [])], opset=17)
    return _save(model, folder, "scalar_mean", _rng().uniform(-1, 1, (SAMPLES, 6)).tolist())


def int_affine(folder: Path) -> Built:
    """int64 in, int64 out: integer arithmetic, exact in the circuit."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("Mul", ["x", "k"], ["m"]),
                    helper.make_node("Add", ["m", "c"], ["s"]),
                    helper.make_node("ReduceSum", ["s", "axes"], ["y"], keepdims=1)],
                   [_io("x", T.INT64, [1, 3])], [_io("y", T.INT64, [1, 1])],
                   {"k": np.array([2, -3, 5], np.int64), "c": np.array([7, 0, -1], np.int64),
                    "axes": np.array([1], np.int64)}, opset=13)
    return _save(model, folder, "int_affine",
                 _rng().integers(-50, 50, (SAMPLES, 3)).tolist())


def double_linear(folder: Path) -> Built:
    """A float64 input and float64 weights (as a linear SVM's decision function)."""
    from onnx import TensorProto as T
    from onnx import helper

    rng = _rng()
    model = _graph([helper.make_node("MatMul", ["x", "w"], ["m"]),
                    helper.make_node("Add", ["m", "b"], ["y"])],
                   [_io("x", T.DOUBLE, [1, 4])], [_io("y", T.DOUBLE, [1, 3])],
                   {"w": rng.normal(0, 0.5, (4, 3)), "b": rng.normal(0, 0.1, 3)}, opset=15)
    return _save(model, folder, "double_linear", rng.uniform(-1, 1, (SAMPLES, 4)).tolist())


def topk(folder: Path) -> Built:
    """TopK: the 3 largest values (ezkl proves TopK's values, not its indices)."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1)],
                   [_io("x", T.FLOAT, [1, 6])], [_io("values", T.FLOAT, [1, 3])],
                   {"k": np.array([3], np.int64)}, opset=18)
    return _save(model, folder, "topk", _rng().uniform(-1, 1, (SAMPLES, 6)).tolist())


def scatter_nd(folder: Path) -> Built:
    """ScatterND of a second input into the first (samples as a list per input, in order)."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("ScatterND", ["x", "where", "u"], ["y"])],
                   [_io("x", T.FLOAT, [1, 6]), _io("u", T.FLOAT, [2])],
                   [_io("y", T.FLOAT, [1, 6])],
                   {"where": np.array([[0, 1], [0, 4]], np.int64)}, opset=16)
    rng = _rng()
    samples = [rng.uniform(-1, 1, (SAMPLES, 6)).tolist(), rng.uniform(-1, 1, (SAMPLES, 2)).tolist()]
    return _save(model, folder, "scatter_nd", samples)


def fixed_batch(folder: Path) -> Built:
    """A batch axis fixed inside the graph: a Reshape to [3, 4] and a Gather of rows, whose
    output's first axis (2) is no batch."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("Reshape", ["x", "shape"], ["r"]),
                    helper.make_node("Gather", ["r", "rows"], ["g"], axis=0),
                    helper.make_node("ReduceSum", ["g", "axes"], ["y"], keepdims=0)],
                   [_io("x", T.FLOAT, [1, 3, 4])], [_io("y", T.FLOAT, [2])],
                   {"shape": np.array([3, 4], np.int64), "rows": np.array([0, 2], np.int64),
                    "axes": np.array([1], np.int64)}, opset=14)
    return _save(model, folder, "fixed_batch", _rng().uniform(-1, 1, (SAMPLES, 12)).tolist())


def opset10_pool(folder: Path) -> Built:
    """An opset 10 file: an average pool over an image with a fixed batch of 1, then a dense
    layer to two scores."""
    from onnx import TensorProto as T
    from onnx import helper

    rng = _rng()
    model = _graph([helper.make_node("AveragePool", ["x"], ["p"], kernel_shape=[2, 2],
                                     strides=[2, 2]),
                    helper.make_node("Flatten", ["p"], ["f"]),
                    helper.make_node("Gemm", ["f", "w", "b"], ["y"])],
                   [_io("x", T.FLOAT, [1, 1, 4, 4])], [_io("y", T.FLOAT, [1, 2])],
                   {"w": rng.normal(0, 0.5, (4, 2)).astype(np.float32),
                    "b": np.zeros(2, np.float32)}, opset=10)
    return _save(model, folder, "opset10_pool", rng.uniform(0, 1, (SAMPLES, 16)).tolist())


def rank1_mlp(folder: Path) -> Built:
    """An MLP on an input of rank 1 (no batch axis at all), as a wide MLP's file declares it."""
    from onnx import TensorProto as T
    from onnx import helper

    rng = _rng()
    model = _graph([helper.make_node("MatMul", ["x", "w1"], ["h"]),
                    helper.make_node("Relu", ["h"], ["r"]),
                    helper.make_node("MatMul", ["r", "w2"], ["y"])],
                   [_io("x", T.FLOAT, [8])], [_io("y", T.FLOAT, [2])],
                   {"w1": rng.normal(0, 0.5, (8, 6)).astype(np.float32),
                    "w2": rng.normal(0, 0.5, (6, 2)).astype(np.float32)}, opset=12)
    np.save(folder / "rank1_mlp.npy", rng.uniform(-1, 1, (SAMPLES, 8)))
    built = _save(model, folder, "rank1_mlp")
    return Built(built.name, built.onnx, folder / "rank1_mlp.npy")


def no_input(folder: Path) -> Built:
    """A graph without inputs: its output is a constant computation."""
    from onnx import TensorProto as T
    from onnx import helper

    model = _graph([helper.make_node("Mul", ["c", "k"], ["y"])], [],
                   [_io("y", T.FLOAT, [1, 3])],
                   {"c": np.array([[0.5, -1.0, 2.0]], np.float32),
                    "k": np.array([3.0], np.float32)}, opset=11)
    return _save(model, folder, "no_input")


def lstm(folder: Path) -> Built:
    """torch's LSTM (an ONNX LSTM node) over 2 steps of 2 features, then a dense layer."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(2, 2, batch_first=True)
            self.out = torch.nn.Linear(2, 2)

        def forward(self, x):
            seq, _ = self.lstm(x)
            return self.out(seq[:, -1])

    torch.manual_seed(0)
    net = Net().eval()
    path = folder / "lstm.onnx"
    torch.onnx.export(net, (torch.zeros(1, 2, 2),), str(path), input_names=["x"],
                      output_names=["y"], opset_version=14, dynamo=False)
    samples = folder / "lstm.samples.json"
    samples.write_text(json.dumps(_rng().uniform(-1, 1, (SAMPLES, 2, 2)).tolist()))
    return Built("lstm", path, samples)


def _gemm_tree(tree, path_dtype):
    """A fitted scikit-learn tree as hummingbird-ml's GEMM strategy holds it: which feature each
    inner node compares (pick) with its threshold, each root-to-leaf path (+1: went left, -1:
    right) in `path_dtype` with its count of left turns (depth), and each leaf's class shares."""
    inner = [i for i in range(tree.node_count) if tree.children_left[i] >= 0]
    leaves = [i for i in range(tree.node_count) if tree.children_left[i] < 0]
    pick = np.zeros((tree.n_features, len(inner)), np.float32)
    for j, i in enumerate(inner):
        pick[tree.feature[i], j] = 1
    paths = np.zeros((len(inner), len(leaves)), path_dtype)
    depth = np.zeros(len(leaves), path_dtype)

    def walk(node, path):
        if tree.children_left[node] < 0:
            leaf = leaves.index(node)
            for j, left in path:
                paths[j, leaf] = 1 if left else -1
            depth[leaf] = sum(left for _, left in path)
            return
        walk(tree.children_left[node], [*path, (inner.index(node), True)])
        walk(tree.children_right[node], [*path, (inner.index(node), False)])

    walk(0, [])
    values = tree.value[leaves, 0, :].astype(np.float32)
    return (pick, tree.threshold[inner].astype(np.float32), paths, depth,
            values / values.sum(1, keepdims=True))


def tree_gemm(folder: Path) -> Built:
    """A decision tree (scikit-learn) translated to tensor ops as hummingbird-ml's GEMM strategy
    does (compare every feature with every threshold, then match root-to-leaf paths with two
    matrix products), exported by torch with a dynamic batch axis."""
    import torch
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y).tree_
    pick, threshold, paths, depth, values = _gemm_tree(tree, np.float32)

    class Gemm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name, value in (("pick", pick), ("threshold", threshold),
                                ("paths", paths), ("depth", depth), ("values", values)):
                self.register_buffer(name, torch.tensor(value, dtype=torch.float32))

        def forward(self, features):
            left = (features @ self.pick <= self.threshold).float()
            reached = (left @ self.paths == self.depth).float()
            return reached @ self.values

    path = folder / "tree_gemm.onnx"
    torch.onnx.export(Gemm().eval(), (torch.zeros(1, 4),), str(path), input_names=["features"],
                      output_names=["probabilities"], opset_version=18, dynamo=False,
                      dynamic_axes={"features": {0: "n"}, "probabilities": {0: "n"}})
    samples = folder / "tree_gemm.csv"
    rows = x[::12][:SAMPLES]
    samples.write_text("sepal_l,sepal_w,petal_l,petal_w\n"
                       + "".join(",".join(f"{v:g}" for v in r) + "\n" for r in rows))
    return Built("tree_gemm", path, samples)


def tree_int8(folder: Path) -> Built:
    """The same kind of tree written with onnx.helper the way some converters do it: the
    root-to-leaf matching is an int8 MatMul, which ezkl proves and onnxruntime refuses to load
    (it has no int8 MatMul kernel)."""
    from onnx import TensorProto, helper
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y).tree_
    pick, threshold, paths, depth, values = _gemm_tree(tree, np.int8)
    nodes = [
        helper.make_node("MatMul", ["features", "pick"], ["picked"]),
        helper.make_node("LessOrEqual", ["picked", "threshold"], ["left_bool"]),
        helper.make_node("Cast", ["left_bool"], ["left"], to=TensorProto.INT8),
        helper.make_node("MatMul", ["left", "paths"], ["turns"]),
        helper.make_node("Equal", ["turns", "depth"], ["reached_bool"]),
        helper.make_node("Cast", ["reached_bool"], ["reached"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["reached", "values"], ["probabilities"]),
    ]
    model = _graph(nodes, [_io("features", TensorProto.FLOAT, ["n", 4])],
                   [_io("probabilities", TensorProto.FLOAT, ["n", 3])],
                   {"pick": pick, "threshold": threshold, "paths": paths, "depth": depth,
                    "values": values}, opset=13)
    return _save(model, folder, "tree_int8", x[::12][:SAMPLES].tolist())


def skl2onnx_tree(folder: Path) -> Path:
    """scikit-learn's own converter: one ai.onnx.ml TreeEnsembleClassifier node, an op ezkl
    does not implement (the coverage test expects one clear line naming it)."""
    import onnx
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y)
    model = to_onnx(tree, x[:1], options={id(tree): {"zipmap": False}},
                    target_opset={"": 13, "ai.onnx.ml": 3})
    path = folder / "skl_tree.onnx"
    onnx.save(model, str(path))
    (folder / "skl_tree.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in x[::10]))
    return path


BUILDERS = [two_inputs, gather_index, where_bool, scalar_mean, int_affine, double_linear,
            topk, scatter_nd, fixed_batch, opset10_pool, rank1_mlp, no_input, lstm, tree_gemm,
            tree_int8]
