"""Group tests, hazards, lifecycle stages, parametric/flexible models, cohorts and key findings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import (
    DataQualityWarning,
    ExtrapolationWarning,
    ModelError,
    ParameterError,
    RowsExcludedWarning,
)
from workbench.findings import Finding
from workbench.survival import kaplan_meier, rmst
from workbench.survival.cohorts import cohort_survival
from workbench.survival.findings import key_findings
from workbench.survival.hazard import nelson_aalen, smoothed_hazard, stage_hazard
from workbench.survival.logrank import logrank_test, pairwise_logrank, trend_test
from workbench.survival.parametric import fit_parametric


def _frame(n=400, seed=1):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], size=n)
    t = rng.exponential(np.where(g == "a", 10.0, 20.0))
    c = rng.uniform(0, 30, size=n)
    return pd.DataFrame(
        {"t": np.minimum(t, c), "e": (t <= c).astype(int), "g": g, "x": rng.normal(size=n)}
    )


# ------------------------------------------------------------------------------------- tests
def test_logrank_under_null_is_calibrated():
    """Under equal survival the log-rank p-values are close to uniform (150 simulated data sets)."""
    from scipy import stats

    rng = np.random.default_rng(5)
    p = []
    for _ in range(150):
        t = rng.exponential(10, 300)
        c = rng.uniform(0, 25, 300)
        df = pd.DataFrame(
            {"t": np.minimum(t, c), "e": (t <= c).astype(int), "g": rng.choice(list("ab"), 300)}
        )
        p.append(logrank_test(df, duration_col="t", event_col="e", group_col="g").p_value)
    p = np.array(p)
    assert (p < 0.05).mean() < 0.1
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_logrank_detects_a_real_difference_and_trend_sign(synthetic_small):
    lr = logrank_test(synthetic_small, group_col="contract")
    assert lr.p_value < 1e-6 and lr.df == 2
    tt = trend_test(synthetic_small, group_col="contract")
    assert tt.summary["statistic_z"].iloc[0] < 0  # longer contracts, less churn (the true model)
    rev = trend_test(synthetic_small, group_col="contract", scores=[3, 2, 1])
    assert rev.summary["statistic_z"].iloc[0] == pytest.approx(-tt.summary["statistic_z"].iloc[0])


def test_tests_bad_input():
    df = _frame()
    with pytest.raises(ParameterError, match="at least two"):
        logrank_test(df.assign(g="a"), duration_col="t", event_col="e", group_col="g")
    with pytest.raises(ModelError, match="no churn events"):
        logrank_test(df.assign(e=0), duration_col="t", event_col="e", group_col="g")
    with pytest.raises(ParameterError, match="`rho` must be"):
        logrank_test(df, duration_col="t", event_col="e", group_col="g", rho=-1)
    with pytest.raises(ParameterError, match="one number per group"):
        trend_test(df, duration_col="t", event_col="e", group_col="g", scores=[1, 2, 3])
    with pytest.raises(ParameterError, match="`group_col` is required"):
        logrank_test(df, duration_col="t", event_col="e")
    with pytest.raises(ParameterError, match="`p_adjust` must be"):
        pairwise_logrank(df, duration_col="t", event_col="e", group_col="g", p_adjust="fdr")


# ------------------------------------------------------------------------------------ hazards
def test_smoothed_hazard_shows_renewal_peak_near_12_months(synthetic):
    hz = smoothed_hazard(synthetic, grid=np.arange(0, 36.01, 0.25))
    s = hz.smoothed.set_index("time")["hazard"]
    mid = s.loc[6:20]
    assert 11.0 <= mid.idxmax() <= 13.0
    assert s.loc[12] > 1.3 * s.loc[8] and s.loc[12] > 1.2 * s.loc[16.5]
    assert s.loc[0] > s.loc[6]  # early-months churn
    peaks = hz.tables["peaks"]
    assert ((peaks["time"] > 11) & (peaks["time"] < 13)).any()


def test_smoothed_hazard_integrates_to_nelson_aalen(synthetic_small):
    grid = np.linspace(0, 40, 1601)
    hz = smoothed_hazard(synthetic_small, grid=grid, bandwidth=2.0)
    na = nelson_aalen(synthetic_small).curves
    H = lambda t: na.loc[na["time"] <= t, "cumhaz"].iloc[-1]  # noqa: E731
    h = hz.smoothed["hazard"].to_numpy()
    inside = (grid >= 6) & (grid <= 30)
    integral = np.trapezoid(h[inside], grid[inside])
    assert integral == pytest.approx(H(30) - H(6), rel=0.03)


def test_stage_hazard_equals_piecewise_exponential_mle(synthetic_small):
    st = stage_hazard(synthetic_small, stages=[0, 3, 12, 24])
    pe = fit_parametric(synthetic_small, models=["piecewise_exponential"], cuts=[0, 3, 12, 24])
    rates = np.exp(pe.coefficients["estimate"].to_numpy())
    np.testing.assert_allclose(st.summary["estimate"], rates, rtol=1e-6)
    s = st.summary
    assert s["estimate"].iloc[0] > s["estimate"].iloc[1]  # early months churn most (true baseline)
    assert np.all(s["ci_lower"] < s["estimate"]) and np.all(s["estimate"] < s["ci_upper"])
    assert s["stage"].tolist() == ["0-3", "3-12", "12-24", "24+"]


def test_hazard_bad_input():
    df = _frame()
    with pytest.raises(ParameterError, match="`bandwidth` must be"):
        smoothed_hazard(df, duration_col="t", event_col="e", bandwidth=-1)
    with pytest.raises(ParameterError, match="`stages` must be increasing"):
        stage_hazard(df, duration_col="t", event_col="e", stages=[3, 1])


# ---------------------------------------------------------------------------------- parametric
def test_spline_with_one_df_is_the_weibull():
    df = _frame()
    fit = fit_parametric(
        df, duration_col="t", event_col="e", models=["weibull", "spline"], spline_df=1
    )
    ll = fit.summary.set_index("model")["loglik"]
    assert ll["spline"] == pytest.approx(ll["weibull"], rel=1e-8)


def test_flexible_model_wins_on_non_monotone_hazard(synthetic_small):
    fit = fit_parametric(synthetic_small)
    aic = fit.summary.set_index("model")["aic"]
    assert aic["spline"] < aic["weibull"] and aic["spline"] < aic["lognormal"]
    assert fit.best_model_ == fit.summary["model"].iloc[0]
    km = kaplan_meier(synthetic_small, times=[12, 24])
    pred = fit.predict_survival([12, 24])
    np.testing.assert_allclose(pred["survival"], km.tables["at_times"]["survival"], atol=0.02)


def test_exponential_data_recover_the_rate():
    rng = np.random.default_rng(3)
    t = rng.exponential(1 / 0.05, 4000)
    c = rng.uniform(0, 40, 4000)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int)})
    fit = fit_parametric(
        df,
        duration_col="t",
        event_col="e",
        models=["weibull", "piecewise_exponential"],
        cuts=[0, 10, 20],
    )
    co = fit.coefficients.set_index(["model", "term"])["estimate"]
    assert co[("weibull", "log(scale)")] == pytest.approx(0.0, abs=0.05)  # shape 1
    assert np.exp(-co[("weibull", "(Intercept)")]) == pytest.approx(0.05, rel=0.08)
    for band in ("log_rate[0-10]", "log_rate[10-20]", "log_rate[20+]"):
        assert np.exp(co[("piecewise_exponential", band)]) == pytest.approx(0.05, rel=0.15)


def test_extrapolation_is_marked_and_warned():
    df = _frame()
    fit = fit_parametric(df, duration_col="t", event_col="e", models=["weibull"], horizon=60)
    cur = fit.curves
    follow = fit.meta["max_followup"]
    assert (cur.loc[cur["time"] > follow, "extrapolated"]).all()
    assert not (cur.loc[cur["time"] <= follow, "extrapolated"]).any()
    with pytest.warns(ExtrapolationWarning, match="extrapolated beyond the last follow-up"):
        p = fit.predict_survival([5, 59])
    assert p["extrapolated"].tolist() == [False, True]


def test_parametric_bad_input():
    df = _frame()
    with pytest.raises(ParameterError, match="`models` must be"):
        fit_parametric(df, duration_col="t", event_col="e", models=["gompertz"])
    with pytest.raises(ModelError, match="constant or collinear"):
        fit_parametric(
            df.assign(x2=2 * df["x"]), duration_col="t", event_col="e", covariates=["x", "x2"]
        )
    with pytest.raises(ModelError, match="no churn events"):
        fit_parametric(df.assign(e=0), duration_col="t", event_col="e")
    with pytest.raises(ModelError, match=r"level g\[b\] has no churn events .*monotone likelihood"):
        fit_parametric(
            df.assign(e=np.where(df["g"] == "b", 0, df["e"])),
            duration_col="t",
            event_col="e",
            covariates=["g"],
        )
    with pytest.raises(ParameterError, match="`spline_df` must be"):
        fit_parametric(df, duration_col="t", event_col="e", spline_df=0)
    with pytest.warns(RowsExcludedWarning, match="tenure 0"):
        fit = fit_parametric(
            df.assign(t=np.where(df.index < 3, 0.0, df["t"])),
            duration_col="t",
            event_col="e",
            models=["weibull"],
        )
    assert fit.meta["n"] == len(df) - 3


# ------------------------------------------------------------------------------------ cohorts
def test_cohorts_by_quarter(synthetic_small):
    res = cohort_survival(synthetic_small, freq="quarter", horizons=[6, 24])
    assert res.meta["available"]
    m = res.tables["matrix"]
    assert m["cohort"].iloc[0] < m["cohort"].iloc[-1]
    assert res.tables["cohorts"]["n"].sum() == synthetic_small.n
    # recent cohorts cannot be read at 24 months: empty with a note, never extrapolated
    late = res.summary[
        (res.summary["cohort"] == m["cohort"].iloc[-1]) & (res.summary["time"] == 24)
    ]
    assert late["estimate"].isna().all() and "not yet observed" in late["note"].iloc[0]


def test_cohorts_without_start_dates_say_so(telco):
    with pytest.warns(DataQualityWarning, match="no joining dates"):
        res = cohort_survival(telco)
    assert not res.meta["available"] and len(res.summary) == 0 and "start_date" in res.warnings[0]
    with pytest.raises(ParameterError, match="`freq` must be one of"):
        cohort_survival(telco, freq="week")


# ----------------------------------------------------------------------------------- findings
def test_key_findings_are_built_from_results(synthetic_small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = kaplan_meier(synthetic_small, group_col="contract")
        out = key_findings(
            km=km,
            logrank=logrank_test(synthetic_small, group_col="contract"),
            rmst=rmst(synthetic_small, tau=24, group_col="contract"),
            stages=stage_hazard(synthetic_small),
            horizons=[6, 12, 24],
        )
    assert all(isinstance(f, Finding) and f.text for f in out)
    assert out[0].importance == 1 and out[0].section == "Retention curves"
    texts = [f.text for f in out]
    med = km.summary.set_index("group").loc["month_to_month", "median"]
    assert f"{med:.3g}" in texts[0] and "95% CI" in texts[0]
    assert any("Retention differs between contract groups" in s for s in texts)
    assert any(s.startswith("Within the first 24 months, two_year customers stay") for s in texts)


def test_key_findings_label_intervals_from_alpha(synthetic_small):
    """At alpha = 0.1 every interval is a 90% interval, and no sentence says 95%."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = kaplan_meier(synthetic_small, group_col="contract", alpha=0.1)
        out = key_findings(
            km=km,
            rmst=rmst(synthetic_small, tau=24, group_col="contract", alpha=0.1),
            alpha=0.1,
        )
    texts = " ".join(f.text for f in out)
    assert "90% CI" in texts and "95%" not in texts


