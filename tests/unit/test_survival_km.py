"""Kaplan-Meier, median, horizons and RMST: properties, truth recovery, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import true_rmst, true_survival
from workbench.exceptions import (
    DataQualityWarning,
    DataValidationError,
    ExtrapolationWarning,
    ParameterError,
    RowsExcludedWarning,
    SmallSampleWarning,
)
from workbench.survival import kaplan_meier, km_estimate, rmst, rmst_from_curve


def _toy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t": [1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10],
            "e": [1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0],
            "g": list("aabbaabbaabb"),
        }
    )


@pytest.mark.parametrize("ci_scale", ["log", "log-log", "plain"])
def test_curves_are_valid_survival_curves(synthetic_small, ci_scale):
    km = kaplan_meier(synthetic_small, group_col="contract", ci_scale=ci_scale)
    for _, cur in km.curves.groupby("group"):
        s = cur["survival"].to_numpy()
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 0)
        assert np.all(cur["ci_lower"] <= s + 1e-12) and np.all(s <= cur["ci_upper"] + 1e-12)
        assert np.all(np.isfinite(cur[["ci_lower", "ci_upper"]].to_numpy()))
    assert km.summary["n"].sum() == synthetic_small.n
    assert km.summary["events"].sum() == synthetic_small.events


def test_km_estimate_matches_hand_computation():
    # times 1..: S = prod(1 - d/n): at 1: 11/12; at 2: *(1 - 1/11)
    r = km_estimate(_toy()["t"], _toy()["e"])
    assert r["time"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert r["at_risk"].tolist() == [12, 11, 9, 8, 6, 5, 4, 3, 2, 1]
    np.testing.assert_allclose(r["survival"][:2], [11 / 12, 11 / 12 * 10 / 11], rtol=1e-14)
    np.testing.assert_allclose(r["greenwood"][1], 1 / (12 * 11) + 1 / (11 * 10), rtol=1e-14)


def test_weights_equal_to_replicated_rows():
    df = _toy()
    df["w"] = [1, 2, 3, 1, 1, 2, 1, 1, 3, 1, 2, 1]
    rep = df.loc[df.index.repeat(df["w"])]
    a = kaplan_meier(df, duration_col="t", event_col="e", weights_col="w")
    b = kaplan_meier(rep, duration_col="t", event_col="e")
    np.testing.assert_allclose(a.curves["survival"], b.curves["survival"], rtol=1e-12)
    np.testing.assert_allclose(a.curves["ci_lower"], b.curves["ci_lower"], rtol=1e-12)
    assert a.curves["n_at_risk"].iloc[0] == len(df)  # unweighted counts kept for the at-risk table


def test_at_reads_the_step_function_and_number_at_risk():
    km = kaplan_meier(_toy(), duration_col="t", event_col="e")
    at = km.at([0.5, 2, 2.5])
    c = km.curves.set_index("time")
    assert at["survival"].tolist() == [1.0, c.loc[2, "survival"], c.loc[2, "survival"]]
    assert at["at_risk"].tolist() == [12, 11, 9]  # tenure >= t


def test_km_recovers_true_marginal_survival(synthetic_small):
    """Follow-up is independent of covariates, so KM estimates the population's mean true survival."""
    horizons = [6, 12, 24]
    km = kaplan_meier(synthetic_small, alpha=0.01, times=horizons)
    truth = true_survival(synthetic_small.frame, horizons, synthetic_small.truth).mean(axis=0)
    at = km.tables["at_times"]
    assert np.all(at["ci_lower"].to_numpy() <= truth) and np.all(truth <= at["ci_upper"].to_numpy())
    np.testing.assert_allclose(at["survival"], truth, atol=0.02)


def test_rmst_recovers_truth_and_has_sensible_se(synthetic_small):
    r = rmst(synthetic_small, tau=24, alpha=0.01)
    truth = true_rmst(synthetic_small.frame, 24, synthetic_small.truth).mean()
    row = r.summary.iloc[0]
    assert row["ci_lower"] <= truth <= row["ci_upper"]
    km = kaplan_meier(synthetic_small)
    assert row["estimate"] == pytest.approx(
        rmst_from_curve(km.curves["time"], km.curves["survival"], 24), rel=1e-12
    )


def test_rmst_from_curve_area():
    assert rmst_from_curve([1.0, 2.0], [0.5, 0.25], 3.0) == pytest.approx(1 + 0.5 + 0.25)
    assert rmst_from_curve([5.0], [0.5], 2.0) == pytest.approx(2.0)


def test_rmst_difference_and_ratio(synthetic_small):
    r = rmst(synthetic_small, tau=24, group_col="contract")
    s = r.summary.set_index("group")
    d = r.difference().set_index("group")
    assert d.loc["two_year", "estimate"] == pytest.approx(
        s.loc["two_year", "estimate"] - s.loc["month_to_month", "estimate"]
    )
    assert d.loc["two_year", "se"] == pytest.approx(
        np.hypot(s.loc["two_year", "se"], s.loc["month_to_month", "se"])
    )
    q = r.ratio(reference="one_year").set_index("group")
    assert set(q.index) == {"month_to_month", "two_year"}
    est = s.loc["two_year", "estimate"] / s.loc["one_year", "estimate"]
    assert q.loc["two_year", "estimate"] == pytest.approx(est)
    assert q.loc["two_year", "ci_lower"] < est < q.loc["two_year", "ci_upper"]
    assert d.loc["two_year", "ci_lower"] > 0  # switching costs: longer stay in the true model


