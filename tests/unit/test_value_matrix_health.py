"""Value matrix, Lorenz curve and health-score validation (checked against scikit-survival)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataValidationError, ParameterError
from workbench.retention import UnavailableWarning
from workbench.value import (
    build_health_score,
    cumulative_dynamic_auc,
    key_findings,
    lorenz_curve,
    uno_concordance,
    validate_health_score,
    value_matrix,
)


# ------------------------------------------------------------------------------------------------ matrix
def test_value_matrix_hand_example():
    df = pd.DataFrame(
        {"current_value": [1, 2, 3, 10, 20, 30, np.nan], "growth_potential": [0, 5, 6, 1, 7, 2, 3]}
    )
    with pytest.warns(UserWarning, match="1 customers without a current value"):
        r = value_matrix(df, current_cut=5, potential_cut=4)
    s = r.summary.set_index("type")
    assert s["customers"].to_dict() == {"I": 1, "II": 2, "III": 2, "IV": 1}
    assert s.loc["IV", "value_share"] == pytest.approx(20 / 66)
    assert s.loc["III", "current_value"] == pytest.approx(40)
    assert s["value_share"].sum() == pytest.approx(1.0)
    assert s.loc["II", "potential_share"] == pytest.approx(11 / 21)


def test_value_matrix_needs_growth_potential():
    with pytest.raises(
        ParameterError, match="column 'growth_potential' is not in the values table"
    ):
        value_matrix(pd.DataFrame({"current_value": [1.0, 2.0]}))


def test_lorenz_and_gini_known_values():
    # one customer holds everything: Gini = 1 - 1/n
    r = lorenz_curve(np.r_[np.zeros(9), 10.0])
    assert r.meta["gini"] == pytest.approx(0.9)
    s = r.summary.set_index("term")["estimate"]
    assert s["top 10% of customers"] == pytest.approx(1.0)
    # uniform 1..n: Gini = (n - 1) / (3n) ... for values 1..n the Gini is (n-1)/(3n)*... check formula
    x = np.arange(1, 101, dtype=float)
    g = lorenz_curve(x).meta["gini"]
    expected = np.sum((2 * np.arange(1, 101) - 100 - 1) * np.sort(x)) / (100 * x.sum())
    assert g == pytest.approx(expected, rel=1e-12)
    assert s["gini"] == pytest.approx(0.9)


# ------------------------------------------------------------------------------------------------ health
def _arrays(ds):
    f = ds.frame
    return (
        f["tenure"].to_numpy(float),
        f["churned"].to_numpy().astype(bool),
        -f["health_score"].to_numpy(float),
    )


@pytest.mark.parametrize("h", [3.0, 6.0, 12.0])
def test_auc_and_uno_c_match_sksurv(synthetic_small, h):
    """sksurv.metrics.cumulative_dynamic_auc(y, y, risk, [h]) and concordance_index_ipcw(y, y, risk, tau=h)
    with the censoring distribution estimated on the same data."""
    sk = pytest.importorskip("sksurv.metrics")
    from sksurv.util import Surv

    t, e, risk = _arrays(synthetic_small)
    y = Surv.from_arrays(e, t)
    assert cumulative_dynamic_auc(t, e, risk, h) == pytest.approx(
        sk.cumulative_dynamic_auc(y, y, risk, [h])[0][0], abs=1e-10
    )
    assert uno_concordance(t, e, risk, h) == pytest.approx(
        sk.concordance_index_ipcw(y, y, risk, tau=h)[0], abs=1e-10
    )


@pytest.mark.parametrize("tau", [6.0, 24.0])
def test_uno_c_matches_sksurv_on_telco_tied_months(telco, tau):
    """Telco tenure is whole months (heavy ties, churners and censored customers at the same month);
    the risk score is rounded charges (ties in risk too). Issue 12: 0.5522 before, sksurv 0.5449."""
    sk = pytest.importorskip("sksurv.metrics")
    from sksurv.util import Surv

    f = telco.frame
    t = f[telco.spec.tenure].to_numpy(float)
    e = f[telco.spec.event].to_numpy().astype(bool)
    keep = t > 0  # sksurv's censoring weights need G > 0 at every event time
    t, e = t[keep], e[keep]
    risk = np.round(f["monthly_charge"].to_numpy(float)[keep] / 10.0)
    y = Surv.from_arrays(e, t)
    assert uno_concordance(t, e, risk, tau) == pytest.approx(
        sk.concordance_index_ipcw(y, y, risk, tau=tau)[0], abs=1e-10
    )


def test_uno_c_counts_censored_at_a_churners_time():
    """Hand-counted: churner at 2 (risk 3) vs censored at 2 (risk 1) is a concordant pair; the two
    churners at 2 are not comparable with each other."""
    sk = pytest.importorskip("sksurv.metrics")
    from sksurv.util import Surv

    rng = np.random.default_rng(8)
    t = rng.integers(1, 6, 300).astype(float)
    e = rng.random(300) < 0.5
    risk = rng.integers(0, 4, 300).astype(float) - 0.3 * t
    y = Surv.from_arrays(e, t)
    for tau in (3.0, 4.5):
        assert uno_concordance(t, e, risk, tau) == pytest.approx(
            sk.concordance_index_ipcw(y, y, risk, tau=tau)[0], abs=1e-10
        )
    from workbench.exceptions import ModelError

    with pytest.raises(
        ModelError, match="G is 0 at churn time 5; its weight|G is 0 at churn time 5"
    ):
        uno_concordance(t, e, risk, 5.5)
    # hand count: both churners at 2 beat the customer censored at 2 and the one at 3: C = 1
    t2, e2, r2 = (
        np.array([2.0, 2.0, 2.0, 3.0]),
        np.array([1, 1, 0, 0], bool),
        np.array([3.0, 2.0, 1.0, 0.0]),
    )
    assert uno_concordance(t2, e2, r2, 10.0) == pytest.approx(1.0)


def test_auc_without_censoring_is_mann_whitney():
    rng = np.random.default_rng(4)
    t = rng.exponential(10, 400)
    e = np.ones(400, bool)
    risk = -t + rng.normal(0, 5, 400)
    case, ctrl = t <= 6, t > 6
    diff = risk[case][:, None] - risk[ctrl][None, :]
    mw = np.mean((diff > 0) + 0.5 * (diff == 0))
    assert cumulative_dynamic_auc(t, e, risk, 6.0) == pytest.approx(mw, abs=1e-12)


def test_validate_health_score_synthetic(synthetic_small):
    r = validate_health_score(synthetic_small, horizon_months=6, n_boot=30)
    s = r.summary
    assert s["threshold"].tolist()[:2] == [70.0, 50.0]
    assert (s["rule"] == "given").sum() == 2 and s["rule"].iloc[2].startswith("Youden")
    # the simulated score is informative: AUC clearly above 0.5, lower bands churn more
    assert r.meta["auc"] > 0.58
    assert r.meta["calibration_spearman"] < -0.5
    disc = r.tables["discrimination"]
    assert disc["ci_lower"].iloc[0] < r.meta["auc"] < disc["ci_upper"].iloc[0]
    # a stricter threshold flags fewer customers: lower sensitivity, higher specificity
    r70, r50 = s.iloc[0], s.iloc[1]
    assert r50["flagged_share"] < r70["flagged_share"]
    assert r50["sensitivity"] < r70["sensitivity"] and r50["specificity"] > r70["specificity"]
    # Youden's threshold is at least as good as the given ones
    assert s["youden_j"].iloc[2] >= s["youden_j"].iloc[:2].max() - 1e-12
    # hand check of the specificity of 70 among customers followed past the horizon
    f = synthetic_small.frame
    ctrl = f["tenure"] > 6
    assert r70["specificity"] == pytest.approx((f.loc[ctrl, "health_score"] >= 70).mean())


def test_built_score_from_indicators(synthetic_small):
    f = synthetic_small.frame.drop(columns=["health_score"])
    score, info = build_health_score(f)
    assert info["groups_used"] == ["activity", "spending", "risk", "relationship"]
    assert score.min() == pytest.approx(0) and score.max() == pytest.approx(100)
    r = validate_health_score(f, duration_col="tenure", event_col="churned", n_boot=0)
    assert r.meta["score_col"] == "health_score_built"
    assert r.meta["auc"] > 0.55


def test_score_outside_range_is_an_error(synthetic_small):
    f = synthetic_small.frame.copy()
    f.loc[f.index[:3], "health_score"] = 130
    with pytest.raises(DataValidationError, match=r"3 value\(s\) outside its range \[0, 100\]"):
        validate_health_score(
            f, duration_col="tenure", event_col="churned", score_col="health_score"
        )


def test_telco_churn_score_reflected(telco):
    r = validate_health_score(
        telco, score_col="churn_score", higher_is_healthier=False, horizon_months=12, n_boot=0
    )
    assert "reflected" in r.meta["score_source"]
    assert r.meta["auc"] > 0.6


def test_telco_without_score_is_unavailable(telco):
    with pytest.warns(UnavailableWarning, match="health-score validation is unavailable"):
        r = validate_health_score(telco)
    assert r.meta["available"] is False
    assert any("unavailable" in f.text and "`score_col`" in f.text for f in key_findings(health=r))


# ------------------------------------------------------------------------------------------------ strategy effect
def test_strategy_effect_estimated_from_randomised_offer(synthetic):
    """The Cox hazard ratio of the randomised offer covers the true marginal ratio of cumulative hazards
    at 12 and 24 months, log S1(t) / log S0(t), from the simulated potential outcomes."""
    from workbench.value import strategy_effect

    r = strategy_effect(synthetic)
    ate = synthetic.truth["retention_offer"]["ate"]
    row = r.summary.iloc[0]
    assert r.meta["source"] == "estimated" and r.meta["n"] == ate["n"]
    for t in (12, 24):
        true_ratio = np.log(ate[f"survival_treated_{t}"]) / np.log(ate[f"survival_control_{t}"])
        assert row["ci_lower"] < true_ratio < row["ci_upper"]
    assert r.estimate_ == row["estimate"] < 1


def test_strategy_effect_assumed_and_fallback(telco):
    from workbench.value import strategy_effect

    assert strategy_effect(telco, assumed_hr=0.9).estimate_ == 0.9
    with pytest.warns(UnavailableWarning, match="stated assumption hazard ratio 0.8"):
        r = strategy_effect(telco, fallback_hr=0.8)
    assert r.meta["source"] == "assumed" and r.estimate_ == 0.8
    with pytest.raises(ParameterError, match="pass `assumed_hr`"):
        strategy_effect(telco)
    with pytest.raises(ParameterError, match="must be a positive number"):
        strategy_effect(telco, assumed_hr=-2)


def test_strategy_effect_observational_warns(synthetic_small):
    from workbench.value import strategy_effect
    from workbench.value.matrix import ConfoundedEffectWarning

    with pytest.warns(ConfoundedEffectWarning, match="'loyalty_programme' was not randomised"):
        r = strategy_effect(synthetic_small, treatment_col="loyalty_programme")
    assert r.warnings


def test_value_matrix_from_customer_values(synthetic_small):
    from workbench.exceptions import ExtrapolationWarning
    from workbench.value import predict_clv

    with pytest.warns(ExtrapolationWarning):
        cv = predict_clv(synthetic_small, horizon_months=24, effect_hr=0.8)
    with pytest.warns(UserWarning, match="already churned"):
        m = value_matrix(cv)
    active = int((cv.tables["customers"]["churned"] == 0).sum())
    assert m.summary["customers"].sum() == active
    assert m.summary["value_share"].sum() == pytest.approx(1.0)
    s = m.summary.set_index("type")
    assert s.loc["IV", "mean_current_value"] > s.loc["I", "mean_current_value"]
    lor = lorenz_curve(cv)
    assert 0 < lor.meta["gini"] < 1


def test_landmark_restricts_to_customers_active_then(synthetic_small):
    from workbench.exceptions import RowsExcludedWarning

    f = synthetic_small.frame
    with pytest.warns(RowsExcludedWarning, match="before the landmark"):
        r = validate_health_score(synthetic_small, landmark_months=6, horizon_months=6, n_boot=0)
    assert r.meta["n"] == int((f["tenure"] > 6).sum())
    assert r.meta["excluded_before_landmark"] == int((f["tenure"] <= 6).sum())
    later = f[f["tenure"] > 6]
    ctrl = later["tenure"] - 6 > 6
    assert r.summary["specificity"].iloc[0] == pytest.approx(
        (later.loc[ctrl, "health_score"] >= 70).mean()
    )
    assert (r.summary["lead_time_median_months"].dropna() <= 6).all()


@pytest.mark.parametrize(
    ("thresholds", "match"),
    [
        ([150, 50], r"threshold 150 lies outside the score range \(0, 100\]"),
        ([70, -5], r"threshold -5 lies outside the score range"),
        ([0], r"threshold 0 lies outside"),
        ("70", r"`thresholds` must be a list of numbers, got '70'"),
        ([70, "high"], r"`thresholds` must be numbers, got 'high'"),
    ],
)
def test_thresholds_outside_the_score_range_are_refused(thresholds, match):
    from workbench.exceptions import ParameterError
    from workbench.value import validate_health_score

    df = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 0, 1, 0], "s": [10.0, 80, 40, 90]})
    with pytest.raises(ParameterError, match=match):
        validate_health_score(
            df, score_col="s", duration_col="t", event_col="e", thresholds=thresholds
        )
