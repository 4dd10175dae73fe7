"""A model's inputs as the ONNX file declares them, and the circuit graph zkml writes from them:
loadable by onnxruntime, computing what the model computes (no ezkl here)."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from zkml.errors import CircuitError, ModelError
from zkml.signature import InputSpec, Signature, read_signature
from zkml.subjects import check_circuit_graph, column_type, column_values, write_circuit_graph


def model(nodes, inputs, outputs, initializers=None, opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              [numpy_helper.from_array(v, k)
                               for k, v in (initializers or {}).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def io(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def test_signature_reads_names_shapes_dtypes_and_the_batch_axis():
    dynamic = model([helper.make_node("Add", ["a", "b"], ["y"])],
                    [io("a", T.FLOAT, ["n", 3]), io("b", T.INT64, ["n", 3])],
                    [io("y", T.FLOAT, ["n", 3])])
    signature = read_signature(dynamic.graph, "m")
    assert signature == Signature((InputSpec("a", (1, 3), "float32"),
                                   InputSpec("b", (1, 3), "int64")), batch_axis=True)
    assert signature.features == 6 and signature.offsets() == [(0, 3), (3, 6)]
    assert signature.element(4) == "element 1 of input 'b'"
    fixed = model([helper.make_node("Identity", ["x"], ["y"])], [io("x", T.BOOL, [])],
                  [io("y", T.BOOL, [])])
    assert read_signature(fixed.graph, "m") == Signature((InputSpec("x", (), "bool"),), False)
    # old files list weights among inputs: they are not the model's inputs
    old = model([helper.make_node("Add", ["x", "w"], ["y"])],
                [io("x", T.FLOAT, [1, 2]), io("w", T.FLOAT, [2])], [io("y", T.FLOAT, [1, 2])],
                {"w": np.ones(2, np.float32)})
    assert [s.name for s in read_signature(old.graph, "m").inputs] == ["x"]


@pytest.mark.parametrize(("value", "message"), [
    (io("x", T.FLOAT, [1, "seq"]), "symbolic dimension other than its first"),
    (io("x", T.STRING, [1, 2]), "element type 8"),
])
def test_signature_refuses_what_a_circuit_cannot_take(value, message):
    graph = model([helper.make_node("Identity", ["x"], ["y"])], [value],
                  [io("y", T.FLOAT, None)]).graph
    with pytest.raises(ModelError, match=message):
        read_signature(graph, "m")


def test_feeds_give_each_input_its_dtype_and_shape():
    signature = Signature((InputSpec("x", (1, 2), "float32"), InputSpec("m", (1,), "bool")),
                          batch_axis=True)
    feeds = signature.feeds(np.array([[0.5, 1.5, 1.0], [2.0, 3.0, 0.0]]))
    assert feeds["x"].dtype == np.float32 and feeds["x"].shape == (2, 2)
    assert feeds["m"].dtype == np.bool_ and feeds["m"].tolist() == [True, False]
    assert signature.ezkl_data(np.array([[0.5, 1.5, 1.0]])) == {"input_data": [[0.5, 1.5],
                                                                               [1.0]]}


def circuit(tmp_path, onnx_model, subjects=1, committed=True):
    source = tmp_path / "model.onnx"
    onnx.save(onnx_model, str(source))
    signature = read_signature(onnx_model.graph, "m")
    target = tmp_path / "circuit.onnx"
    write_circuit_graph(source, target, signature, subjects, committed)
    return signature, target


def run(path, feeds):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def test_a_fixed_graph_keeps_the_shapes_it_computes(tmp_path):
    """A Reshape to [3, 4] and a Gather of rows: the output's first axis (2) is no batch, and
    the circuit graph leaves it so (zkml once overwrote it with the subject count)."""
    fixed = model([helper.make_node("Reshape", ["x", "shape"], ["r"]),
                   helper.make_node("Gather", ["r", "rows"], ["y"], axis=0)],
                  [io("x", T.FLOAT, [1, 3, 4])], [io("y", T.FLOAT, [2, 4])],
                  {"shape": np.array([3, 4], np.int64), "rows": np.array([0, 2], np.int64)})
    signature, path = circuit(tmp_path, fixed)
    row = np.arange(12, dtype=np.float64)[None]
    (out,) = run(path, {"subject_0": np.concatenate([row, [[0, 0]]], 1).astype(np.float32)})
    assert out.tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    check_circuit_graph(path, signature, row, [out.reshape(1, -1)], 1, True)
    with pytest.raises(CircuitError, match="fixes its inputs' shapes"):
        circuit(tmp_path, fixed, subjects=2)


def test_integers_and_floats_share_one_exact_integer_column(tmp_path):
    """A float table and an int64 index: one int64 column per subject, the float carried as
    x * 2^16 and divided back; the index reaches the GatherElements exactly."""
    gather = model([helper.make_node("GatherElements", ["table", "idx"], ["y"], axis=1)],
                   [io("table", T.FLOAT, ["n", 3]), io("idx", T.INT64, ["n", 1])],
                   [io("y", T.FLOAT, ["n", 1])])
    signature, path = circuit(tmp_path, gather, subjects=2, committed=False)
    assert column_type(signature) == "int64"
    rows = np.array([[0.5, -1.25, 2.0, 2], [1.0, 0.25, -3.0, 1]])
    values = column_values(rows, signature)
    assert values[0].tolist() == [0.5 * 2**16, -1.25 * 2**16, 2 * 2**16, 2]
    outs = run(path, {f"subject_{j}": values[j:j + 1].astype(np.int64) for j in range(2)})
    assert outs[0].ravel().tolist() == [2.0, 0.25]  # each subject's own index into its table
    check_circuit_graph(path, signature, rows, [np.array([[2.0], [0.25]])], 2, False)
    with pytest.raises(CircuitError, match="does not compute the model's output 0"):
        check_circuit_graph(path, signature, rows, [np.array([[2.0], [1.0]])], 2, False)


def test_a_graph_that_only_claims_a_batch_axis_is_refused_for_several_subjects(tmp_path):
    """A symbolic first axis, but a Reshape to [1, 4] inside: two subjects cannot run."""
    claims = model([helper.make_node("Reshape", ["x", "shape"], ["y"])],
                   [io("x", T.FLOAT, ["n", 2, 2])], [io("y", T.FLOAT, [1, 4])],
                   {"shape": np.array([1, 4], np.int64)})
    signature, path = circuit(tmp_path, claims, subjects=2)
    rows = np.arange(8, dtype=np.float64).reshape(2, 4)
    with pytest.raises(CircuitError, match="does not run") as info:
        check_circuit_graph(path, signature, rows, [rows], 2, True)
    assert "axis 0" in info.value.hint


def test_equal_is_rewritten_to_the_same_booleans_at_scale_zero(tmp_path):
    equal = model([helper.make_node("Equal", ["x", "k"], ["e"]),
                   helper.make_node("Cast", ["e"], ["y"], to=T.FLOAT)],
                  [io("x", T.FLOAT, ["n", 3])], [io("y", T.FLOAT, ["n", 3])],
                  {"k": np.array([1, 2, 3], np.float32)})
    _, path = circuit(tmp_path, equal, committed=False)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "Equal" not in ops and {"Less", "Greater", "Or", "Not"} <= set(ops)
    (out,) = run(path, {"subject_0": np.array([[1, 0, 3]], np.float32)})
    assert out.tolist() == [[1, 0, 1]]
