import json

import numpy as np
import pytest

from zkml.errors import InputError
from zkml.inputs import load_input, load_samples

SHAPE = (1, 3)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text",
    ["[1, 2, 3]", "[[1, 2, 3]]", '{"input_data": [[1, 2, 3]]}', '{"input": [1, 2, 3]}'],
)
def test_accepted_json_forms(tmp_path, text):
    array = load_input(write(tmp_path, "x.json", text), SHAPE)
    assert array.shape == SHAPE and array.dtype == np.float32
    assert array.ravel().tolist() == [1, 2, 3]


def test_csv_and_npy(tmp_path):
    assert load_input(write(tmp_path, "x.csv", "1,2,3\n"), SHAPE).ravel().tolist() == [1, 2, 3]
    assert load_input(write(tmp_path, "h.csv", "nan,b,c\n1,2,3\n"), SHAPE).ravel().tolist() \
        == [1, 2, 3]  # a first row with no finite number is a header
    np.save(tmp_path / "x.npy", np.array([4.0, 5.0, 6.0]))
    assert load_input(tmp_path / "x.npy", SHAPE).ravel().tolist() == [4, 5, 6]


def test_hostile_npy_files_are_refused_before_loading(tmp_path):
    np.save(tmp_path / "c.npy", np.array([1 + 2j, 3, 4]))
    with pytest.raises(InputError, match="not real numbers"):
        load_input(tmp_path / "c.npy", SHAPE)
    huge = tmp_path / "huge.npy"
    with huge.open("wb") as fh:  # a header that promises 10^12 values, and no data
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with pytest.raises(InputError, match="claims 1000000000000 values"):
        load_input(huge, SHAPE)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("x.json", "[1, 2]", "has 2 values but the model takes 3"),
        ("x.json", "[1, 2, NaN]", "NaN or infinite"),
        ("x.json", "[1, 2, Infinity]", "NaN or infinite"),
        ("x.json", '[1, "a", 3]', "holds text where numbers belong"),
        ("x.json", '[1, "2", 3]', "holds text where numbers belong"),
        ("x.json", "[1, true, 3]", "holds true/false"),
        ("x.json", "[[1, 2], [3]]", "non-numeric or ragged"),
        ("x.json", "[1, 2,", "not a readable"),
        ("x.json", '{"values": [1, 2, 3]}', "none of the keys"),
        ("x.csv", "1,2,x\n", "column 3 is not a number"),
        ("x.json", '{"input": [1, 2, 3], "salt": "1234"}', "a salt must be an integer"),
        ("x.json", '{"input": [1, 2, 3], "salt": -1}', "a salt must be an integer"),
    ],
)
def test_bad_inputs_have_one_line_errors(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message) as info:
        load_input(write(tmp_path, name, text), SHAPE)
    assert "\n" not in info.value.message


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_input(tmp_path / "nope.json", SHAPE)


def test_samples_must_be_whole_rows(tmp_path):
    good = write(tmp_path, "s.json", json.dumps([[1, 2, 3], [4, 5, 6]]))
    assert load_samples(good, SHAPE).shape == (2, 3)
    with pytest.raises(InputError, match="not a whole number of samples"):
        load_samples(write(tmp_path, "t.json", "[1, 2, 3, 4]"), SHAPE)
