import pytest

from zkml.errors import ModelError
from zkml.models import resolve


def test_unknown_model_lists_choices():
    with pytest.raises(ModelError, match="unknown model") as info:
        resolve("no_such_model")
    assert "breast_cancer" in info.value.hint


def test_python_source_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        resolve(f"{tmp_path}/missing.py:build")
    (tmp_path / "m.py").write_text("def build():\n    return 42\n")
    with pytest.raises(ModelError, match="has no attribute 'other'"):
        resolve(f"{tmp_path}/m.py:other")
    with pytest.raises(ModelError, match=r"must return \(module, example_input\)"):
        resolve(f"{tmp_path}/m.py:build")
    (tmp_path / "broken.py").write_text("raise ImportError('nope')\n")
    with pytest.raises(ModelError, match="importing .* failed"):
        resolve(f"{tmp_path}/broken.py:build")


def test_corrupt_onnx(tmp_path):
    (tmp_path / "bad.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(ModelError, match="not a readable ONNX model"):
        resolve(str(tmp_path / "bad.onnx"))
