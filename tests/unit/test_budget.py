"""The error budget's arithmetic, without ezkl: spread, budget, margin, decision flips."""

import numpy as np
import pytest

from zkml.circuit import CircuitOptions
from zkml.errors import CircuitError
from zkml.fidelity import FidelityReport, compare, spread


def test_the_budget_is_a_share_of_the_spread_unless_absolute():
    reference = np.linspace(-50, 50, 101).reshape(-1, 1)
    circuit = reference + 0.3
    pct = compare(circuit, reference, CircuitOptions())
    assert pct.spread == pytest.approx(98.0) and pct.budget == pytest.approx(0.49)
    assert pct.error_pct == pytest.approx(0.3 / 98 * 100) and pct.within_budget
    assert pct.margin == pytest.approx(0.19)
    absolute = compare(circuit, reference, CircuitOptions(max_error=0.1))
    assert absolute.budget == 0.1 and not absolute.within_budget
    assert absolute.margin == pytest.approx(-0.2) and absolute.agreement == 0.0


def test_an_output_in_a_small_range_gets_a_small_budget():
    """What a fixed 0.05 tolerance would have let through is 5x over this output's budget."""
    reference = np.linspace(0, 0.01, 50).reshape(-1, 1)
    figures = compare(reference + 0.05, reference, CircuitOptions())
    assert figures.budget < 1e-4 and not figures.within_budget


def test_decision_flips_are_counted_both_ways():
    reference = np.array([[0.2], [0.49], [0.51], [0.9]])
    circuit = np.array([[0.2], [0.52], [0.48], [0.9]])
    figures = compare(circuit, reference, CircuitOptions(max_error=1, decision_threshold=0.5))
    assert figures.decision_flips == 2 and not figures.within_budget
    assert "2 decision flip(s) at threshold 0.5" in figures.describe()
    assert compare(circuit, reference, CircuitOptions(max_error=1)).decision_flips is None


def test_a_classifier_agrees_by_argmax_and_is_judged_by_the_worst_output():
    reference = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
    circuit = reference + [[0.0, 0.0], [0.0, 0.0], [-1.6, 1.6]]
    figures = compare(circuit, reference, CircuitOptions(max_error=2))
    assert figures.agreement_kind == "argmax" and figures.agreement == pytest.approx(2 / 3)
    report = FidelityReport(3, 10, 100, 8, [8], 1.0, [figures])
    assert "argmax agrees with the float model on 66.7%" in report.problem()
    assert FidelityReport(3, 10, 100, 8, [8], 0.5, [figures]).problem() is None


def test_a_constant_output_has_a_spread_all_the_same():
    assert spread(np.full((10, 1), 3.0)) == 3.0 and spread(np.zeros((10, 1))) == 1.0


@pytest.mark.parametrize("options", [dict(max_error=-1), dict(max_error_pct=0),
                                     dict(min_agreement=1.5), dict(lookup_margin=0.5)])
def test_meaningless_budgets_are_refused(options):
    with pytest.raises(CircuitError):
        CircuitOptions(**options)
