"""Competing churn causes: properties, bad input and warnings, plots.

Agreement with R cmprsk is in ``test_competing_reference.py``.
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import (
    CollinearityWarning,
    DataQualityWarning,
    ModelError,
    ParameterError,
    SeparationWarning,
    SmallSampleWarning,
)
from workbench.survival import cumulative_incidence, fine_gray, gray_test
from workbench.survival.cox import fit_cox

matplotlib.use("Agg")

KW = {"duration_col": "time", "event_col": "event", "cause_col": "cause"}


def _toy(n=300, seed=1, ties=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(["a", "b"], n)
    t1 = rng.exponential(np.exp(-0.6 * x))
    t2 = rng.exponential(1.5 * np.exp(0.3 * x), n)
    c = rng.exponential(2.0, n)
    t = np.minimum(np.minimum(t1, t2), c)
    if ties:
        t = np.ceil(t * 10) / 10
    event = (np.minimum(t1, t2) <= c).astype(int)
    cause = np.where(event == 1, np.where(t1 < t2, "price", "competitor"), None)
    return pd.DataFrame(
        {"time": t, "event": event, "cause": cause, "x": x, "g": g, "id": np.arange(n)}
    )


# ------------------------------------------------------------------------------ properties
def test_cifs_and_km_add_up_to_one():
    """Aalen-Johansen: sum of the cause-specific CIFs = 1 - all-cause Kaplan-Meier (lifelines)."""
    from lifelines import KaplanMeierFitter

    df = _toy()
    res = cumulative_incidence(df, **KW)
    grid = np.unique(df["time"])
    total = res.at(grid).groupby("time")["estimate"].sum().to_numpy()
    km = (
        KaplanMeierFitter().fit(df["time"], df["event"]).survival_function_at_times(grid).to_numpy()
    )
    np.testing.assert_allclose(total, 1 - km, rtol=1e-10, atol=1e-12)


def test_single_cause_cif_is_one_minus_km():
    from lifelines import KaplanMeierFitter

    df = _toy()
    df["cause"] = np.where(df["event"] == 1, "any", None)
    res = cumulative_incidence(df, **KW)
    c = res.curves
    km = (
        KaplanMeierFitter()
        .fit(df["time"], df["event"])
        .survival_function_at_times(c["time"])
        .to_numpy()
    )
    np.testing.assert_allclose(c["estimate"], 1 - km, rtol=1e-10, atol=1e-12)


def test_curves_are_valid_and_at_handles_the_boundaries():
    df = _toy()
    res = cumulative_incidence(df, **KW, group_col="g", times=[0.5, 1.0])
    c = res.curves
    assert list(c.columns) == ["cause", "group", "time", "estimate", "se", "ci_lower", "ci_upper"]
    for _, cc in c.groupby(["cause", "group"]):
        assert (np.diff(cc["estimate"]) >= 0).all() and cc["estimate"].iloc[0] == 0
    inner = c[c["estimate"] > 0]
    assert (
        (inner["ci_lower"] <= inner["estimate"]) & (inner["estimate"] <= inner["ci_upper"])
    ).all()
    assert ((inner["ci_lower"] > 0) & (inner["ci_upper"] < 1)).all()
    assert len(res.summary) == 2 * 2 * 2 and set(res.summary["time"]) == {0.5, 1.0}
    at = res.at([0.0, 1e6])
    assert (at.loc[at["time"] == 0, "estimate"] == 0).all()
    assert at.loc[at["time"] == 1e6, "estimate"].isna().all()  # beyond follow-up: not extrapolated
    with pytest.raises(ParameterError, match="non-negative"):
        res.at([-1])


def test_wider_intervals_at_smaller_alpha():
    df = _toy()
    a = cumulative_incidence(df, **KW, alpha=0.05).curves
    b = cumulative_incidence(df, **KW, alpha=0.01).curves
    inner = a["estimate"].between(1e-9, 1 - 1e-9)
    assert (b.loc[inner, "ci_lower"] < a.loc[inner, "ci_lower"]).all()
    assert (b.loc[inner, "ci_upper"] > a.loc[inner, "ci_upper"]).all()


def test_fine_gray_without_competing_events_is_breslow_cox_with_robust_se():
    """With one cause the IPCW risk set is the Cox risk set; crr's sandwich is Lin-Wei's."""
    df = _toy()
    df["cause"] = np.where(df["event"] == 1, "any", None)
    fg = fine_gray(df, **KW, cause="any", covariates=["x", "g"])
    cox = fit_cox(
        df,
        duration_col="time",
        event_col="event",
        covariates=["x", "g"],
        ties="breslow",
        cluster_col="id",
    )
    np.testing.assert_allclose(fg.summary["estimate"], cox.summary["estimate"], rtol=1e-8)
    np.testing.assert_allclose(fg.summary["se"], cox.summary["se"], rtol=1e-8)


def test_defaults_from_dataset_spec(synthetic_small):
    res = cumulative_incidence(synthetic_small, group_col="contract", times=[6, 12, 24])
    assert res.meta["cause_col"] == "churn_type"
    assert set(res.meta["causes"]) == {
        "competitive",
        "price",
        "service_fault",
        "natural",
        "involuntary",
    }
    assert list(res.curves["group"].unique()) == ["month_to_month", "one_year", "two_year"]
    g = gray_test(synthetic_small, group_col="contract")
    comp = g.summary.set_index("cause").loc["competitive"]
    assert comp["df"] == 2 and comp["p_value"] < 1e-6  # contracts protect against competitive churn
    fg = fine_gray(synthetic_small, cause="competitive", covariates=["contract"])
    assert (fg.summary["hazard_ratio"] < 1).all() and fg.meta["competing_events"] > 0


# ------------------------------------------------------------------------------ bad input
def test_cause_that_never_occurs():
    with pytest.raises(ParameterError, match=r"'fraud' never occurs.*competitor"):
        fine_gray(_toy(), **KW, cause="fraud", covariates=["x"])


def test_missing_cause_among_churners_is_named():
    df = _toy()
    df.loc[df.index[df["event"] == 1][:5], "cause"] = None
    with pytest.warns(DataQualityWarning, match="5 churned customers have no churn cause"):
        res = cumulative_incidence(df, **KW)
    assert "unknown" in res.meta["causes"] and res.meta["events_by_cause"]["unknown"] == 5


def test_all_censored_and_group_without_events():
    df = _toy()
    with pytest.raises(ModelError, match="every customer is censored"):
        cumulative_incidence(df.assign(event=0), **KW)
    df.loc[df["g"] == "b", "event"] = 0
    with pytest.warns(SmallSampleWarning, match="Group 'b' has no churn events"):
        res = cumulative_incidence(df, **KW, group_col="g")
    assert (res.curves.loc[res.curves["group"] == "b", "estimate"] == 0).all()


def test_gray_test_needs_two_groups():
    df = _toy()
    with pytest.raises(ParameterError, match="needs at least 2"):
        gray_test(df.assign(g="a"), **KW, group_col="g")
    with pytest.raises(ParameterError, match="`group_col` is required"):
        gray_test(df, **KW, group_col=None)
    with pytest.raises(ParameterError, match="not found"):
        gray_test(df, **KW, group_col="segment")


def test_fine_gray_bad_covariates():
    df = _toy()
    df["const"] = 1.0
    with pytest.warns(CollinearityWarning, match="'const' dropped from the Fine-Gray model"):
        res = fine_gray(df, **KW, cause="price", covariates=["x", "const"])
    assert list(res.summary["term"]) == ["x"]
    with pytest.raises(ParameterError, match="non-empty list"):
        fine_gray(df, **KW, cause="price", covariates=[])
    with pytest.raises(ParameterError, match=r"`reference`='z' is not a level of 'g'"):
        fine_gray(df, **KW, cause="price", covariates=["g"], reference={"g": "z"})
    with pytest.warns(SmallSampleWarning, match="events of cause"):
        fine_gray(_toy(n=30), **KW, cause="price", covariates=["x", "g"])


# ------------------------------------------------------------------------------ plots
def test_plots():
    import matplotlib.pyplot as plt

    df = _toy()
    res = cumulative_incidence(df, **KW)
    ax = res.plot()  # stacked
    assert len(ax.collections) == 2 and ax.get_ylim()[0] == 0
    ax2 = cumulative_incidence(df, **KW, group_col="g").plot(causes=["price"])
    assert len(ax2.get_lines()) == 2
    fg = fine_gray(df, **KW, cause="price", covariates=["x", "g"])
    ax3 = fg.plot()
    assert [t.get_text() for t in ax3.get_yticklabels()] == list(fg.summary["term"])
    plt.close("all")


def test_results_carry_the_shared_columns():
    df = _toy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fg = fine_gray(df, **KW, cause="price", covariates=["x"])
        g = gray_test(df, **KW, group_col="g")
    assert {
        "cause",
        "term",
        "estimate",
        "se",
        "hazard_ratio",
        "hr_ci_lower",
        "ci_lower",
        "ci_upper",
        "p_value",
    } <= set(fg.summary.columns)
    assert list(g.summary.columns) == ["cause", "statistic", "df", "p_value"]
    assert fg.records()[0]["cause"] == "price"


def test_tiny_group_and_zero_tenure_are_handled():
    df = _toy()
    df.loc[0, "g"] = "solo"
    df.loc[1, "time"] = 0.0
    with pytest.warns(SmallSampleWarning, match="Group 'solo' has only 1 customer"):
        res = cumulative_incidence(df, **KW, group_col="g")
    assert np.isfinite(res.curves["estimate"]).all()
    with pytest.warns(SmallSampleWarning, match="Gray's test leans on large-sample"):
        g = gray_test(df, **KW, group_col="g")
    assert g.summary["df"].eq(2).all() and g.warnings


def test_fine_gray_monotone_likelihood_is_named():
    """A covariate equal to 1 exactly for the early churners of the cause: infinite MLE."""
    df = _toy()
    df["early"] = ((df["cause"] == "price") & (df["time"] <= 0.2)).astype(int)
    with pytest.warns(SeparationWarning, match="Monotone likelihood for 'early'"):
        res = fine_gray(df, **KW, cause="price", covariates=["x", "early"])
    assert any("'early'" in w for w in res.warnings)
    assert not any("'x'" in w for w in res.warnings)
