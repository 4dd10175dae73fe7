"""Property tests: whatever a user's input file holds, the answer is an input or an InputError."""

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkml.errors import InputError
from zkml.inputs import load_input
from zkml.signature import InputSpec, Signature

SHAPE = (1, 3)
# a model of two inputs: three floats and two booleans, keyed "x" and "b"
TWO = Signature((InputSpec("x", (1, 3), "float32"), InputSpec("b", (1, 2), "bool")),
                batch_axis=True)
leaves = (st.none() | st.booleans() | st.integers() | st.text(max_size=4)
          | st.floats(allow_nan=True, allow_infinity=True))
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["input_data", "input", "inputs", "x", "b"]), inner, max_size=2),
    max_leaves=20,
)
fuzz = settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture],
                deadline=None)


def check(path, model=SHAPE):
    try:
        array = load_input(path, model)
    except InputError as exc:
        assert exc.message and "\n" not in exc.message
        return None
    width = 3 if model == SHAPE else 5
    assert array.shape == (1, width) and array.dtype == np.float64
    assert np.isfinite(array).all()
    if model != SHAPE:  # the boolean input holds 0/1 only
        assert set(array[0, 3:].tolist()) <= {0.0, 1.0}
    return array


@fuzz
@given(value=json_values)
def test_any_json_value(tmp_path, value):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(value))
    check(path)
    check(path, TWO)


@fuzz
@given(data=st.binary(max_size=300),
       suffix=st.sampled_from([".json", ".csv", ".npy", ".npz"]))
def test_garbage_bytes(tmp_path, data, suffix):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(data)
    check(path)


@fuzz
@given(values=st.lists(st.floats(width=64), min_size=3, max_size=3),
       cut=st.integers(min_value=0, max_value=60))
def test_truncated_json(tmp_path, values, cut):
    text = json.dumps({"input_data": [values]})
    path = tmp_path / "x.json"
    path.write_text(text[:cut] if cut < len(text) else text)
    array = check(path)
    if cut >= len(text) and array is not None:
        assert array.ravel().tolist() == values


def test_huge_integer_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([10**400, 1, 2]))
    assert check(path) is None
