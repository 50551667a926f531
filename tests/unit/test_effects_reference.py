"""workbench.effects against R (survival 3.5.3, stats): values in tests/reference/effects/.

Regenerate: ``Rscript tests/reference/effects/effects_reference.R`` (input: ``input_synthetic.csv``,
written once by ``make_input.py``: 1,500 simulated customers, seed 11).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.effects import InterventionStudy, e_value, negative_control, sample_size, winback
from workbench.effects.outcome import fit_outcome
from workbench.effects.pseudo import logrank, pseudo_values

REF = Path(__file__).resolve().parents[1] / "reference" / "effects"
CONF = ["contract", "monthly_charge", "n_complaints", "satisfaction", "age"]
H = [6.0, 12.0, 24.0]


@pytest.fixture(scope="module")
def ref():
    r = pd.read_csv(REF / "effects_reference.csv")
    return {k: g.sort_values("index")["value"].to_numpy() for k, g in r.groupby("name")}


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "input_synthetic.csv")


@pytest.fixture(scope="module")
def study(data):
    return InterventionStudy(
        data,
        treatment_col="loyalty_programme",
        control_arm="none",
        design="observational",
        confounders=CONF,
        duration_col="tenure",
        event_col="churned",
        margin_col="monthly_margin",
        horizons=H,
        tau=24,
        specification="linear",  # the R script's glm / coxph formulas enter numbers linearly
    )


def _rows(res, method, estimand):
    s = res.summary
    return s[(s["method"] == method) & (s["estimand"] == estimand)].sort_values("horizon")


def test_km_contrast_matches_survfit(study, ref):
    """survfit(Surv(tenure, churned) ~ 1) per arm: summary(times=), rmean=24; survdiff; coxph(ties='breslow')."""
    res = study.estimate("none", augment=False)
    for a, label in ((1, "survival_arm"), (0, "survival_control")):
        r = _rows(res, "km", label)
        np.testing.assert_allclose(r["estimate"], ref[f"km_surv_{a}"], rtol=1e-10)
        np.testing.assert_allclose(r["se"], ref[f"km_se_{a}"], rtol=1e-8)
    for a, label in ((1, "rmst_arm"), (0, "rmst_control")):
        r = _rows(res, "km", label).iloc[0]
        assert r["estimate"] == pytest.approx(ref[f"km_rmst_{a}"][0], rel=1e-10)
        assert r["se"] == pytest.approx(ref[f"km_rmst_se_{a}"][0], rel=1e-8)
    d, e, t = study._arrays(study._pair("member"), "member")
    chi2, _ = logrank(d, e, t)
    assert chi2 == pytest.approx(ref["logrank_chisq"][0], rel=1e-9)
    hr = _rows(res, "km", "hazard_ratio").iloc[0]
    assert np.log(hr["estimate"]) == pytest.approx(ref["cox_coef"][0], rel=1e-7)


def test_propensity_weights_and_weighted_km_match_r(study, ref):
    """glm(A ~ contract + ..., binomial); stabilised IPW; survfit(weights=); coxph(weights=, ties='breslow')."""
    ps = study.propensity()
    np.testing.assert_allclose(ps.summary["estimate"], ref["ps_coef"], rtol=1e-6)
    e = study._ps("member")
    np.testing.assert_allclose(e[:10], ref["ps_fitted_head"], rtol=1e-7)
    study.weights("ipw")
    np.testing.assert_allclose(
        study._weights_cache["member"][:10], ref["ipw_weights_head"], rtol=1e-7
    )
    res = study.estimate("ipw", augment=False, n_bootstrap=20, n_jobs=1)
    np.testing.assert_allclose(
        _rows(res, "ipw", "survival_arm")["estimate"], ref["ipw_surv_1"], rtol=1e-7
    )
    np.testing.assert_allclose(
        _rows(res, "ipw", "survival_control")["estimate"], ref["ipw_surv_0"], rtol=1e-7
    )
    assert _rows(res, "ipw", "rmst_arm")["estimate"].iloc[0] == pytest.approx(
        ref["ipw_rmst_1"][0], rel=1e-7
    )
    assert _rows(res, "ipw", "rmst_control")["estimate"].iloc[0] == pytest.approx(
        ref["ipw_rmst_0"][0], rel=1e-7
    )
    assert np.log(_rows(res, "ipw", "hazard_ratio")["estimate"].iloc[0]) == pytest.approx(
        ref["ipw_cox_coef"][0], rel=1e-6
    )
    ov = study.estimate("overlap", augment=False, n_bootstrap=20, n_jobs=1)
    np.testing.assert_allclose(
        _rows(ov, "overlap", "survival_arm")["estimate"], ref["overlap_surv_1"], rtol=1e-7
    )
    np.testing.assert_allclose(
        _rows(ov, "overlap", "survival_control")["estimate"], ref["overlap_surv_0"], rtol=1e-7
    )


def test_balance_smd_matches_r(study, ref):
    """SMD with the unweighted pooled SD, before and after stabilised IPW (formula in the R script)."""
    b = study.balance("ipw").summary
    np.testing.assert_allclose(b["smd_before"], ref["smd_before"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b["smd_after"], ref["smd_after"], rtol=1e-6, atol=1e-7)


def test_cox_outcome_pseudo_values_and_aipw_match_r(study, ref, data):
    """coxph(ties='breslow') per arm + basehaz(centered=FALSE); survival::pseudo (IJ); AIPW formula in R."""
    sub = study._pair("member")
    d, e, t = study._arrays(sub, "member")
    X, _ = study._pair_design("member")
    for a in (0, 1):
        m = t == a
        fit = fit_outcome(d[m], e[m], X[m][:, 1:])
        np.testing.assert_allclose(fit.coef_, ref[f"outcome_coef_{a}"], rtol=1e-6)
        std = np.concatenate(
            [fit.survival(X[:, 1:], H).mean(axis=0), [fit.rmst(X[:, 1:], 24).mean()]]
        )
        np.testing.assert_allclose(std[:3], ref[f"standardised_{a}"][:3], rtol=1e-6)
        assert std[3] == pytest.approx(ref[f"standardised_{a}"][3], abs=2e-4)  # RMST: merged steps
    P, _ = pseudo_values(d, e, H, 24)
    np.testing.assert_allclose(P[:5].T.ravel(), ref["pseudo_head"], rtol=1e-7)
    res = study.estimate("ipw", n_bootstrap=10, n_jobs=1)
    s1 = np.concatenate(
        [_rows(res, "aipw", "survival_arm")["estimate"], _rows(res, "aipw", "rmst_arm")["estimate"]]
    )
    s0 = np.concatenate(
        [
            _rows(res, "aipw", "survival_control")["estimate"],
            _rows(res, "aipw", "rmst_control")["estimate"],
        ]
    )
    np.testing.assert_allclose(s1[:3], ref["aipw_psi1"][:3], rtol=1e-6)
    np.testing.assert_allclose(s0[:3], ref["aipw_psi0"][:3], rtol=1e-6)
    np.testing.assert_allclose(s1[3], ref["aipw_psi1"][3], atol=2e-4)
    np.testing.assert_allclose(s0[3], ref["aipw_psi0"][3], atol=2e-4)
    se = np.concatenate(
        [
            _rows(res, "aipw", "survival_difference")["se"],
            _rows(res, "aipw", "rmst_difference")["se"],
        ]
    )
    np.testing.assert_allclose(se, ref["aipw_se_diff"], rtol=1e-3)


def test_negative_control_matches_robust_coxph(study, ref):
    """coxph(Surv(tenure, natural) ~ A, weights = w, robust = TRUE) (Efron ties, as lifelines)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nc = negative_control(study, churn_type_col="churn_type")
    r = nc.summary.iloc[0]
    assert np.log(r["estimate"]) == pytest.approx(ref["negctl_coef"][0], rel=1e-5)
    assert r["se"] / r["estimate"] == pytest.approx(ref["negctl_robust_se"][0], rel=1e-4)


