"""The salt store on real files (no ezkl): written once, owner-only, found by input."""

import json
import os

import numpy as np
import pytest

from zkml import salts
from zkml.errors import ArtifactError
from zkml.layout import ModelLayout, write_json_once

ROW = np.array([0.25, -1.5, 3.0])
OTHER = np.array([0.25, -1.5, 3.0000001])


def commitment(n: int) -> str:
    return f"0x{n:064x}"


@pytest.fixture
def layout(tmp_path):
    root = tmp_path / "m"
    root.mkdir()
    return ModelLayout(root)


def test_every_salt_is_kept_once_owner_only_whatever_the_umask(layout):
    old = os.umask(0)
    try:
        paths = salts.keep(layout, [ROW], [7], [commitment(1)], layout.proof.with_name("p.s"))
    finally:
        os.umask(old)
    store = layout.secrets
    assert paths == [store.salt(commitment(1))]
    for folder in (store.root, store.inputs, *store.inputs.iterdir()):
        assert folder.stat().st_mode & 0o777 == 0o700
    for file in (paths[0], store.input_key, layout.root / "p.s"):
        assert file.stat().st_mode & 0o777 == 0o600
    kept = json.loads(paths[0].read_text())
    assert kept["subjects"] == [{"salt": f"0x{7:064x}", "commitment": commitment(1)}]
    assert ROW.tobytes().hex() not in paths[0].read_text()  # a keyed digest, not the input
    salts.keep(layout, [OTHER], [8], [commitment(1)])  # same name: the first file stays
    assert json.loads(paths[0].read_text()) == kept
    assert not [p for p in store.root.rglob("*") if p.name.endswith(".tmp")]


def test_an_input_is_found_by_its_exact_values_oldest_first(layout):
    assert salts.earlier(layout, [ROW]) == [[]]  # no store yet, and none is made
    assert not layout.secrets.root.exists()
    salts.keep(layout, [ROW], [5], [commitment(2)])
    salts.keep(layout, [ROW, OTHER], [6, 9], [commitment(1), commitment(3)])
    same, other = salts.earlier(layout, [ROW, OTHER])
    assert [k.commitment for k in same] == [commitment(2), commitment(1)]  # by age, not name
    assert [k.salt for k in same] == [5, 6]
    assert [k.commitment for k in other] == [commitment(3)]
    assert [k.commitment for k in salts.same_input(layout, commitment(1))] == [commitment(2)]
    assert salts.choose(None, [same], reuse=True) == [5]
    assert salts.choose([4], [same], reuse=True) == [4]  # a given salt wins
    assert salts.choose(None, [same], reuse=False) != [5]
    (repeat,) = salts.repeats([same, other], [commitment(4), commitment(3)])
    assert (repeat.subject, repeat.earlier, repeat.secret) == (
        0, commitment(2), layout.secrets.salt(commitment(2)))
    assert commitment(2) in repeat.describe("in.json", 1)
    assert salts.reused([same, other], [commitment(4), commitment(3)]) == [
        layout.secrets.salt(commitment(3))]
    assert "salt=" not in repr(same[0])


def test_a_copy_from_before_the_store_is_taken_in_before_it_is_replaced(layout):
    copy = layout.root / "proof.secret.json"
    copy.write_text(json.dumps({"subjects": [
        {"salt": f"0x{11:064x}", "commitment": commitment(9)}]}))
    salts.keep(layout, [ROW], [12], [commitment(10)], copy)
    assert json.loads(copy.read_text())["subjects"][0]["commitment"] == commitment(10)
    old = json.loads(layout.secrets.salt(commitment(9)).read_text())
    assert old["subjects"] == [{"salt": f"0x{11:064x}", "commitment": commitment(9)}]
    assert "input_hmac" not in old  # its input is unknown: never matched to one


def test_files_that_are_not_the_stores_are_left_alone(layout):
    salts.keep(layout, [ROW], [5], [commitment(2)])
    folder = next(layout.secrets.inputs.iterdir())
    (folder / "notes.txt").write_text("mine")
    (folder / commitment(6)).touch()  # a marker whose salt file never came (a killed prove)
    layout.secrets.salt(commitment(7)).write_text("{}")
    (folder / commitment(7)).touch()
    assert [k.commitment for k in salts.earlier(layout, [ROW])[0]] == [commitment(2)]
    with pytest.raises(ArtifactError, match="not a commitment"):
        layout.secrets.salt("../proof")


def test_write_once_never_replaces(tmp_path):
    target = tmp_path / "x.json"
    assert write_json_once(target, {"a": 1})
    assert not write_json_once(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_killed_writers_temporary_goes_with_the_next_salt(layout):
    import subprocess

    salts.keep(layout, [ROW], [5], [commitment(2)])
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead = layout.secrets.root / f".{commitment(3)}.json.{finished.pid}.abc_1.tmp"
    running = layout.secrets.root / f".{commitment(5)}.json.{os.getpid()}.abc_2.tmp"
    dead.write_text('{"subj')
    running.write_text('{"subj')
    salts.keep(layout, [OTHER], [6], [commitment(4)])
    assert not dead.exists() and running.exists()
