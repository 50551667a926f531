"""Cox model and cox.zph against R survival 3.5.3.

Reference values: ``tests/reference/cox/make_reference.R`` (run ``Rscript make_reference.R`` in that
folder); outputs ``coef.csv``, ``zph.csv``, ``predict.csv``. Data: the IBM Telco release and
``tests/reference/cox/small.csv`` (400 customers, whole-month tenures with many ties, two strata,
non-integer case weights, 80 clusters).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.survival.cox import fit_cox

pytestmark = pytest.mark.r_reference

REF = Path(__file__).resolve().parents[1] / "reference" / "cox"
COEF = pd.read_csv(REF / "coef.csv")
ZPH = pd.read_csv(REF / "zph.csv")
TELCO_COV = ["contract", "monthly_charge", "number_of_referrals"]
SMALL_COV = ["x1", "x2", "grp"]
TELCO_KW = {"duration_col": "tenure_in_months", "event_col": "churn_value", "covariates": TELCO_COV}
SMALL_KW = {"duration_col": "time", "event_col": "status", "covariates": SMALL_COV}

# case -> (data set, fit_cox arguments); the R call of each case is in make_reference.R
CASES = {
    # coxph(Surv(tenure, churn) ~ contract + monthly_charge + number_of_referrals, ties="efron")
    "telco_efron": ("telco", {}),
    "telco_breslow": ("telco", {"ties": "breslow"}),
    # ... + strata(paperless_billing)
    "telco_strata": ("telco", {"strata": "paperless_billing"}),
    # coxph(..., cluster = age): robust SE
    "telco_cluster": ("telco", {"cluster_col": "age"}),
    # coxph(..., weights = 0.5 + (age %% 4) / 2): non-integer weights -> R's robust SE
    "telco_weights": ("telco", {"weights_col": "w"}),
    # coxph(Surv(time, status) ~ x1 + x2 + grp, data = small)
    "small_efron": ("small", {}),
    "small_breslow": ("small", {"ties": "breslow"}),
    "small_strata_weights": ("small", {"strata": "stratum", "weights_col": "w"}),
    "small_strata_weights_breslow": (
        "small",
        {"strata": "stratum", "weights_col": "w", "ties": "breslow"},
    ),
    "small_cluster_weights": ("small", {"weights_col": "w", "cluster_col": "cluster"}),
    "small_cluster_strata_breslow": (
        "small",
        {"strata": "stratum", "cluster_col": "cluster", "ties": "breslow"},
    ),
}


@pytest.fixture(scope="module")
def frames(telco):
    tel = telco.frame.copy()
    tel["w"] = 0.5 + (tel["age"] % 4) / 2
    small = pd.read_csv(REF / "small.csv")
    return {"telco": tel, "small": small}


def _fit(frames, case):
    which, kw = CASES[case]
    base = TELCO_KW if which == "telco" else SMALL_KW
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_cox(frames[which], **base, **kw)


@pytest.mark.parametrize("case", list(CASES))
def test_coefficients_and_se_match_r(frames, case):
    """Log hazard ratios and (robust where R uses them) SEs to 1e-6 relative; loglik, concordance."""
    res = _fit(frames, case)
    ref = COEF[COEF["case"] == case]
    assert len(res.summary) == len(ref)
    np.testing.assert_allclose(res.summary["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(res.summary["se"], ref["se"], rtol=1e-6)
    assert res.meta["loglik"] == pytest.approx(ref["loglik"].iloc[0], rel=1e-9)
    assert res.meta["concordance"] == pytest.approx(ref["concordance"].iloc[0], rel=1e-9)


@pytest.mark.parametrize("case", list(CASES))
def test_cox_zph_matches_r(frames, case):
    """cox.zph(fit) (transform='km', terms=TRUE): chisq, df and p per term and GLOBAL."""
    res = _fit(frames, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph = res.ph_test()
    ref = ZPH[ZPH["case"] == case]
    assert list(ph.summary["term"]) == [t if t == "GLOBAL" else t for t in ref["term"]]
    np.testing.assert_allclose(ph.summary["statistic"], ref["chisq"], rtol=1e-6)
    np.testing.assert_array_equal(ph.summary["df"], ref["df"])
    np.testing.assert_allclose(ph.summary["p_value"], ref["p"], rtol=1e-5, atol=1e-300)


def test_predict_survival_matches_survfit(frames):
    """summary(survfit(coxph(...), newdata = 3 profiles), times = c(6, 12, 24))$surv."""
    res = _fit(frames, "telco_efron")
    levels = ["Month-to-Month", "One Year", "Two Year"]
    new = pd.DataFrame(
        {
            "contract": pd.Categorical(levels, categories=levels),
            "monthly_charge": [20.0, 70.0, 110.0],
            "number_of_referrals": [0, 2, 5],
        }
    )
    pred = res.predict_survival(new, [6, 12, 24], chunk_size=2)
    ref = pd.read_csv(REF / "predict.csv")
    np.testing.assert_allclose(pred.to_numpy().ravel(), ref["survival"].to_numpy(), rtol=1e-8)
