"""Every public survival function refuses bad tenure and churn columns with the column named.

One parametrised test over all of them (issue 11): tenure as text, missing, infinite or negative,
and churn coded 1/2 (R's ``Surv(time, status)`` convention, which gets a hint) are refused by
the shared resolver (``workbench.columns``) with the argument and the column named; nothing is
dropped silently and no numbers come back.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataValidationError
from workbench.survival import (
    cause_specific_cox,
    cohort_survival,
    cumulative_incidence,
    fine_gray,
    fit_cox,
    fit_parametric,
    gray_test,
    kaplan_meier,
    logrank_test,
    nelson_aalen,
    pairwise_logrank,
    rmst,
    smoothed_hazard,
    stage_hazard,
    trend_test,
)

KW = {"duration_col": "tenure", "event_col": "churned"}
CALLS = {
    "kaplan_meier": lambda d: kaplan_meier(d, **KW, group_col="g"),
    "rmst": lambda d: rmst(d, **KW, tau=10),
    "logrank_test": lambda d: logrank_test(d, **KW, group_col="g"),
    "pairwise_logrank": lambda d: pairwise_logrank(d, **KW, group_col="g"),
    "trend_test": lambda d: trend_test(d, **KW, group_col="g"),
    "nelson_aalen": lambda d: nelson_aalen(d, **KW),
    "smoothed_hazard": lambda d: smoothed_hazard(d, **KW),
    "stage_hazard": lambda d: stage_hazard(d, **KW),
    "cohort_survival": lambda d: cohort_survival(d, **KW, start_col="start"),
    "fit_parametric": lambda d: fit_parametric(d, **KW, models=["weibull"]),
    "fit_cox": lambda d: fit_cox(d, **KW, covariates=["x"]),
    "cause_specific_cox": lambda d: cause_specific_cox(
        d, **KW, cause="price", cause_col="cause", covariates=["x"]
    ),
    "cumulative_incidence": lambda d: cumulative_incidence(d, **KW, cause_col="cause"),
    "gray_test": lambda d: gray_test(d, **KW, cause_col="cause", group_col="g"),
    "fine_gray": lambda d: fine_gray(d, **KW, cause_col="cause", cause="price", covariates=["x"]),
}


def _frame(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    churned = (rng.random(n) < 0.6).astype(int)
    return pd.DataFrame(
        {
            "tenure": rng.integers(1, 30, n).astype(float),
            "churned": churned,
            "g": np.where(rng.random(n) < 0.5, "a", "b"),
            "x": rng.normal(size=n),
            "cause": np.where(
                churned == 1, np.where(rng.random(n) < 0.5, "price", "service"), None
            ),
            "start": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
        }
    )


def _text(d):
    d["tenure"] = d["tenure"].map(lambda v: f"{v:g} months").astype(object)
    return d


def _missing(d):
    d.loc[[3, 7], "tenure"] = np.nan
    return d


def _infinite(d):
    d.loc[5, "tenure"] = np.inf
    return d


def _negative(d):
    d.loc[2, "tenure"] = -4.0
    return d


def _one_two(d):
    d["churned"] = d["churned"] + 1
    return d


BAD = {
    "text tenure": (_text, r"`duration_col` column 'tenure'.*(text|numeric|number)"),
    "missing tenure": (_missing, r"`duration_col` column 'tenure'.*(missing|no tenure)"),
    "infinite tenure": (_infinite, r"`duration_col` column 'tenure'.*(infinite|finite)"),
    "negative tenure": (_negative, r"`duration_col` column 'tenure'.*negative"),
    "1/2-coded churn": (_one_two, r"`event_col` column 'churned'.*R's Surv\(time, status\)"),
}


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("func", list(CALLS))
def test_bad_columns_are_refused_with_the_column_named(func, bad):
    make, pattern = BAD[bad]
    data = make(_frame())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # caveats of the analysis are not the point here
        with pytest.raises(DataValidationError, match=pattern):
            CALLS[func](data)


@pytest.mark.parametrize("func", list(CALLS))
def test_the_good_frame_runs(func):
    """The same calls on the clean frame succeed, so each refusal above is about the bad value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CALLS[func](_frame())
