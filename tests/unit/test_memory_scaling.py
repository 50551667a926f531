"""No model allocates an n x p x p array (issue 16, item 5).

Each model that takes a covariate matrix is run on n = 20,000 customers and p = 30 covariates under
``tracemalloc``. An n x p x p float array would be 20,000 * 900 * 8 bytes = 137 MB; the data
themselves (n x p) are 4.6 MB. The bound, 16 n x p arrays (73 MB), leaves room for the O(n p)
working copies the fits need (``fit_cox`` + ``ph_test`` peaks at about 12: the frame, the design,
its sorted copy, residuals) and fails for any n x p x p intermediate. Timings are measured in
``benchmarks/`` (peak RSS of every case there), not here.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

N, P = 20_000, 30
NP_BYTES = N * P * 8
BOUND = 16 * NP_BYTES


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(16)
    X = rng.normal(size=(N, P))
    lp = X[:, :5] @ np.array([0.3, -0.2, 0.1, 0.2, -0.1])
    t = np.ceil(rng.exponential(30 * np.exp(-lp)))
    c = np.ceil(rng.uniform(1, 60, N))
    e = (t <= c).astype(float)
    t = np.minimum(t, c)
    cause = np.where(e > 0, rng.integers(1, 3, N), 0)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
    frame["tenure"], frame["churned"] = t, e
    frame["cause"] = pd.Series(cause).where(e > 0).map({1: "price", 2: "service"})
    frame["stratum"] = rng.integers(0, 4, N)
    return X, t, e, frame


def _peak(fn) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def _cases(X, t, e, frame):
    from workbench.drivers.models import fit_cox as drivers_cox
    from workbench.drivers.models import fit_logistic
    from workbench.effects.outcome import fit_outcome
    from workbench.survival import fine_gray, fit_cox
    from workbench.survival.engine import cox_fit

    covs = [f"x{j}" for j in range(P)]
    X1 = np.column_stack([np.ones(N), X])
    return {
        "cox_fit efron": lambda: cox_fit(X, t, e, ties="efron"),
        "cox_fit breslow, strata, robust": lambda: cox_fit(
            X, t, e, ties="breslow", strata=frame["stratum"].to_numpy(), robust=True
        ),
        "fit_cox + ph_test": lambda: fit_cox(
            frame, duration_col="tenure", event_col="churned", covariates=covs
        ).ph_test(),
        "fine_gray": lambda: fine_gray(
            frame,
            duration_col="tenure",
            event_col="churned",
            cause_col="cause",
            cause="price",
            covariates=covs,
        ),
        "drivers fit_logistic": lambda: fit_logistic(X1, e),
        "drivers fit_cox": lambda: drivers_cox(X, t, e),
        "effects fit_outcome": lambda: fit_outcome(t, e, X),
    }


CASES = [
    "cox_fit efron",
    "cox_fit breslow, strata, robust",
    "fit_cox + ph_test",
    "fine_gray",
    "drivers fit_logistic",
    "drivers fit_cox",
    "effects fit_outcome",
]


@pytest.mark.parametrize("case", CASES)
def test_no_n_by_p_by_p_allocation(case, data):
    X, t, e, frame = data
    peak = _peak(_cases(X, t, e, frame)[case])
    assert peak < BOUND, (
        f"{case}: peak traced memory {peak / 2**20:.0f} MB for n={N:,}, p={P} is over "
        f"{BOUND / 2**20:.0f} MB (16 n x p arrays); an n x p x p array would be "
        f"{N * P * P * 8 / 2**20:.0f} MB"
    )


def test_the_bound_catches_an_n_by_p_by_p_array(data):
    """The measurement itself: an n x p x p intermediate is over the bound."""
    X = data[0]
    assert _peak(lambda: np.einsum("ij,ik->ijk", X, X).sum(axis=0)) > BOUND
