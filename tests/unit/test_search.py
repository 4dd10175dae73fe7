"""The search's arithmetic, without ezkl: the bits values need, each setting's estimated area
(range-check base, lookup margin, columns and tables) and the order settings are built in."""

from pathlib import Path

from zkml import optimize
from zkml.circuit import CircuitOptions
from zkml.optimize import Candidate, Facts


def facts(lookups: bool = False, span: float | None = None) -> Facts:
    """A two-layer model: its input at the scale, its hidden tensor (|x| <= 30) at 1x the scale
    when rescaled every layer, 2x when left at twice the scale; 20,000 cells at one column and
    1,000 more per leg."""
    return Facts(graph=Path("unused.onnx"), extremes=[0], magnitudes={"x": 3.0, "h": 30.0},
                 multiples={1: {"x": 1.0, "h": 1.0}, 2: {"x": 1.0, "h": 2.0}},
                 cells={1: (20_000.0, 1_000.0), 2: (18_000.0, 1_000.0)}, lookups=lookups,
                 tables=3 if lookups else 2, floor=optimize.MIN_LOGROWS, features=10,
                 kzg=False, span=span)


def estimated(scale: int, rebase: int = 1, legs: int = 2, cols: int = 1, narrow: bool = False,
              known: Facts | None = None, given: CircuitOptions | None = None
              ) -> Candidate | None:
    candidate = Candidate(CircuitOptions(calibration_scales=(scale,),
                                         scale_rebase_multiplier=(rebase,), decomp_legs=legs,
                                         num_inner_cols=cols), narrow)
    ok = optimize._estimate(candidate, known or facts(), given or CircuitOptions())
    return candidate if ok else None


def test_values_need_their_scale_their_magnitude_a_sign_and_headroom():
    known = facts()
    # 30 at scale 10: 2^(10 + log2 30) < 2^15, a sign bit and 2 bits of headroom
    assert known.bits(10, 1) == 15 + 1 + optimize.HEADROOM_BITS
    assert known.bits(10, 2) == known.bits(10, 1) + 10  # the hidden tensor lives at 2x
    known.extra_bits[1] = 3  # what an overflow taught
    assert known.bits(10, 1) == 21


def test_a_settings_area_counts_columns_and_tables_and_the_base_grows_for_free():
    one = estimated(10, legs=2)
    assert one is not None
    assert one.estimated_logrows == 15  # 22,000 cells at one column
    assert one.estimated_area == (1 + 2) * 2**15
    # 18 bits in 2 legs need a 2^9 table, but 2^14 rows fit the logrows: the larger base
    assert one.options.decomp_base == 2**14 and one.options.decomp_legs == 2
    three = estimated(10, legs=2, cols=3)
    assert three is not None and three.estimated_logrows == 13
    assert three.estimated_area == (3 + 2) * 2**13 < one.estimated_area
    # one leg must hold all 18 bits: a 2^18-row table sets logrows 19
    assert estimated(10, legs=1).estimated_logrows == 19  # type: ignore[union-attr]


def test_a_narrowed_margin_fits_a_finer_scale_into_the_same_logrows():
    known = facts(lookups=True, span=1000.0)  # the tables' span at scale 8, no margin
    known.cells = {1: (1_000.0, 100.0)}  # a small model: the table sets logrows
    usual = estimated(12, legs=3, known=known)
    narrowed = estimated(12, legs=3, narrow=True, known=known)
    assert usual is not None and narrowed is not None
    assert usual.estimated_logrows == 15  # 2 x 16,000 at ezkl's margin
    assert narrowed.estimated_logrows == 14  # 16,000 fit 2^14 with a margin just over 1
    assert 1 <= narrowed.options.lookup_margin < 1.01  # type: ignore[operator]
    assert narrowed.estimated_area == (1 + 3) * 2**14
    # where ezkl's margin fits as well there is nothing to narrow
    assert estimated(6, legs=3, narrow=True, known=known) is None


def test_a_decomposition_that_cannot_hold_the_values_is_no_setting():
    assert estimated(12, legs=1) is not None  # 20 bits: one leg of a 2^20 table
    assert estimated(13, legs=1) is None  # 21 bits: no table that large
    given = estimated(13, legs=1, given=CircuitOptions(decomp_base=2**16, decomp_legs=1))
    assert given is not None and given.options.decomp_base == 2**16  # calibration judges it


def test_the_search_builds_less_area_first_then_the_finer_scale():
    big = facts()
    big.cells = {1: (200_000.0, 10_000.0), 2: (180_000.0, 10_000.0)}
    one, three = estimated(12, cols=1, known=big), estimated(12, cols=3, known=big)
    coarser = estimated(11, cols=3, known=big)
    assert one is not None and three is not None and coarser is not None
    assert three.estimated_area == coarser.estimated_area < one.estimated_area
    assert sorted([one, coarser, three], key=optimize._order) == [three, coarser, one]


def test_below_the_floor_fewer_columns_come_first():
    small = facts()
    small.cells = {1: (2_000.0, 100.0), 2: (1_800.0, 100.0)}
    one = estimated(12, legs=3, cols=1, known=small)
    two = estimated(12, legs=3, cols=2, known=small)
    assert one is not None and two is not None
    assert two.estimated_area < one.estimated_area <= optimize.AREA_FLOOR
    assert sorted([two, one], key=optimize._order) == [one, two]
