"""Lifetime value: units, discounting, R reference, recovery of the simulated truth, bad input.

Reference input: ``tests/reference/value/clv_input.csv`` =
``workbench.data.simulate(600, seed=5)[0][["tenure", "churned", "monthly_margin", "segment"]]``;
R values from ``Rscript tests/reference/value/clv.R`` (survfit with weights = margin).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data import true_survival
from workbench.exceptions import DataValidationError, ExtrapolationWarning, ParameterError
from workbench.survival.nonparametric import km_estimate, rmst_from_curve
from workbench.value import clv_by_segment, discounted_area, monthly_discount_rate, predict_clv
from workbench.value.clv import _tail_area

REF = Path(__file__).resolve().parents[1] / "reference" / "value"


def test_monthly_rate_converts_yearly():
    d = monthly_discount_rate(0.10)
    assert (1 + d) ** 12 == pytest.approx(1.10, rel=1e-12)
    assert d == pytest.approx(1.1 ** (1 / 12) - 1)


@pytest.mark.parametrize("rate", [0, 1, 1.5, 10, -0.05])
def test_discount_rate_outside_unit_interval_is_an_error(rate):
    with pytest.raises(ParameterError, match=r"`discount_rate_yearly` must be in \(0, 1\)"):
        monthly_discount_rate(rate)


def test_discounted_area_exact_against_numeric_integral():
    time, surv = np.array([1.0, 2.5, 4.0]), np.array([0.8, 0.5, 0.2])
    d = 0.01
    grid = np.linspace(0, 6, 600_001)
    step = np.concatenate([[1.0], surv])[np.searchsorted(time, grid, side="right")]
    numeric = np.trapezoid(step * (1 + d) ** -grid, grid)
    assert discounted_area(time, surv, 6.0, d) == pytest.approx(numeric, rel=1e-5)
    # no discount: the restricted mean survival time
    assert discounted_area(time, surv, 6.0, 0.0) == pytest.approx(
        rmst_from_curve(time, surv, 6.0), rel=1e-12
    )
    assert discounted_area(time, surv, 6.0, 1e-12) == pytest.approx(
        rmst_from_curve(time, surv, 6.0), rel=1e-6
    )


def test_tail_closed_form_against_numeric_integral():
    s_tau, tau, H, lam, d = 0.4, 30.0, 60.0, 0.02, 0.008
    grid = np.linspace(tau, H, 300_001)
    numeric = np.trapezoid(s_tau * np.exp(-lam * (grid - tau)) * (1 + d) ** -grid, grid)
    assert _tail_area(s_tau, tau, H, lam, d) == pytest.approx(numeric, rel=1e-8)
    # infinite horizon converges to the finite one as H grows
    assert _tail_area(s_tau, tau, math.inf, lam, d) == pytest.approx(
        _tail_area(s_tau, tau, 5000.0, lam, d), rel=1e-9
    )


def test_matches_r_weighted_survfit():
    """R: survfit(Surv(tenure, churned) ~ 1, weights = monthly_margin); discounted step integral to 36
    months at (1.1)^(1/12) - 1 a month; summary(survfit)$table rmean for the RMST."""
    d = pd.read_csv(REF / "clv_input.csv")
    ref = pd.read_csv(REF / "clv_reference.csv").set_index("group")
    r = clv_by_segment(
        d,
        group_col="segment",
        duration_col="tenure",
        event_col="churned",
        margin_col="monthly_margin",
        horizon_months=36,
        discount_rate_yearly=0.10,
        min_at_risk=1,
        n_boot=0,
    )
    got = r.summary.set_index("group")
    assert set(got.index) == set(ref.index)
    for g in ref.index:
        assert got.loc[g, "tail_share"] == 0
        assert got.loc[g, "discounted_lifetime_months"] == pytest.approx(
            ref.loc[g, "discounted_lifetime"], rel=1e-9
        )
        assert got.loc[g, "estimate"] == pytest.approx(ref.loc[g, "clv"], rel=1e-9)
        assert got.loc[g, "rmst_months"] == pytest.approx(ref.loc[g, "rmst_unweighted"], rel=1e-9)


def _true_clv(ds, horizon):
    d = monthly_discount_rate(0.10)
    grid = np.linspace(0, horizon, int(horizon * 20) + 1)
    S = true_survival(ds.frame, grid, ds.truth)
    v = ds.frame["monthly_margin"].to_numpy() * np.trapezoid(S * (1 + d) ** -grid, grid, axis=1)
    out = ds.frame.assign(v=v).groupby("segment", observed=True)["v"].mean()
    out["all"] = v.mean()
    return out


@pytest.mark.slow
def test_segment_clv_recovers_simulated_truth(synthetic):
    """Truth: mean over customers of margin x integral of the true S_i(t) x (1+d)^-t to 48 months."""
    r = clv_by_segment(synthetic, horizon_months=48, n_boot=100, seed=1)
    truth = _true_clv(synthetic, 48)
    s = r.summary.set_index("group")
    assert (s["tail_share"] == 0).all()
    for g, v in truth.items():
        assert s.loc[g, "ci_lower"] < v < s.loc[g, "ci_upper"], (g, v, s.loc[g].to_dict())
        assert s.loc[g, "estimate"] == pytest.approx(v, rel=0.03)


def test_tail_beyond_followup_is_labelled_and_close(synthetic):
    """Using the curve only to 30 months, the constant-hazard tail to 48 months stays within 2% of truth."""
    with pytest.warns(ExtrapolationWarning, match="extrapolated with a constant hazard"):
        r = clv_by_segment(synthetic, horizon_months=48, followup_months=30, n_boot=0)
    assert any("extrapolated" in w for w in r.warnings)
    truth = _true_clv(synthetic, 48)
    s = r.summary.set_index("group")
    assert (s["tail_share"] > 0.15).all()
    for g, v in truth.items():
        assert s.loc[g, "estimate"] == pytest.approx(v, rel=0.02)


def test_weighting_matters_when_margin_and_churn_are_related():
    """Margin-weighted curve: high-margin customers churn less; mean(m) x unweighted S would be biased."""
    rng = np.random.default_rng(3)
    n = 4000
    m = np.where(rng.random(n) < 0.5, 10.0, 50.0)
    t = rng.exponential(np.where(m == 50, 40.0, 10.0))
    c = rng.uniform(0, 80, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "m": m})
    r = clv_by_segment(
        df,
        duration_col="t",
        event_col="e",
        margin_col="m",
        horizon_months=24,
        n_boot=0,
        discount_rate_yearly=0.05,
    )
    dm = monthly_discount_rate(0.05)
    grid = np.linspace(0, 24, 4801)
    true = np.mean(
        [
            mm * np.trapezoid(np.exp(-grid / mu) * (1 + dm) ** -grid, grid)
            for mm, mu in ((10, 10.0), (50, 40.0))
        ]
    )
    km = km_estimate(df["t"], df["e"])
    naive = m.mean() * discounted_area(km["time"], km["survival"], 24, dm)
    est = r.summary.iloc[0]["estimate"]
    assert est == pytest.approx(true, rel=0.03)
    assert abs(naive - true) / true > 0.05


def test_margin_with_missing_values_is_an_error(synthetic_small):
    df = synthetic_small.frame.copy()
    df.loc[df.index[:7], "monthly_margin"] = np.nan
    with pytest.raises(
        DataValidationError, match="'monthly_margin' \\(margin\\) has 7 missing value"
    ):
        clv_by_segment(
            df, duration_col="tenure", event_col="churned", margin_col="monthly_margin", n_boot=0
        )


def test_telco_needs_a_margin_assumption(telco):
    with pytest.raises(ParameterError, match="pass `margin_rate`"):
        clv_by_segment(telco, n_boot=0)
    r = clv_by_segment(telco, margin_rate=0.3, n_boot=20, horizon_months=60)
    assert "30% of 'monthly_charge'" in r.meta["margin_source"]
    assert set(r.summary["group"]) == {"all", "Month-to-Month", "One Year", "Two Year"}
    s = r.summary.set_index("group")
    assert s.loc["Two Year", "estimate"] > s.loc["Month-to-Month", "estimate"]


def test_yearly_margin_is_converted_to_months():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": rng.exponential(20, 500), "e": 1, "m_month": 10.0})
    df["m_year"] = 12 * df["m_month"]
    a = clv_by_segment(
        df, duration_col="t", event_col="e", margin_col="m_month", n_boot=0, min_at_risk=1
    )
    b = clv_by_segment(
        df,
        duration_col="t",
        event_col="e",
        margin_col="m_year",
        margin_period="year",
        n_boot=0,
        min_at_risk=1,
    )
    assert a.summary["estimate"].iloc[0] == pytest.approx(b.summary["estimate"].iloc[0], rel=1e-12)


def test_customer_level_value_tracks_truth(synthetic_small):
    """Weibull AFT per-customer value of a new customer: mean within 5% of the true mean; correlation > 0.8."""
    with pytest.warns(ExtrapolationWarning):
        r = predict_clv(synthetic_small, horizon_months=36, effect_hr=0.8)
    c = r.tables["customers"]
    d = monthly_discount_rate(0.10)
    grid = np.linspace(0, 36, 721)
    S = true_survival(synthetic_small.frame, grid, synthetic_small.truth)
    v = synthetic_small.frame["monthly_margin"].to_numpy() * np.trapezoid(
        S * (1 + d) ** -grid, grid, axis=1
    )
    assert c["value_new"].mean() == pytest.approx(v.mean(), rel=0.05)
    assert np.corrcoef(c["value_new"], v)[0, 1] > 0.8
    active = c["churned"] == 0
    assert (
        c.loc[active, "current_value"].notna().all()
        and c.loc[~active, "current_value"].isna().all()
    )
    assert (c.loc[active, "growth_potential"] > 0).all()
    assert (c.loc[active, "current_value"] <= c.loc[active, "margin_per_month"] * 36 + 1e-9).all()


def test_customer_value_bad_effect(synthetic_small):
    with pytest.raises(ParameterError, match="`effect_hr` must be a positive hazard ratio"):
        predict_clv(synthetic_small, effect_hr=-1.0)


def test_customer_values_equal_closed_form_weibull(synthetic_small):
    """Recompute a few customers' values from the fitted Weibull AFT parameters:
    S(t) = exp(-(t / lambda_i)^rho), lambda_i = exp(x_i b), residual value = m_i * int_0^H S(a+u)/S(a) v^u du."""
    with pytest.warns(ExtrapolationWarning):
        r = predict_clv(
            synthetic_small, horizon_months=24, effect_hr=0.7, discount_rate_yearly=0.12
        )
    model = r.model_
    params = model.params_
    lam_b = params.loc["lambda_"]
    rho = float(np.exp(params.loc["rho_"].iloc[0]))
    c = r.tables["customers"]
    from workbench.value.customer import _design

    X, refs = _design(synthetic_small.frame, r.meta["covariates"])
    assert r.meta["reference_levels"] == refs  # R's rule: first declared / sorted level
    d = monthly_discount_rate(0.12)
    u = np.linspace(0, 24, 24_001)
    for i in np.flatnonzero((c["churned"] == 0).to_numpy())[:5]:
        x = X.iloc[i]
        lam = float(
            np.exp(
                lam_b["Intercept"] + sum(lam_b[k] * x[k] for k in lam_b.index if k != "Intercept")
            )
        )
        a = c["tenure_months"].iloc[i]
        cond = np.exp(-(((a + u) / lam) ** rho) + (a / lam) ** rho)
        m = c["margin_per_month"].iloc[i]
        expected = m * np.trapezoid(cond * (1 + d) ** -u, u)
        assert c["current_value"].iloc[i] == pytest.approx(expected, rel=2e-3)
        strat = m * np.trapezoid(cond**0.7 * (1 + d) ** -u, u)
        assert c["value_with_strategy"].iloc[i] == pytest.approx(strat, rel=2e-3)


# ------------------------------------------------------------------------------------------------ issue 12
def test_without_revenue_or_margin_the_value_sections_say_which_role(synthetic_small):
    """A file without revenue / margin: lifetime value is unavailable (one sentence naming the roles),
    and the customer-level value, the matrix and the Lorenz curve carry the same reason, not a crash."""
    import dataclasses

    from workbench.data import Dataset
    from workbench.exceptions import UnavailableWarning
    from workbench.value import key_findings, lorenz_curve, value_matrix

    spec = dataclasses.replace(synthetic_small.spec, revenue=None, margin=None)
    ds = Dataset(synthetic_small.frame, spec)
    with pytest.warns(UnavailableWarning, match="`revenue` role"):
        clv = clv_by_segment(ds, margin_rate=0.3, n_boot=0)
    with pytest.warns(UnavailableWarning):
        cust = predict_clv(ds, margin_rate=0.3)
    with pytest.warns(UnavailableWarning):
        matrix, lorenz = value_matrix(cust), lorenz_curve(cust)
    for r in (clv, cust, matrix, lorenz):
        assert r.meta["available"] is False and r.summary.empty and "`revenue`" in r.meta["reason"]
    f = key_findings(clv=clv, matrix=matrix, lorenz=lorenz)
    assert len(f) == 1 and f[0].kind == "caveat" and "`margin`" in f[0].text
    # a column named explicitly is always tried: a typo is an error, not a skipped section
    with pytest.raises(ParameterError, match="did you mean|Did you mean"):
        clv_by_segment(ds, revenue_col="monthly_chrge", margin_rate=0.3, n_boot=0)


def test_group_by_a_continuous_column_is_refused(synthetic_small):
    from workbench.exceptions import TooManyLevelsError

    with pytest.raises(
        TooManyLevelsError, match="'age' has .* distinct values, more than max_levels=20"
    ):
        clv_by_segment(synthetic_small, group_col="age", margin_rate=0.3, n_boot=0)
