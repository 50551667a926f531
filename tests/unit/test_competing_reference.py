"""Cumulative incidence, Gray's test and Fine-Gray against R cmprsk 2.2-11.

Reference values: ``tests/reference/competing/make_reference.R`` (run ``Rscript make_reference.R``
in that folder); outputs ``cuminc.csv``, ``gray.csv``, ``crr.csv``. Data: the IBM Telco release
(cause = churn category) and ``tests/reference/cox/small.csv`` (causes 1 and 2, tied whole-month
tenures, groups a/b/c, two strata).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.survival import cumulative_incidence, fine_gray, gray_test

ROOT = Path(__file__).resolve().parents[1] / "reference"
pytestmark = pytest.mark.r_reference

REF = ROOT / "competing"
CUMINC = pd.read_csv(REF / "cuminc.csv")
GRAY = pd.read_csv(REF / "gray.csv")
CRR = pd.read_csv(REF / "crr.csv")
SMALL_KW = {"duration_col": "time", "event_col": "status", "cause_col": "cause_label"}
TELCO_KW = {
    "duration_col": "tenure_in_months",
    "event_col": "churn_value",
    "cause_col": "churn_category",
}
TELCO_COV = ["contract", "monthly_charge", "number_of_referrals"]


@pytest.fixture(scope="module")
def frames(telco):
    small = pd.read_csv(ROOT / "cox" / "small.csv")
    small["cause_label"] = small["cause"].astype(str)
    return {"small": small, "telco": telco.frame}


def _kw(which):
    return SMALL_KW if which == "small" else TELCO_KW


# case -> (data, group_col); R: cuminc(time, cause, group, cencode = ...)
CIF_CASES = {
    "small_overall": ("small", None),
    "small_grp": ("small", "grp"),
    "telco_contract": ("telco", "contract"),
    "telco_paperless": ("telco", "paperless_billing"),
}


@pytest.mark.parametrize("case", list(CIF_CASES))
def test_cumulative_incidence_matches_cuminc(frames, case):
    """Estimate and Gray's variance at every jump of every (group, cause) curve, to 1e-9 relative."""
    which, group_col = CIF_CASES[case]
    res = cumulative_incidence(frames[which], **_kw(which), group_col=group_col)
    ref = CUMINC[CUMINC["case"] == case].copy()
    ref[["group", "cause"]] = ref["curve"].str.rsplit(" ", n=1, expand=True)
    n_checked = 0
    for (group, cause), r in ref.groupby(["group", "cause"]):
        r = r.groupby("time", as_index=False).last()
        r = r[
            r["est"].diff().fillna(r["est"]) > 0
        ]  # the jumps (R adds corners and the last follow-up)
        ours = res.curves[
            (res.curves["cause"] == cause)
            & (res.curves["group"] == (group if group_col else "all"))
        ]
        ours = ours[ours["time"] > 0]
        np.testing.assert_allclose(ours["time"], r["time"])
        np.testing.assert_allclose(ours["estimate"], r["est"], rtol=1e-9)
        np.testing.assert_allclose(ours["se"] ** 2, r["var"], rtol=1e-9, atol=1e-15)
        n_checked += 1
    assert n_checked == res.curves.groupby(["cause", "group"]).ngroups


# case -> (data, group_col, strata); R: cuminc(...)$Tests
GRAY_CASES = {
    "small_grp": ("small", "grp", None),
    "small_grp_strata": ("small", "grp", "stratum"),
    "telco_contract": ("telco", "contract", None),
    "telco_paperless": ("telco", "paperless_billing", None),
}


@pytest.mark.parametrize("case", list(GRAY_CASES))
def test_gray_test_matches_cuminc_tests(frames, case):
    which, group_col, strata = GRAY_CASES[case]
    res = gray_test(frames[which], **_kw(which), group_col=group_col, strata=strata)
    ref = GRAY[GRAY["case"] == case]
    assert list(res.summary["cause"]) == [str(c) for c in ref["cause"]]
    np.testing.assert_allclose(res.summary["statistic"], ref["stat"], rtol=1e-9)
    np.testing.assert_array_equal(res.summary["df"], ref["df"])
    np.testing.assert_allclose(res.summary["p_value"], ref["pv"], rtol=1e-6, atol=1e-12)


# case -> (data, cause, covariates); R: crr(time, cause, cov1 = dummies, failcode = cause)
CRR_CASES = {
    "small_cause1": ("small", "1", ["x1", "x2", "grp"]),
    "small_cause2": ("small", "2", ["x1", "x2", "grp"]),
    "telco_competitor": ("telco", "Competitor", TELCO_COV),
    "telco_price": ("telco", "Price", TELCO_COV),
}


@pytest.mark.parametrize("case", list(CRR_CASES))
def test_fine_gray_matches_crr(frames, case):
    """Coefficients and sandwich SEs to 1e-4 relative (R stops at gtol = 1e-6; we converge further)."""
    which, cause, cov = CRR_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fine_gray(frames[which], **_kw(which), cause=cause, covariates=cov)
    ref = CRR[CRR["case"] == case]
    assert res.meta["converged"]
    np.testing.assert_allclose(res.summary["estimate"], ref["estimate"], rtol=1e-4)
    np.testing.assert_allclose(res.summary["se"], ref["se"], rtol=1e-4)
    assert (res.summary["cause"] == cause).all()
