"""Salted input commitments: what a data subject can recompute, in either scheme and for each
subject of a batch, and why an outsider cannot enumerate inputs to find whose result a
commitment is, even for a model as small as iris."""

import itertools
import json

import numpy as np
import pytest
from conftest import build

from zkml import proof
from zkml.circuit import CircuitSettings
from zkml.errors import InputError
from zkml.export import ExportedModel
from zkml.recompute import check_secret, commitment

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    """The bundled iris model with a committed (salted) input: 4 measurements, 3 species."""
    return build("iris", tmp_path_factory.mktemp("iris"), rename="iris_kzg")


def test_the_subject_recomputes_its_commitment(iris, tmp_path):
    assert CircuitSettings.load(iris).commitment == "kzg"  # the default for one subject
    row = ExportedModel.load(iris).holdout[3]
    salt = 0x0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
    made = proof.prove(iris, row, tmp_path / "p.json", salts=[salt])
    assert made.instances.input_commitments == [commitment(iris, row, salt)]
    with pytest.raises(InputError, match="proved before under KZG commitment") as refused:
        proof.prove(iris, row, tmp_path / "q.json", salts=[salt])  # one column, two proofs
    assert "\n" not in refused.value.message and not (tmp_path / "q.json").exists()
    other = proof.prove(iris, row, tmp_path / "r.json", salts=[salt + 1])
    assert other.instances.input_commitments != made.instances.input_commitments


@pytest.mark.parametrize("scheme", ["kzg", "poseidon"])
def test_each_subject_of_a_batch_recomputes_its_commitment(scheme, tmp_path):
    layout = build("iris", tmp_path, rename=f"iris_{scheme}3", subjects=3, commitment=scheme)
    assert CircuitSettings.load(layout).commitment == scheme
    rows = ExportedModel.load(layout).holdout[:3]
    salts = [11, 22 << 200, 33 << 100]
    made = proof.prove(layout, rows, tmp_path / "p.json", salts=salts)
    assert made.instances.input_commitments == [
        commitment(layout, row, salt) for row, salt in zip(rows, salts, strict=True)]
    assert len(set(made.instances.input_commitments)) == 3
    # each subject's salt is kept on its own: the subject checks it with their input alone
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(rows[1].tolist()))
    (check,) = check_secret(layout, mine, made.kept[1])
    assert check.matches and check.computed == made.instances.input_commitments[1]
    assert not check_secret(layout, mine, made.kept[0])[0].matches
    # proved again with the salts kept: a Poseidon commitment may be, a KZG one never
    if scheme == "poseidon":
        again = proof.prove(layout, rows, tmp_path / "q.json", reuse_salt=True)
        assert again.instances.input_commitments == made.instances.input_commitments
        assert again.reused == made.kept and not again.warnings
    else:
        with pytest.raises(InputError, match="--commitment poseidon"):
            proof.prove(layout, rows, tmp_path / "q.json", reuse_salt=True)
        assert not (tmp_path / "q.json").exists()


def test_enumerating_inputs_does_not_find_a_salted_subject(iris, tmp_path):
    """An attacker enumerates plausible measurements (a grid around the real record, which is on
    it) and keeps those whose commitment matches the proof's. Unsalted (salt known, here 0) the
    true input is found; with a secret 256-bit salt nothing is, and guessing the salt means
    2^256 tries per candidate input."""
    row = ExportedModel.load(iris).holdout[0]
    steps = np.linspace(-0.5, 0.5, 5)
    grid = [row + np.asarray(d, dtype=np.float32) for d in itertools.product(steps, repeat=4)]
    unsalted = proof.prove(iris, row, tmp_path / "u.json", salts=[0])
    salted = proof.prove(iris, row, tmp_path / "s.json")  # a fresh secret salt
    guesses = [commitment(iris, c, 0) for c in grid]
    found_unsalted = [c for c, g in zip(grid, guesses, strict=True)
                      if g == unsalted.instances.input_commitments[0]]
    found_salted = [c for c, g in zip(grid, guesses, strict=True)
                    if g == salted.instances.input_commitments[0]]
    print(f"\nenumeration of {len(grid)} candidate inputs: unsalted commitment matched "
          f"{len(found_unsalted)}, salted commitment matched {len(found_salted)}")
    assert len(found_unsalted) == 1 and np.allclose(found_unsalted[0], row)
    assert found_salted == []
