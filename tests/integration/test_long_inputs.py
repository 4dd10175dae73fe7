"""A subject longer than one KZG commitment column: ezkl spreads it over several, one point
each. Its key (what the registry records results under) must bind every value, including the
fields the model reads, and every column must carry salt, or the key could be recomputed from a
guessed input. Both at the logrows compile picks, for one subject and for two per proof."""

import json

import numpy as np
import pytest
from conftest import zkml
from long_inputs import READ, tail_gather, tail_slice

from zkml import _ezkl, keys, models, pipeline, proof
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.evm import registry, rpc
from zkml.evm.anvil import Anvil
from zkml.evm.verifier import build_verifier
from zkml.export import ExportedModel, export
from zkml.layout import ModelLayout
from zkml.recompute import commitment
from zkml.subjects import message

pytestmark = pytest.mark.integration


def build(builder, root, **options):
    onnx_path = builder(root)
    model = models.resolve(str(onnx_path), samples=onnx_path.with_suffix(".samples.json"))
    layout = ModelLayout.for_model(model.name, root / "circuits")
    export(model, layout)
    pipeline.compile_model(layout, CircuitOptions(**options))
    keys.setup(layout)
    return layout


@pytest.fixture(scope="module")
def long_record(tmp_path_factory):
    """3,000 fields, the last 16 read through a Slice; 3 inner columns, at the logrows compile
    picks for them (alone, its search gives this small circuit one column at logrows 13, where
    the subject fits one commitment column)."""
    layout = build(tail_slice, tmp_path_factory.mktemp("long"), num_inner_cols=3)
    assert keys.KeyRecord.load(layout).commitment_points > 1  # the regime under test
    return layout


@pytest.fixture(scope="module")
def long_pair(tmp_path_factory):
    """2,800 fields, two subjects per proof, 3 inner columns: each subject spans columns."""
    layout = build(tail_gather, tmp_path_factory.mktemp("pair"), subjects=2, num_inner_cols=3)
    record = keys.KeyRecord.load(layout)
    assert record.commitment_points > 1 and record.input_commitments == 2
    return layout


@pytest.fixture(scope="module")
def node():
    with Anvil() as anvil:
        yield rpc.connect(anvil.url)


def retailed(row, other):
    """`row` with the fields the model reads taken from `other`: every other field the same."""
    changed = np.array(row, copy=True)
    changed[-READ:] = other[-READ:]
    assert not np.array_equal(changed, row)
    return changed


def points(layout, row, salt):
    """The subject's commitment points, one per column, as ezkl computes them."""
    settings = CircuitSettings.load(layout)
    felts = message(row, salt, settings.input_scale, ExportedModel.load(layout).signature)
    srs = keys.KeyRecord.load(layout).checked_srs()
    return [(p["x"], p["y"]) for p in _ezkl.call("kzg_commit", felts, str(layout.vk),
                                                 str(layout.settings), str(srs))]


def test_a_long_inputs_key_binds_the_fields_the_model_reads(long_record, tmp_path):
    holdout = ExportedModel.load(long_record).holdout
    victim, attacker = holdout[0], retailed(holdout[0], holdout[1])
    made = proof.prove(long_record, victim, tmp_path / "v.json", salts=[5])
    other = proof.prove(long_record, attacker, tmp_path / "a.json", salts=[6])
    assert made.instances.outputs != other.instances.outputs
    assert made.instances.input_commitments != other.instances.input_commitments
    assert made.instances.input_commitments == [commitment(long_record, victim, 5)]
    assert other.instances.input_commitments == [commitment(long_record, attacker, 6)]
    # the same input and salt keep their key; another salt gives another
    assert commitment(long_record, victim, 5) != commitment(long_record, victim, 7)


def test_every_commitment_column_of_a_long_input_carries_salt(long_record):
    """No column's point can be recomputed from the input alone: each changes with the salt
    (were one unsalted, guessing the input would confirm it, salt or no salt)."""
    row = ExportedModel.load(long_record).holdout[0]
    first, second = points(long_record, row, 11), points(long_record, row, 12)
    assert len(first) == keys.KeyRecord.load(long_record).commitment_points > 1
    assert all(a != b for a, b in zip(first, second, strict=True))


def test_enumerating_a_long_inputs_read_fields_finds_no_salted_subject(long_record, tmp_path):
    """An attacker who knows every field but the 16 the model reads tries candidates for them
    (the true ones among them): unsalted the true record is found, salted none is."""
    holdout = ExportedModel.load(long_record).holdout
    candidates = [retailed(holdout[0], other) for other in holdout[1:5]] + [holdout[0]]
    unsalted = proof.prove(long_record, holdout[0], tmp_path / "u.json", salts=[0])
    salted = proof.prove(long_record, holdout[0], tmp_path / "s.json")  # a fresh secret salt
    guesses = [commitment(long_record, c, 0) for c in candidates]
    assert guesses.count(unsalted.instances.input_commitments[0]) == 1
    assert salted.instances.input_commitments[0] not in guesses


def test_a_long_input_is_recorded_under_its_key_and_the_subject_recomputes_it(
        long_record, node, tmp_path):
    build_verifier(long_record)
    deployed = registry.deploy(node, long_record)
    holdout = ExportedModel.load(long_record).holdout
    first = proof.prove(long_record, holdout[0], tmp_path / "first.json")
    second = proof.prove(long_record, retailed(holdout[0], holdout[1]), tmp_path / "second.json")
    for made in (first, second):  # the attacker's look-alike cannot take the victim's key
        (subject,) = registry.submit(node, deployed, long_record, made.path).subjects
        assert subject.recorded_now and subject.commitment == made.instances.input_commitments[0]
    input_file = tmp_path / "input.json"
    input_file.write_text(json.dumps({"input_data": [holdout[0].tolist()]}))
    checked = zkml(long_record.root.parent, "commitment", long_record.name, "--input",
                   input_file, "--secret", first.secret, "--json")
    assert checked.exit_code == 0, checked.output
    (subject,) = json.loads(checked.stdout)["commitment"]["subjects"]
    assert subject["matches"] and subject["computed"] == first.instances.input_commitments[0]


def test_two_long_subjects_per_proof_each_get_a_binding_key(long_pair, node, tmp_path):
    holdout = ExportedModel.load(long_pair).holdout
    rows = np.stack([holdout[0], retailed(holdout[0], holdout[1])])
    made = proof.prove(long_pair, rows, tmp_path / "p.json", salts=[21, 22])
    keys_made = made.instances.input_commitments
    assert keys_made == [commitment(long_pair, row, salt)
                         for row, salt in zip(rows, [21, 22], strict=True)]
    assert len(set(keys_made)) == 2
    swapped = proof.prove(long_pair, rows[::-1], tmp_path / "q.json", salts=[23, 24])
    assert swapped.instances.input_commitments == [  # each subject keyed by its own points
        commitment(long_pair, row, salt) for row, salt in zip(rows[::-1], [23, 24], strict=True)]
    build_verifier(long_pair)
    deployed = registry.deploy(node, long_pair)
    outcome = registry.submit(node, deployed, long_pair, made.path)
    assert [s.commitment for s in outcome.subjects] == keys_made
    assert all(s.recorded_now for s in outcome.subjects)