# ----------------------------------------------------------------------------------- bad input
def test_bad_arguments_raise_named_errors(synthetic_small):
    with pytest.raises(ParameterError, match="`alpha` must be"):
        kaplan_meier(synthetic_small, alpha=1.5)
    with pytest.raises(ParameterError, match="`ci_scale` must be one of"):
        kaplan_meier(synthetic_small, ci_scale="logit")
    with pytest.raises(ParameterError, match="`variance` must be 'greenwood', 'robust'"):
        kaplan_meier(synthetic_small, variance="jackknife")
    with pytest.raises(
        DataValidationError, match="'contrct' is not a column.*Did you mean 'contract'"
    ):
        kaplan_meier(synthetic_small, group_col="contrct")
    with pytest.raises(ParameterError, match="`duration_col` is required"):
        kaplan_meier(_toy())
    with pytest.raises(ParameterError, match="must be a workbench Dataset or a pandas DataFrame"):
        kaplan_meier([1, 2, 3])
    with pytest.raises(ParameterError, match="`times` must be"):
        kaplan_meier(synthetic_small, times=[-1])
    with pytest.raises(ParameterError, match="`tau` must be a positive number"):
        rmst(synthetic_small, tau=0)
    with pytest.raises(ParameterError, match="need at least two groups"):
        rmst(synthetic_small, tau=12).difference()
    with pytest.raises(ParameterError, match="is not a group"):
        rmst(synthetic_small, tau=12, group_col="contract").difference(reference="nope")


def test_bad_data_raise_named_errors():
    df = _toy()
    with pytest.raises(DataValidationError, match="negative tenure"):
        kaplan_meier(df.assign(t=df["t"] - 3), duration_col="t", event_col="e")
    with pytest.raises(DataValidationError, match="event_col.*not 0 or 1"):
        kaplan_meier(df.assign(e=df["e"] * 2), duration_col="t", event_col="e")
    with pytest.raises(DataValidationError, match="duration_col.*text"):
        kaplan_meier(df.assign(t=df["t"].astype(str)), duration_col="t", event_col="e")
    with pytest.raises(DataValidationError, match="event_col.*not 0 or 1"):
        kaplan_meier(
            df.assign(e=np.where(df["e"] == 1, "yes", "no")), duration_col="t", event_col="e"
        )
    with pytest.raises(DataValidationError, match="finite and >= 0"):
        kaplan_meier(df.assign(w=-1.0), duration_col="t", event_col="e", weights_col="w")
    with pytest.raises(DataValidationError, match="no rows"):
        kaplan_meier(df.iloc[:0], duration_col="t", event_col="e")


def test_small_groups_and_all_censored_warn_and_reach_result():
    df = pd.DataFrame(
        {"t": [1, 2, 3, 4, 5, 6], "e": [0, 0, 0, 1, 1, 0], "g": ["a", "a", "a", "b", "b", "c"]}
    )
    with pytest.warns(SmallSampleWarning) as rec:
        km = kaplan_meier(df, duration_col="t", event_col="e", group_col="g")
    msgs = " ".join(str(r.message) for r in rec)
    assert "group 'a' has no churn events" in msgs and "group 'c' has a single customer" in msgs
    assert any("no churn events" in w for w in km.warnings)
    a = km.summary.set_index("group").loc["a"]
    assert np.isnan(a["median"]) and "median not reached" in a["note"]
    assert (km.curves.loc[km.curves["group"] == "a", "survival"] == 1).all()


def test_zero_tenure_and_missing_rows_are_reported():
    df = _toy().assign(w=1.0)
    df.loc[0, "t"] = 0
    df.loc[1, "w"] = np.nan  # a missing weight excludes the row; missing tenure / churn is refused
    with pytest.warns(RowsExcludedWarning, match="1 of 12 rows excluded"):
        with pytest.warns(DataQualityWarning, match="tenure 0"):
            km = kaplan_meier(df, duration_col="t", event_col="e", weights_col="w")
    assert km.meta["n_excluded"] == 1 and km.meta["n"] == 11
    assert km.curves["time"].iloc[0] == 0 and km.curves["survival"].iloc[0] == pytest.approx(
        10 / 11
    )


def test_horizon_beyond_follow_up_warns_not_silent():
    km = kaplan_meier(_toy(), duration_col="t", event_col="e")
    with pytest.warns(ExtrapolationWarning, match="beyond its last follow-up"):
        at = km.at([5, 50])
    assert np.isnan(at["survival"].iloc[1]) and "beyond" in at["note"].iloc[1]
    with pytest.warns(ExtrapolationWarning, match="beyond the last follow-up"):
        r = rmst(_toy(), duration_col="t", event_col="e", tau=50)
    assert r.warnings


def test_plot_draws_curves_and_at_risk_table(synthetic_small):
    import matplotlib

    matplotlib.use("Agg")
    km = kaplan_meier(synthetic_small, group_col="contract")
    ax = km.plot()
    assert len(ax.get_lines()) >= 3
    texts = [t.get_text() for t in ax.texts]
    assert "Number at risk" in texts
    n0 = km.curves.groupby("group")["at_risk"].first()
    assert f"{n0['one_year']:,}" in texts
    import matplotlib.pyplot as plt

    plt.close("all")
