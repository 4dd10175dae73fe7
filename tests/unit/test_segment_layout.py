"""The salted layout of a segmented model's links (zkml.segments), without ezkl: where values
and blinders sit in a column, how blinders travel down the chain, and the count that makes a
link hide its values (every column owns at least as many blinders as it has equations)."""

from pathlib import Path

import numpy as np
import pytest

from zkml import segments
from zkml.segments import LINK_BLINDERS, SALT_BLINDERS, Chain, Cut, SegmentSpec


@pytest.mark.parametrize("count", [0, 1, 252, 253, 254, 255, 1000, 5000])
@pytest.mark.parametrize("per", [SALT_BLINDERS, LINK_BLINDERS])
def test_cells_interleave_values_and_blinders(count, per):
    values, blinders = segments.cells(count, per)
    assert len(values) == count and len(blinders) == per * segments.chunks(count, per)
    every = np.concatenate([values, blinders])
    assert sorted(every.tolist()) == list(range(segments.width(count, per)))  # a layout
    column = segments.interleave([("v", k) for k in range(count)],
                                 [("b", k) for k in range(len(blinders))], per)
    assert [c for c in column if c[0] == "v"] == [("v", k) for k in range(count)]
    # any CHUNK consecutive cells hold `per` blinders, and the column ends with them
    marks = np.zeros(len(column), int)
    marks[blinders] = 1
    windows = np.convolve(marks, np.ones(segments.CHUNK, int), "valid")
    assert (windows >= per).all() if len(windows) else marks.sum() >= per
    assert marks[-per:].all()


def chain_of(values: list[int]) -> Chain:
    specs = [SegmentSpec(k, k + 1, Cut(k + 1, (f"t{k}",), ((1, n),)))
             for k, n in enumerate(values)]
    specs.append(SegmentSpec(len(values), len(values) + 1, None))
    chain = Chain(12, 12, 12, specs)
    chain.assign_blinders()
    return chain


def test_every_link_owns_its_blinders_and_carries_the_later_ones():
    chain = chain_of([16, 600, 3, 900])
    links = chain.segments[:-1]
    for i, spec in enumerate(links):
        assert spec.blinders == LINK_BLINDERS * segments.chunks(spec.cut.values + spec.tail,
                                                               LINK_BLINDERS)
        assert spec.tail == sum(s.blinders for s in links[i + 1:])
    assert chain.salt_values == sum(s.blinders for s in links)  # the salt column holds them all
    assert chain.segments[-1].link_width == 0


def test_blinders_travel_down_the_chain_to_the_link_that_owns_them():
    """Follow every blinder from the salt column through each link column, as the segments'
    Gathers and interleaving Gathers move them: link i's own cells hold exactly its share of
    the salt column's values, and what it carries is the later links' share, in order."""
    chain = chain_of([16, 600, 3, 900])
    owner = []  # the salt column's value k belongs to link owner[k]
    for i, spec in enumerate(chain.segments[:-1]):
        owner += [i] * spec.blinders
    source = list(range(chain.salt_values))  # salt values by index, as segment 0 reads them
    for i, spec in enumerate(chain.segments[:-1]):
        carried = source[:spec.blinders + spec.tail]  # the Gather of segment i's output
        cat = [("a", k) for k in range(spec.cut.values)] + [("s", k) for k in carried]
        order = segments._link_order(spec.cut.values, spec.tail, spec.blinders)
        assert sorted(order.tolist()) == list(range(len(order)))  # a permutation
        column = [cat[j] for j in order]
        values, own = segments.cells(spec.cut.values + spec.tail, LINK_BLINDERS)
        assert {owner[column[c][1]] for c in own} == {i}  # its own blinders, all of them
        assert [column[c] for c in values[:spec.cut.values]] == cat[:spec.cut.values]
        source = [column[c][1] for c in values[spec.cut.values:]]  # the next segment's Gather
        assert all(owner[k] > i for k in source)


def test_each_column_owns_as_many_blinders_as_it_has_equations():
    """A link column is in two proofs (commitment + 2 evaluations: 3 equations), the salt
    column in one (2): split into KZG columns of any length over a chunk, every column still
    owns that many blinders of its own, and no blinder is owned twice."""
    chain = chain_of([4000, 10, 2500])
    for usable in (300, 1000, 4000 - 64):
        for spec in chain.segments[:-1]:
            _, own = segments.cells(spec.cut.values + spec.tail, LINK_BLINDERS)
            columns = -(-spec.link_width // usable)
            owned = np.bincount(own // usable, minlength=columns)
            last = spec.link_width - (columns - 1) * usable
            assert (owned[:-1] >= LINK_BLINDERS).all()
            assert owned[-1] >= LINK_BLINDERS or last < LINK_BLINDERS
        _, own = segments.cells(chain.salt_values, SALT_BLINDERS)
        owned = np.bincount(own // usable)
        assert (owned[:-1] >= SALT_BLINDERS).all()


def test_link_blinders_come_from_the_salt_apart_from_the_inputs():
    from zkml.subjects import blinders

    assert segments.link_blinders(7, 4) == segments.link_blinders(7, 4)
    assert segments.link_blinders(7, 4) != segments.link_blinders(8, 4)
    assert not set(segments.link_blinders(7, 64)) & set(blinders(7, 64))


def test_the_zoos_chain_mlp_is_the_one_the_tests_write(tmp_path):
    """The regression zoo's committed chain_mlp is segment_models' model, byte for byte (the
    segment tests build the zoo's file, and forge's fixtures write it afresh)."""
    import segment_models

    written = segment_models.write(tmp_path)
    committed = Path(__file__).resolve().parents[2] / "regression" / "models"
    for name in ("chain_mlp.onnx", "chain_mlp.samples.json"):
        assert (written.parent / name).read_bytes() == (committed / name).read_bytes()
