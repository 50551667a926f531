"""The synthetic customer base: deterministic, and its data agree with its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy import stats

from workbench.data import load_dataset, simulate, true_design, true_rmst, true_survival
from workbench.data.synthetic import CAUSES, TERMS, baseline_hazards
from workbench.exceptions import ParameterError
from workbench.survival.engine import cox_fit


def test_deterministic_for_a_seed():
    a, ta = simulate(2_000, seed=3)
    b, tb = simulate(2_000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert ta["loyalty_programme"]["ate"] == tb["loyalty_programme"]["ate"]
    c, _ = simulate(2_000, seed=4)
    assert not a["tenure"].equals(c["tenure"])


def test_shape_and_domain_of_columns():
    f, truth = simulate(5_000, seed=1)
    assert f["customer_id"].is_unique and f["customer_id"].iloc[0] == "SYN-0000001"
    assert (f["tenure"] > 0).all() and f["tenure"].max() <= 72
    assert set(f["churn_type"].dropna()) == set(CAUSES)
    assert f.loc[f["churned"] == 1, "churn_type"].notna().all()
    assert f.loc[f["churned"] == 0, "churn_type"].isna().all()
    assert set(f["satisfaction"]) == {1, 2, 3, 4, 5}
    assert f["retention_offer"].notna().eq(f["segment"] == "consumer").all()
    assert f["health_score"].between(0, 100).all()
    # win-back outcomes exist only for churners
    assert f.loc[f["churned"] == 0, "winback_contacted"].isna().all()
    assert f.loc[f["churned"] == 1, "reactivated"].notna().all()
    assert sorted(truth["log_hr"]) == sorted(CAUSES) and list(truth["log_hr"]["price"]) == list(
        TERMS
    )


def test_lifecycle_hazard_is_not_monotone():
    base = baseline_hazards(40).sum(axis=0)
    assert base[0] > base[6]  # early-months peak
    assert base[11] > base[8] and base[11] > base[14]  # renewal peak at 12 months
    assert base[23] > base[20]  # and at 24 months


def test_confounding_of_the_loyalty_programme_is_visible():
    f, truth = simulate(20_000, seed=0)
    naive = (
        f.loc[f.loyalty_programme == "member", "churned"].mean()
        - f.loc[f.loyalty_programme == "none", "churned"].mean()
    )
    assert naive > 0  # members churn more ...
    assert truth["loyalty_programme"]["ate"]["survival_difference_12"] > 0  # ... though it helps
    assert (
        f.loc[f.contract == "month_to_month", "propensity_loyalty"].mean()
        > f.loc[f.contract == "two_year", "propensity_loyalty"].mean()
    )


@pytest.mark.slow
def test_truth_survival_agrees_with_kaplan_meier_of_the_data():
    """The truth's control-arm survival at 12 months is what a KM of the randomised control arm shows,
    and the realised survival of the whole base matches the mean true survival curve."""
    f, truth = simulate(100_000, seed=21)
    ctrl = f[f.retention_offer == "control"]
    km = KaplanMeierFitter().fit(ctrl.tenure, ctrl.churned)
    s12 = float(km.survival_function_at_times(12).iloc[0])
    se = float(np.sqrt(s12 * (1 - s12) / (len(ctrl) * 0.6)))  # generous: censoring inflates the SE
    assert abs(s12 - truth["retention_offer"]["ate"]["survival_control_12"]) < 3 * se
    mean_true = true_survival(f, [6, 12, 24], truth).mean(axis=0)
    km_all = (
        KaplanMeierFitter()
        .fit(f.tenure, f.churned)
        .survival_function_at_times([6, 12, 24])
        .to_numpy()
    )
    np.testing.assert_allclose(km_all, mean_true, atol=0.006)
    # RMST truth is the integral of the true curve
    grid = np.linspace(0, 24, 2401)
    num = np.trapezoid(true_survival(f.iloc[:200], grid, truth), grid, axis=1)
    np.testing.assert_allclose(true_rmst(f.iloc[:200], 24, truth), num, rtol=1e-5)


@pytest.mark.slow
def test_cox_on_200k_customers_recovers_true_log_hazard_ratios_of_main_causes():
    """Cause-specific Cox with the true design on 200,000 customers (R: coxph(Surv(tenure, cause == k) ~ X)),
    fitted with the workbench's Cox engine (itself checked against R and lifelines in test_engine.py).

    For each main cause, a Wald test of beta_hat == beta_true over all 17 terms is not rejected, and
    at most 3 of the 17 true values fall outside their 95% intervals; the same test rejects a truth
    that is off by 0.1 on the contract effect, so it can fail."""
    f, truth = simulate(200_000, seed=2024)
    X = true_design(f)
    for cause in ("competitive", "price", "service_fault"):
        m = cox_fit(X, f["tenure"].to_numpy(), (f["churn_type"] == cause).astype(int).to_numpy())
        assert m.converged and m.terms == list(TERMS)
        beta, V = m.params, m.variance
        se = np.sqrt(np.diag(V))
        true = np.array([truth["log_hr"][cause][t] for t in TERMS])
        outside = np.abs(beta - true) > 1.96 * se
        assert outside.sum() <= 3, (cause, np.array(TERMS)[outside])
        diff = beta - true
        wald = float(diff @ np.linalg.solve(V, diff))
        assert stats.chi2.sf(wald, len(TERMS)) > 0.001, (cause, wald)
        wrong = true.copy()
        wrong[TERMS.index("contract_two_year")] += 0.1
        dw = beta - wrong
        assert stats.chi2.sf(float(dw @ np.linalg.solve(V, dw)), len(TERMS)) < 0.001


def test_knobs():
    f, truth = simulate(3_000, seed=2, satisfaction_effect=0.0)
    assert all(
        truth["log_hr"][c]["sat_1"] == 0 and truth["log_hr"][c]["dissat_x_sc"] == 0 for c in CAUSES
    )
    assert truth["perceived_value_path"]["satisfaction_to_perceived_value"] == 0
    f1, t1 = simulate(3_000, seed=2, competing_risks=False)
    assert set(f1["churn_type"].dropna()) == {"voluntary"}
    assert t1["log_hr"]["voluntary"] == t1["log_hr"]["competitive"]
    f2, _ = simulate(3_000, seed=2, tenure_unit="days")
    assert f2["tenure"].dtype.kind == "i" and f2["tenure"].min() >= 1
    _, t3 = simulate(3_000, seed=2, interaction=-0.3, offer_effect=-0.8)
    assert t3["log_hr"]["competitive"]["dissat_x_sc"] == pytest.approx(-0.3)
    assert t3["log_hr"]["price"]["retention_offer"] == pytest.approx(-0.8 * 0.30 / 0.40)
    f4, _ = simulate(3_000, seed=2, confounding=0.0)
    assert f4["propensity_loyalty"].nunique() == 1


def test_bad_arguments_are_named():
    with pytest.raises(
        ParameterError, match=r"`n_customers` must be a positive whole number, got 0"
    ):
        simulate(0)
    with pytest.raises(
        ParameterError, match=r"`tenure_unit` must be 'months' or 'days', got 'years'"
    ):
        simulate(10, tenure_unit="years")
    with pytest.raises(ParameterError, match=r"`offer_share` must be in \(0, 1\), got 1.5"):
        simulate(10, offer_share=1.5)


def test_load_dataset_synthetic_default_is_20000_seed_0():
    ds = load_dataset("synthetic", n_customers=1_000)
    assert ds.n == 1_000 and ds.truth["seed"] == 0 and ds.name == "synthetic"
    assert ds.fingerprint == load_dataset("synthetic", n_customers=1_000).fingerprint
