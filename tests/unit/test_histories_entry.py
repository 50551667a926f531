"""Delayed entry against R ``survival`` 3.5 (values from tests/reference/histories/make_reference.R).

Telco is a one-quarter snapshot, so every customer is observed from ``max(0, tenure - 3)`` months on
(left truncation). Each R call is next to the comparison; tolerance 1e-8 absolute (the estimates
agree to about 1e-15 in practice).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import (
    EntryAfterExitError,
    LateEntryWarning,
    MethodNotAvailableError,
    ParameterError,
)
from workbench.survival import (
    cumulative_incidence,
    fine_gray,
    fit_cox,
    kaplan_meier,
    logrank_test,
    rmst,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "histories"
TOL = 1e-8


@pytest.fixture(scope="module")
def tel(telco) -> pd.DataFrame:
    f = telco.frame
    return pd.DataFrame(
        {
            "id": f["customer_id"].to_numpy(),
            "tenure": f["tenure_in_months"].astype(float),
            "entry": np.maximum(0.0, f["tenure_in_months"].astype(float) - 3),
            "churn": f["churn_value"].astype(int),
            "contract": f["contract"].astype(str),
            "sat": f["satisfaction_score"].astype(float),
            "charge": f["monthly_charge"].astype(float),
            "cause": f["churn_category"].astype(str),
        }
    )


def test_km_with_entry_matches_survfit(tel):
    """survfit(Surv(entry, tenure, churn) ~ 1): survival, SE of -log S, log CI, n at risk."""
    ref = pd.read_csv(REF / "telco_km_entry.csv")
    km = kaplan_meier(tel, duration_col="tenure", event_col="churn", entry_col="entry")
    c = km.curves
    assert np.array_equal(c["time"].to_numpy(), ref["time"].to_numpy())
    np.testing.assert_array_equal(c["at_risk"].to_numpy(), ref["n_risk"].to_numpy())
    np.testing.assert_allclose(c["survival"], ref["surv"], atol=TOL)
    np.testing.assert_allclose(c["se"] / c["survival"], ref["se_log"], atol=TOL)
    np.testing.assert_allclose(c["ci_lower"], ref["lower"], atol=TOL)
    np.testing.assert_allclose(c["ci_upper"], ref["upper"], atol=TOL)
    # the naive curve (everyone from 0) is far above: at 1 month 0.946 vs 0.638 with entry
    naive = kaplan_meier(tel, duration_col="tenure", event_col="churn")
    assert naive.curves["survival"].iloc[0] - c["survival"].iloc[0] > 0.25


def test_km_with_entry_by_group_matches_survfit(tel):
    """summary(survfit(Surv(entry, tenure, churn) ~ contract), censored = TRUE)."""
    ref = pd.read_csv(REF / "telco_km_entry_contract.csv")
    km = kaplan_meier(
        tel, duration_col="tenure", event_col="churn", entry_col="entry", group_col="contract"
    )
    m = ref.merge(km.curves, on=["group", "time"], how="left")
    assert len(m) == len(ref) and m["survival"].notna().all()
    np.testing.assert_array_equal(m["at_risk"], m["n_risk"])
    np.testing.assert_allclose(m["survival"], m["surv"], atol=TOL)
    np.testing.assert_allclose(m["se"], m["se_surv"], atol=TOL)
    np.testing.assert_allclose(m["ci_lower"], m["lower"], atol=TOL)
    np.testing.assert_allclose(m["ci_upper"], m["upper"], atol=TOL)


def test_logrank_with_entry_untied_equals_cox_score_test():
    """coxph(Surv(entry, time, churn) ~ group, ties = 'breslow')$score (no tied times)."""
    data = pd.read_csv(REF / "logrank_entry_data.csv")
    ref = pd.read_csv(REF / "logrank_entry_untied.csv").iloc[0]
    lr = logrank_test(
        data, duration_col="time", event_col="churn", group_col="group", entry_col="entry"
    )
    assert lr.statistic == pytest.approx(ref["statistic"], abs=TOL)
    assert lr.p_value == pytest.approx(ref["p_value"], abs=TOL)
    assert "delayed entry" in lr.meta["method"]


def test_logrank_with_entry_on_telco_matches_r_formula(tel):
    """Tied months: survdiff's hypergeometric variance with risk sets entry < t <= tenure (R code
    in make_reference.R, which also checks it equals survdiff without entry)."""
    ref = pd.read_csv(REF / "telco_logrank_entry.csv").iloc[0]
    lr = logrank_test(
        tel, duration_col="tenure", event_col="churn", group_col="contract", entry_col="entry"
    )
    assert lr.statistic == pytest.approx(ref["statistic"], rel=1e-10)
    assert lr.df == 2


def test_cox_with_entry_matches_coxph(tel):
    """coxph(Surv(entry, tenure, churn) ~ sat + charge, robust = TRUE, id = id)."""
    ref = pd.read_csv(REF / "telco_cox_entry.csv")
    res = fit_cox(
        tel,
        duration_col="tenure",
        event_col="churn",
        entry_col="entry",
        id_col="id",
        covariates=["sat", "charge"],
    )
    np.testing.assert_allclose(res.summary["estimate"], ref["coef"], atol=TOL)
    np.testing.assert_allclose(res.summary["se"], ref["robust_se"], atol=TOL)
    np.testing.assert_allclose(res.meta["naive_se"], ref["se"], atol=TOL)
    with pytest.raises(ParameterError, match="ph_test is not available"):
        res.ph_test()


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_counting_process_cox_heart(ties):
    """jasa1 / heart: coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
    cluster = id, ties = ties): coefficients, naive SE, robust SE and log-likelihood."""
    heart = pd.read_csv(REF / "heart.csv")
    ref = pd.read_csv(REF / f"heart_cox_{ties}.csv")
    res = fit_cox(
        heart,
        start_col="start",
        stop_col="stop",
        event_col="event",
        id_col="id",
        ties=ties,
        covariates=["age", "year", "surgery", "transplant"],
    )
    np.testing.assert_allclose(res.summary["estimate"], ref["coef"], atol=TOL)
    np.testing.assert_allclose(res.summary["se"], ref["robust_se"], atol=TOL)
    np.testing.assert_allclose(res.meta["naive_se"], ref["se"], atol=TOL)
    assert res.meta["loglik"] == pytest.approx(ref["loglik"].iloc[0], abs=1e-8)
    assert res.meta["n"] == heart["id"].nunique() and res.meta["rows"] == len(heart)


def test_rmst_with_entry_matches_survfit_rmean(tel):
    """print(survfit(Surv(entry, tenure, churn) ~ 1), rmean = 36)."""
    ref = pd.read_csv(REF / "telco_rmst_entry.csv").iloc[0]
    r = rmst(tel, duration_col="tenure", event_col="churn", entry_col="entry", tau=36)
    assert r.summary["estimate"].iloc[0] == pytest.approx(ref["rmst"], abs=TOL)
    assert r.summary["se"].iloc[0] == pytest.approx(ref["se"], abs=TOL)


def test_cumulative_incidence_with_entry_matches_survfit(tel):
    """survfit(Surv(entry, tenure, cause) ~ 1, id = id): Aalen-Johansen with IJ standard errors."""
    ref = pd.read_csv(REF / "telco_cif_entry.csv")
    cif = cumulative_incidence(
        tel, duration_col="tenure", event_col="churn", cause_col="cause", entry_col="entry"
    )
    got = cif.at(np.unique(ref["time"]))
    m = ref.merge(got, on=["cause", "time"], suffixes=("_r", ""))
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], atol=TOL)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=TOL)


def test_fine_gray_refuses_entry_by_name(tel):
    with pytest.raises(MethodNotAvailableError, match="cmprsk::crr"):
        fine_gray(
            tel,
            duration_col="tenure",
            event_col="churn",
            cause_col="cause",
            cause="Competitor",
            covariates=["charge"],
            entry_col="entry",
        )


def test_entry_after_exit_is_refused():
    df = pd.DataFrame({"t": [5.0, 3.0, 4.0], "e": [1, 0, 1], "en": [0.0, 4.0, 1.0]})
    with pytest.raises(EntryAfterExitError, match="enter after they leave"):
        kaplan_meier(df, duration_col="t", event_col="e", entry_col="en")
    with pytest.raises(EntryAfterExitError, match="entry <= exit|enter after"):
        fit_cox(df, duration_col="t", event_col="e", entry_col="en", covariates=["en"])


def test_tiny_early_risk_sets_warn_with_the_estimable_range():
    """Three customers observed from tenure 0, 500 from tenure 10 on: the start of the curve rests
    on three customers; the warning names the range from the first time with >= 10 at risk."""
    rng = np.random.default_rng(3)
    late = pd.DataFrame({"en": 10.0, "t": 10.0 + rng.exponential(20.0, 500), "e": 1})
    early = pd.DataFrame({"en": 0.0, "t": [2.0, 4.0, 30.0], "e": [1, 1, 0]})
    df = pd.concat([early, late], ignore_index=True)
    with pytest.warns(LateEntryWarning, match=r"Estimable range: tenure 1\d\.\d+"):
        km = kaplan_meier(df, duration_col="t", event_col="e", entry_col="en")
    assert any("delayed entry" in w for w in km.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LateEntryWarning)
        kaplan_meier(late, duration_col="t", event_col="e", entry_col="en")