def test_e_value_matches_formula_in_r(ref):
    """ev(rr) = rr + sqrt(rr (rr - 1)); HR of a common outcome via (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))."""
    assert e_value(3.9)["e_value"] == pytest.approx(ref["evalue_rr_3.9"][0], rel=1e-12)
    assert e_value(0.8)["e_value"] == pytest.approx(ref["evalue_rr_0.8"][0], rel=1e-12)
    v = e_value(0.85, 0.80, 0.95, measure="hr")
    assert v["e_value"] == pytest.approx(ref["evalue_hr_0.85"][0], rel=1e-12)
    assert v["e_value_ci"] == pytest.approx(ref["evalue_hr_ci_0.95"][0], rel=1e-12)
    assert e_value(0.9, 0.7, 1.1, measure="hr")["e_value_ci"] == 1.0


def test_sample_size_matches_r(ref):
    """power.prop.test(p1 = .75, p2 = .75^.8, power = .8); Schoenfeld with uniform accrual 6, follow-up 12."""
    res = sample_size(
        baseline_retention=0.75, hazard_ratio=0.8, horizon=12, accrual=6, follow_up=12
    )
    s = res.summary
    assert s.loc[1, "n_per_arm"] == int(np.ceil(ref["power_prop_n"][0]))
    assert s.loc[0, "events"] == int(np.ceil(ref["schoenfeld_events"][0]))
    assert s.loc[0, "n_total"] == int(np.ceil(ref["schoenfeld_n"][0]))


def test_winback_matches_survfit(data, ref):
    """survfit(Surv(time, reactivated) ~ 1) by contact among churners; 1 - S(3); survdiff."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = winback(data, event_col="churned")
    s = res.summary
    assert s.loc[0, "estimate"] == pytest.approx(ref["winback_react_1"][0], rel=1e-10)
    assert s.loc[1, "estimate"] == pytest.approx(ref["winback_react_0"][0], rel=1e-10)
    assert s.loc[0, "se"] == pytest.approx(ref["winback_se_1"][0], rel=1e-8)
    from scipy import stats

    assert s.loc[2, "p_value"] == pytest.approx(
        stats.chi2.sf(ref["winback_logrank_chisq"][0], 1), rel=1e-8
    )


def test_flexible_propensity_matches_r_glm_with_ns(data):
    """The default rule recomputed in R (flexible_reference.R): glm(A ~ contract + ns(charge) +
    pooled(n_complaints) + factor(satisfaction) + ns(age), binomial), same knots by type-7
    quantiles; the fitted propensities agree (the spline bases differ, their spans do not)."""
    r = pd.read_csv(REF / "flexible_reference.csv")
    ref = {k: g.sort_values("index")["value"].to_numpy() for k, g in r.groupby("name")}
    st = InterventionStudy(
        data,
        treatment_col="loyalty_programme",
        control_arm="none",
        design="observational",
        confounders=CONF,
        duration_col="tenure",
        event_col="churned",
    )
    spec = st.specification_()
    assert spec.interactions == [] and spec.dropped_interactions  # too few customers per column
    charge = next(t for t in spec.terms if t.column == "monthly_charge")
    assert len(charge.knots) - 1 == int(ref["flexible_df"][0])
    np.testing.assert_allclose(st._ps("member"), ref["flexible_ps_fitted"], rtol=1e-6, atol=1e-9)
