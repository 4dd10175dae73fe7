import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from zkml.errors import InputError
from zkml.inputs import iter_batch, load_input, load_samples, parse_salt
from zkml.signature import InputSpec, Signature

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
    assert array.shape == (1, 3) and array.dtype == np.float64  # one subject's flat row
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
        ("x.json", '{"values": [1, 2, 3]}', "no input named 'values'"),
        ("x.json", '{"salt": "0x1234"}', "none of the keys"),
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


def test_samples_can_carry_their_labels(tmp_path):
    labelled = write(tmp_path, "l.json", json.dumps(
        {"input_data": [[1, 2, 3], [4, 5, 6]], "labels": [1, "benign"]}))
    samples = load_samples(labelled, SHAPE)
    assert samples.rows.shape == (2, 3) and samples.labels == [1, "benign"]
    with pytest.raises(InputError, match="2 samples"):
        load_samples(write(tmp_path, "m.json", json.dumps(
            {"input_data": [[1, 2, 3], [4, 5, 6]], "labels": [1]})), SHAPE)
    with pytest.raises(InputError, match="class indices or class names"):
        load_samples(write(tmp_path, "b.json", json.dumps(
            {"input_data": [[1, 2, 3]], "labels": [1.5]})), SHAPE)


def test_samples_must_be_whole_rows(tmp_path):
    good = write(tmp_path, "s.json", json.dumps([[1, 2, 3], [4, 5, 6]]))
    assert load_samples(good, SHAPE).rows.shape == (2, 3)
    with pytest.raises(InputError, match="not a whole number of samples"):
        load_samples(write(tmp_path, "t.json", "[1, 2, 3, 4]"), SHAPE)


# a model of three inputs: floats [1, 2], an int64 index, a boolean mask [1, 2]
MIXED = Signature((InputSpec("x", (1, 2), "float32"), InputSpec("idx", (1,), "int64"),
                   InputSpec("mask", (1, 2), "bool")), batch_axis=False)


@pytest.mark.parametrize("text", [
    '{"x": [0.5, -1], "idx": [2], "mask": [true, false]}',
    '{"input": {"mask": [1, 0], "idx": 2, "x": [[0.5, -1]]}, "salt": "0x' + "ab" * 32 + '"}',
    '[[0.5, -1], [2], [true, false]]',
    '{"input_data": [[0.5, -1], [2], [1, 0]]}',
])
def test_several_inputs_by_name_order_or_ezkl_form(tmp_path, text):
    array = load_input(write(tmp_path, "x.json", text), MIXED)
    assert array.tolist() == [[0.5, -1, 2, 1, 0]]  # the subject's flat row, in input order


def test_npz_and_csv_for_several_inputs(tmp_path):
    np.savez(tmp_path / "named.npz", mask=np.array([[True, False]]), x=np.array([[0.5, -1]]),
             idx=np.array([2]))
    np.savez(tmp_path / "ordered.npz", np.array([[0.5, -1]]), np.array([2]), np.array([1, 0]))
    for name in ("named.npz", "ordered.npz"):
        assert load_input(tmp_path / name, MIXED).tolist() == [[0.5, -1, 2, 1, 0]]
    rows = load_samples(write(tmp_path, "s.csv", "x0,x1,idx,m0,m1\n1,2,3,1,0\n4,5,6,0,1\n"),
                        MIXED).rows
    assert rows.tolist() == [[1, 2, 3, 1, 0], [4, 5, 6, 0, 1]]
    samples = load_samples(write(tmp_path, "s.json", json.dumps(
        {"input_data": [[1, 2, 4, 5], [3, 6], [1, 0, 0, 1]]})), MIXED).rows
    assert samples.tolist() == rows.tolist()


@pytest.mark.parametrize(("text", "message"), [
    ('{"x": [0.5, -1], "idx": [2.5], "mask": [1, 0]}',
     "element 0 of input 'idx' is not a whole number in int64's range"),
    ('{"x": [0.5, -1], "idx": [2], "mask": [2, 0]}', "element 0 of input 'mask' is not a boolean"),
    ('{"x": [true, -1], "idx": [2], "mask": [1, 0]}',
     "holds true/false where numbers belong (element 0 of input 'x')"),
    ('{"x": [0.5, -1], "idx": [true], "mask": [1, 0]}', "true/false where numbers belong"),
    ('{"x": [0.5, -1], "mask": [1, 0]}', "input 'idx' is missing"),
    ('{"x": [0.5, -1], "idx": [2], "mask": [1, 0], "y": [1]}', "no input named 'y'"),
    ('[[0.5, -1], [2]]', "the model takes 3 inputs; give one list per input"),
    ('{"x": [0.5], "idx": [2], "mask": [1, 0]}', "(input 'x') has 1 values but the model takes 2"),
])
def test_several_inputs_errors_name_the_input(tmp_path, text, message):
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_input(write(tmp_path, "x.json", text), MIXED)
    assert "\n" not in info.value.message


