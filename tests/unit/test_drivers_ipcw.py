"""The drivers' IPCW weights use the survival kernels' censoring KM (one home for G)."""

import numpy as np

from workbench.drivers.outcomes import censoring_survival, horizon_outcome


def test_censoring_survival_left_limit_by_hand():
    # censorings at 2 (one of 3 at risk of censoring after the churn at 2 is taken first) and 4
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    e = np.array([1, 1, 0, 1, 0, 1])
    g = censoring_survival(t, e)
    # at risk of censoring at 2: customers with t >= 2 minus the churn at 2 -> 4; G(2) = 3/4
    # at 4: at risk 2 -> G(4) = 3/4 * 1/2
    assert np.allclose(g([0.5, 2.0, 2.5, 4.0, 4.5, 6.0]), [1, 1, 0.75, 0.75, 0.375, 0.375])


def test_censoring_survival_without_censoring_is_one():
    t = np.array([1.0, 2.0, 3.0])
    assert np.all(censoring_survival(t, np.ones(3, int))(np.array([0.0, 2.0, 9.0])) == 1.0)
    w = horizon_outcome(t, np.ones(3, int), 2.0, "ipcw")["weight"]
    assert np.allclose(w, 1.0)
