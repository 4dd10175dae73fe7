"""Salted input commitments: what a data subject can recompute, and why an outsider cannot
enumerate inputs to find whose result a commitment is, even for a model as small as iris."""

import itertools

import numpy as np
import pytest
from conftest import build

from zkml import proof
from zkml.circuit import CircuitSettings
from zkml.export import ExportedModel
from zkml.subjects import commitment

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    """The bundled iris model with a hashed (salted) input: 4 measurements, 3 species."""
    return build("iris", tmp_path_factory.mktemp("iris"), rename="iris_hashed")


def test_the_subject_recomputes_its_commitment(iris, tmp_path):
    settings = CircuitSettings.load(iris)
    row = ExportedModel.load(iris).holdout[3]
    salt = 0x0123456789ABCDEF0123456789ABCDEF
    made = proof.prove(iris, row, tmp_path / "p.json", salts=[salt])
    assert made.instances.input_commitments == [
        commitment(row, salt, settings.input_scale, settings.salt)]
    again = proof.prove(iris, row, tmp_path / "q.json", salts=[salt])
    assert again.instances.input_hash == made.instances.input_hash  # same input and salt
    other = proof.prove(iris, row, tmp_path / "r.json", salts=[salt + 1])
    assert other.instances.input_hash != made.instances.input_hash  # another salt


def test_enumerating_inputs_does_not_find_a_salted_subject(iris, tmp_path, capsys):
    """An attacker enumerates plausible measurements (a grid around the real record, which is on
    it) and keeps those whose commitment matches the proof's. Unsalted (salt known, here 0) the
    true input is found; with a secret 128-bit salt nothing is, and guessing the salt means
    2^128 tries per candidate input."""
    settings = CircuitSettings.load(iris)
    row = ExportedModel.load(iris).holdout[0]
    steps = np.linspace(-0.5, 0.5, 5)
    grid = [row + np.asarray(d, dtype=np.float32) for d in itertools.product(steps, repeat=4)]
    unsalted = proof.prove(iris, row, tmp_path / "u.json", salts=[0])
    salted = proof.prove(iris, row, tmp_path / "s.json")  # a fresh secret salt
    found_unsalted = [c for c in grid if commitment(c, 0, settings.input_scale, settings.salt)
                      == unsalted.instances.input_commitments[0]]
    found_salted = [c for c in grid if commitment(c, 0, settings.input_scale, settings.salt)
                    == salted.instances.input_commitments[0]]
    with capsys.disabled():
        print(f"\nenumeration of {len(grid)} candidate inputs: unsalted commitment matched "
              f"{len(found_unsalted)}, salted commitment matched {len(found_salted)}")
    assert len(found_unsalted) == 1 and np.allclose(found_unsalted[0], row)
    assert found_salted == []