def test_no_inputs_and_scalar_inputs(tmp_path):
    nothing = Signature((), batch_axis=False)
    assert load_input(write(tmp_path, "n.json", "[]"), nothing).shape == (1, 0)
    scalar = Signature((InputSpec("t", (), "float64"),), batch_axis=False)
    assert load_input(write(tmp_path, "t.json", "2.5"), scalar).tolist() == [[2.5]]
    assert load_samples(write(tmp_path, "ts.json", "[1, 2, 3]"), scalar).rows.shape == (3, 1)
def test_excel_csv_utf8_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeffa,b,c\n1,2,3\n".encode())
    assert load_input(path, SHAPE).ravel().tolist() == [1, 2, 3]
    path.write_bytes("\ufeff1,2,3\n".encode())
    assert load_input(path, SHAPE).ravel().tolist() == [1, 2, 3]
    rows = tmp_path / "rows.csv"
    rows.write_bytes("\ufeff1,2,3\n4,5,6\n".encode())
    assert [item.raw.tolist() for item in iter_batch(rows)] == [[1, 2, 3], [4, 5, 6]]


def test_csv_rows_are_numbered_as_in_the_file_everywhere(tmp_path):
    path = write(tmp_path, "x.csv", "a,b,c\n1,x,3\n")
    with pytest.raises(InputError, match=r"x.csv row 2: column 2 is not a number"):
        load_input(path, SHAPE)
    (item,) = iter_batch(path)
    assert item.id == "row000002" and item.error == "row 2: column 2 is not a number"


def test_text_where_a_number_belongs_names_its_element(tmp_path):
    with pytest.raises(InputError, match=r"holds text where numbers belong \(element 5\)"):
        load_input(write(tmp_path, "x.json", '[[1, 2], [3, 4], [5, "six"]]'), (1, 6))


def test_an_input_read_from_a_pipe(tmp_path):
    """`--input <(echo ...)` is a /dev/fd path: not a regular file, but readable."""
    read, write_end = os.pipe()
    os.write(write_end, b"[1, 2, 3]")
    os.close(write_end)
    try:
        assert load_input(Path(f"/dev/fd/{read}"), SHAPE).ravel().tolist() == [1, 2, 3]
    finally:
        os.close(read)
    with pytest.raises(InputError, match="is a folder"):
        load_input(tmp_path, SHAPE)


def test_batch_ids_null_is_no_id_and_others_must_be_strings_or_numbers(tmp_path):
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": null, "input": [1, 2, 3]}\n{"id": 7, "input": [1, 2, 3]}\n'
                     '{"id": [1], "input": [1, 2, 3]}\n{"id": true, "input": [1, 2, 3]}\n')
    items = list(iter_batch(lines))
    assert [item.id for item in items] == ["line000001", "7", "line000003", "line000004"]
    assert items[2].error == "line 3: an id must be a string or a number"
    assert items[3].error == "line 4: an id must be a string or a number"


def test_a_small_salt_is_warned_about_once_when_used(tmp_path):
    import logging

    from zkml.inputs import read_private_input

    class Records(logging.Handler):
        messages: list[str] = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    handler = Records(logging.WARNING)
    logging.getLogger("zkml").addHandler(handler)  # the CLI's tests may stop propagation
    try:
        private = read_private_input(write(tmp_path, "x.json",
                                           '{"input": [1, 2, 3], "salt": 5}'))
        assert private.salts == [5] and handler.messages == []  # checked, not warned about
        parse_salt(5, "x.json")
    finally:
        logging.getLogger("zkml").removeHandler(handler)
    assert len(handler.messages) == 1 and "can be guessed" in handler.messages[0]


@pytest.mark.parametrize(("text", "key"), [
    ('{"input": [1, 2, 3], "input": [4, 5, 6]}', "input"),
    ('{"input": [1, 2, 3], "salt": "0x1", "salt": "0x2"}', "salt"),
    ('{"input_data": [[1, 2, 3]], "input_data": [[4, 5, 6]]}', "input_data"),
    ('[{"a": 1, "a": 2}]', "a"),  # nested too
])
def test_json_naming_a_key_twice_is_refused_naming_key_and_file(tmp_path, text, key):
    """Readers disagree on which of two values counts (Python's takes the last): refused, in
    an input, samples, a batch line and any JSON read_json reads (secret files)."""
    from zkml.errors import ArtifactError
    from zkml.layout import read_json

    path = write(tmp_path, "x.json", text)
    for read in (lambda: load_input(path, SHAPE), lambda: load_samples(path, SHAPE)):
        with pytest.raises(InputError) as info:
            read()
        assert info.value.message == f'{path} names the key "{key}" twice'
        assert "JSON readers disagree" in info.value.hint
    with pytest.raises(ArtifactError, match=f'secret file {re.escape(str(path))} names the key '
                       f'"{key}" twice'):
        read_json(path, "secret file")
    lines = write(tmp_path, "b.jsonl", '{"input": [1, 2, 3]}\n' + text + "\n")
    first, second = iter_batch(lines)
    assert first.error is None
    assert second.error == f'line 2 names the key "{key}" twice'
