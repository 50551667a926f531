"""The simulator knows its truth: fits recover it and intervals cover it.

Calibration of ``test_interval_coverage_small``: with 20 replications and a true coverage of 95%,
a parameter covers in 14 or fewer with probability below 0.0003 (binomial), so the test fails only
if intervals are materially too narrow or estimates biased. The 200-replication study (target
90-98% per parameter) is benchmarks/purchases_coverage.py, with its table in
docs/purchases-coverage.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench.exceptions import ParameterError
from workbench.purchases.bgnbd import BGNBD, fit_bgnbd
from workbench.purchases.paretonbd import fit_paretonbd
from workbench.purchases.simulate import coverage_study, simulate_bgnbd, simulate_paretonbd
from workbench.purchases.validation import tracking


def test_bgnbd_recovered_on_a_large_simulation():
    s = simulate_bgnbd(30_000, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=5)
    f = fit_bgnbd(s).summary.set_index("term")
    for k, v in {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}.items():
        assert abs(f.loc[k, "estimate"] - v) < 3.5 * f.loc[k, "se"], k


def test_simulated_holdout_matches_the_model():
    """The expected cumulative repeat purchases track the simulated ones (same truth)."""
    s = simulate_bgnbd(8000, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=6)
    f = fit_bgnbd(s)
    t = tracking(f, s).summary.set_index("term")["estimate"]
    assert abs(t["holdout total error (%)"]) < 8
    x, tx, T = s.arrays()
    expected = BGNBD.conditional_expected_purchases(f.theta, 39.0, x, tx, T).sum()
    assert expected == pytest.approx(s.customers["frequency_holdout"].sum(), rel=0.08)


def test_paretonbd_recovered():
    s = simulate_paretonbd(4000, r=0.55, alpha=10.5, s=0.6, beta=11.7, seed=2)
    f = fit_paretonbd(s).summary.set_index("term")
    for k, v in {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7}.items():
        assert f.loc[k, "ci_lower"] < v < f.loc[k, "ci_upper"], k


def test_interval_coverage_small():
    tab = coverage_study(20, 1500, seed=100).set_index("term")
    assert (tab["n_reps"] == 20).all()
    assert (tab["coverage"] >= 0.75).all(), tab["coverage"].to_dict()
    # standard errors agree with the spread of the estimates (within a factor of 1.6 at 20 reps)
    ratio = tab["mean_se"] / tab["sd_estimate"]
    assert ((ratio > 1 / 1.6) & (ratio < 1.6)).all(), ratio.to_dict()


def test_simulator_bad_input():
    with pytest.raises(ParameterError, match="n_customers"):
        simulate_bgnbd(0, r=1, alpha=1, a=1, b=1)
    with pytest.raises(ParameterError, match="`b` must be a positive number"):
        simulate_bgnbd(10, r=1, alpha=1, a=1, b=-1)
    with pytest.raises(ParameterError, match="cohort_length"):
        simulate_bgnbd(10, r=1, alpha=1, a=1, b=1, cohort_length=40)
    s = simulate_bgnbd(500, r=0.3, alpha=3, a=1, b=2, seed=1)
    c = s.customers
    assert np.all(c["recency"] <= c["T"]) and np.all((c["frequency"] > 0) | (c["recency"] == 0))
    assert (c["repeat_first_half"] + c["repeat_second_half"] == c["frequency"]).all()