def test_numeric_groups_keep_numeric_order_and_scores():
    df = pd.DataFrame({"t": np.arange(1, 41), "e": [1, 1, 0, 1] * 10, "g": [1, 2, 10, 3] * 10})
    km = kaplan_meier(df, duration_col="t", event_col="e", group_col="g")
    assert km.summary["group"].tolist() == ["1", "2", "3", "10"]
    tt = trend_test(df, duration_col="t", event_col="e", group_col="g")
    assert list(tt.meta["scores"].values()) == [1.0, 2.0, 3.0, 10.0]


def test_every_result_plot_returns_its_axes(synthetic_small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [
            smoothed_hazard(synthetic_small, group_col="contract"),
            stage_hazard(synthetic_small, group_col="contract"),
            nelson_aalen(synthetic_small, group_col="contract"),
            rmst(synthetic_small, tau=24, group_col="contract"),
            fit_parametric(synthetic_small, models=["weibull", "spline"]),
            cohort_survival(synthetic_small, freq="year"),
        ]
    for res in results:
        ax = res.plot()
        assert ax.has_data() or ax.images, type(res).__name__
        plt.close("all")
    ax = results[4].plot(km=kaplan_meier(synthetic_small))
    assert any("extrapolation" in t.get_text() for t in ax.texts)
    plt.close("all")


def test_most_common_cause_and_cohort_input_errors(synthetic_small):
    from workbench.exceptions import DataValidationError
    from workbench.survival.findings import most_common_cause

    counts = synthetic_small.frame["churn_type"].value_counts()
    assert most_common_cause(synthetic_small) == counts.index[0]
    assert most_common_cause(synthetic_small, "price") == "price"
    with pytest.raises(ParameterError, match="no churn-cause column"):
        most_common_cause(_frame())
    with pytest.raises(DataValidationError, match="`start_col`='joined' is not a column"):
        cohort_survival(synthetic_small, start_col="joined")
    bad = synthetic_small.frame.assign(start_date="not a date")
    with pytest.raises(DataValidationError, match="are not dates"):
        cohort_survival(bad, duration_col="tenure", event_col="churned", start_col="start_date")
    month = cohort_survival(synthetic_small, freq="month", horizons=[3])
    assert month.tables["matrix"]["cohort"].str.match(r"^\d{4}-\d{2}$").all()


def test_fit_parametric_reference_levels_follow_the_one_rule():
    """fit_parametric uses fit_cox's reference rule and term names, and accepts reference=."""
    from workbench.survival import fit_cox

    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "t": rng.exponential(10, n) + 0.1,
            "e": (rng.random(n) < 0.7).astype(int),
            "plan": rng.choice(["pro", "basic", "plus"], n),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        par = fit_parametric(
            df, duration_col="t", event_col="e", covariates=["plan"], models=["weibull"]
        )
        cox = fit_cox(df, duration_col="t", event_col="e", covariates=["plan"])
        chosen = fit_parametric(
            df, duration_col="t", event_col="e", covariates=["plan"], models=["weibull"],
            reference={"plan": "pro"},
        )  # fmt: skip
    assert par.meta["reference_levels"] == cox.meta["reference_levels"] == {"plan": "basic"}
    assert chosen.meta["reference_levels"] == {"plan": "pro"}
    assert list(par.coefficients["term"])[1:3] == ["plan[plus]", "plan[pro]"]
    assert list(chosen.coefficients["term"])[1:3] == ["plan[basic]", "plan[plus]"]
    with pytest.raises(ParameterError, match="not a level of 'plan'"):
        fit_parametric(df, duration_col="t", event_col="e", covariates=["plan"],
                       models=["weibull"], reference={"plan": "gold"})  # fmt: skip
