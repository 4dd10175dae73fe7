"""Zoo declarations (zkml.toml / pyproject.toml) and the comparison rules, without ezkl."""

import pytest

from zkml import regress
from zkml.regress import ConfigError, Moved, ZooEntry

ZOO = """
[regress]
baseline = "base.json"

[[regress.models]]
name = "fraud"
source = "models/fraud.onnx"
samples = "data/rows.csv"
inputs = ["data/a.json", "data/b.json"]
weights-visibility = "hashed"
abs-tolerance = 0.5
"""


def test_zkml_toml_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "zkml.toml").write_text(ZOO)
    nested = tmp_path / "src" / "deep"
    nested.mkdir(parents=True)
    config = regress.find_config(nested)
    assert config == tmp_path / "zkml.toml"
    zoo = regress.load_zoo(config)
    (entry,) = zoo.entries
    assert zoo.baseline == tmp_path / "base.json"
    assert entry.source == f"{tmp_path}/models/fraud.onnx"
    assert entry.inputs == (tmp_path / "data/a.json", tmp_path / "data/b.json")
    assert entry.options.weights == "hashed" and entry.abs_tolerance == 0.5


def test_pyproject_without_a_zoo_is_skipped(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match="no model zoo is declared"):
        regress.find_config(tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    ("[regress]\n", "lists no models"),
    ("[[regress.models]]\nname = 'a'\n", "has no 'source'"),
    ("[[regress.models]]\nname = 'a'\nsource = 'b.onnx'\nsampels = 'x'\n", "unknown key"),
    ("[[regress.models]]\nname = 'a'\nsource = 'b.onnx'\nabs-tolerance = 'x'\n", "wrong type"),
    ("[[regress.models]]\nname = 'a'\nsource = 'b.onnx'\nweights-visibility = 'open'\n",
     "weights must be one of"),
    ("[regress\n", "not readable TOML"),
])
def test_bad_declarations_say_what_is_wrong(tmp_path, text, message):
    (tmp_path / "zkml.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        regress.load_zoo(tmp_path / "zkml.toml")


def metrics(outputs, files=None):
    return {"model_files": files or {"w.pt": "a" * 64}, "outputs": outputs,
            **{metric: 1 for metric in regress.RULES}}


def test_outputs_exact_by_default_and_within_tolerance_when_declared():
    exact = ZooEntry("m", "m.onnx")
    loose = ZooEntry("m", "m.onnx", abs_tolerance=0.01, rel_tolerance=0.001)
    before = {"m": metrics([[[1.0]]])}
    assert regress.compare(before, {"m": metrics([[[1.005]]])}, [loose]) == []
    assert regress.compare(before, {"m": metrics([[[1.0105]]])}, [loose]) == []  # abs + rel
    assert [m.metric for m in regress.compare(before, {"m": metrics([[[1.005]]])}, [exact])] \
        == ["output[0][0]"]
    assert [m.metric for m in regress.compare(before, {"m": metrics([[[1.5]]])}, [loose])] \
        == ["output[0][0]"]


def test_a_changed_model_file_is_named_before_what_moved():
    entry = ZooEntry("m", "m.onnx")
    moved = regress.compare({"m": metrics([[[1.0, 2.0]]])},
                            {"m": metrics([[[1.0, 3.0]]], {"w.pt": "b" * 64})}, [entry])
    assert [m.metric for m in moved] == ["model changed: w.pt", "output[0][1]"]
    assert isinstance(moved[0], Moved) and moved[0].baseline == "a" * 12
