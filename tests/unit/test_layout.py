import json

import pytest

from zkml.errors import ArtifactError
from zkml.layout import Manifest, ModelLayout, atomic_path, read_json, sha256_file, write_json


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_read_json_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ArtifactError, match="bad.json"):
        read_json(bad, "thing")
    with pytest.raises(ArtifactError, match="not found"):
        read_json(tmp_path / "missing.json", "thing")


def test_manifest_freshness_follows_inputs_and_outputs(tmp_path):
    layout = ModelLayout(tmp_path / "m")
    source = layout.root / "in.txt"
    output = layout.root / "out.txt"
    layout.root.mkdir()
    source.write_text("a")
    output.write_text("result")

    manifest = Manifest(layout)
    key = manifest.stage_key([source], {"x": 1})
    manifest.record("stage", key, [output], 1.0)

    again = Manifest(layout)
    assert again.is_fresh("stage", again.stage_key([source], {"x": 1}))
    assert not again.is_fresh("stage", again.stage_key([source], {"x": 2}))

    source.write_text("b")
    assert not again.is_fresh("stage", Manifest(layout).stage_key([source], {"x": 1}))

    source.write_text("a")
    output.write_text("tampered")
    assert not Manifest(layout).is_fresh("stage", Manifest(layout).stage_key([source], {"x": 1}))


def test_manifest_lists_path_size_sha256(tmp_path):
    layout = ModelLayout(tmp_path / "m")
    layout.root.mkdir()
    out = layout.root / "a.bin"
    out.write_bytes(b"12345")
    manifest = Manifest(layout)
    manifest.record("s", "k", [out], 0.1)
    data = json.loads(layout.manifest.read_text())
    assert data["files"]["a.bin"]["size"] == 5
    assert data["files"]["a.bin"]["sha256"] == sha256_file(out)


def test_write_json_roundtrip(tmp_path):
    write_json(tmp_path / "x.json", {"a": [1, 2]})
    assert read_json(tmp_path / "x.json", "x") == {"a": [1, 2]}


@pytest.mark.parametrize("name", ["nl\n", "../x", "/abs", ".hidden", "a/b", "", "sp ace", "é"])
def test_model_names_that_could_escape_or_mislead_are_refused(name):
    from zkml.layout import check_model_name

    with pytest.raises(ArtifactError, match="not a usable model name"):
        check_model_name(name)


def test_an_onnx_path_with_a_colon_names_its_folder_by_the_file():
    from zkml.models import source_name

    assert source_name("some dir:with colon/net.onnx") == "net"
    assert source_name("models/net.py:build") == "net-build"


def test_a_symlinked_lock_file_is_refused_not_followed(tmp_path):
    from zkml.layout import folder_lock

    folder = tmp_path / "model"
    folder.mkdir()
    target = tmp_path / "elsewhere"
    (folder / ".lock").symlink_to(target)
    with pytest.raises(ArtifactError, match="symbolic link"), folder_lock(folder, shared=True):
        pass
    assert not target.exists()
