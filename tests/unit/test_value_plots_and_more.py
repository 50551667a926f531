"""Every result draws (Agg backend) and returns its Axes; lifetime horizon; Cox-based customer value;
cohort survivor counts consistent with the cohort table."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from workbench import retention as R  # noqa: E402
from workbench.exceptions import ExtrapolationWarning  # noqa: E402
from workbench.value import (  # noqa: E402
    clv_by_segment,
    fit_sbg,
    fit_sbg_cohorts,
    key_findings,
    lorenz_curve,
    predict_clv,
    validate_health_score,
    value_matrix,
)


@pytest.fixture(scope="module")
def results(synthetic_small):
    ds = synthetic_small
    with pytest.warns(ExtrapolationWarning):
        cv = predict_clv(ds, horizon_months=24, effect_hr=0.8)
    out = {
        "rates": R.period_rates(ds),
        "lifecycle": R.lifecycle_rates(ds),
        "lifecycle_grouped": R.lifecycle_rates(ds, group_col="segment"),
        "causes": R.churn_by_cause(ds),
        "segments": R.rates_by_segment(ds),
        "cohorts": R.cohort_table(ds),
        "clv": clv_by_segment(ds, horizon_months=24, n_boot=10),
        "customers": cv,
        "lorenz": lorenz_curve(cv),
        "sbg": fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241]),
        "health": validate_health_score(ds, n_boot=0),
    }
    with pytest.warns(UserWarning):
        out["matrix"] = value_matrix(cv)
    with pytest.warns(UserWarning):
        out["sbg_cohorts"] = fit_sbg_cohorts(ds, period_length=3)
    return out


@pytest.mark.parametrize(
    "name",
    [
        "rates",
        "lifecycle",
        "lifecycle_grouped",
        "causes",
        "segments",
        "cohorts",
        "clv",
        "customers",
        "lorenz",
        "sbg",
        "health",
        "matrix",
        "sbg_cohorts",
    ],
)
def test_every_result_plots_and_renders(results, name):
    r = results[name]
    fig, ax = plt.subplots()
    assert r.plot(ax=ax) is ax
    assert ax.has_data() or ax.images
    plt.close(fig)
    html = r._repr_html_()
    assert "<table" in html and "customer_id" not in r.summary.columns


def test_unavailable_results_plot_a_message(telco):
    with pytest.warns(R.UnavailableWarning):
        r = R.cohort_table(telco)
    fig, ax = plt.subplots()
    assert r.plot(ax=ax) is ax
    assert "unavailable" in ax.texts[0].get_text()
    plt.close(fig)


def test_value_key_findings(results):
    f = key_findings(
        clv=results["clv"],
        sbg=results["sbg_cohorts"],
        matrix=results["matrix"],
        lorenz=results["lorenz"],
        health=results["health"],
    )
    assert len(f) >= 6
    assert any("Type IV" in x.text for x in f) and any("AUC" in x.text for x in f)


def test_whole_lifetime_is_extrapolated_beyond_followup(synthetic_small):
    with pytest.warns(ExtrapolationWarning):
        inf = clv_by_segment(synthetic_small, horizon_months=math.inf, n_boot=0)
    with pytest.warns(
        ExtrapolationWarning, match="enterprise"
    ):  # its follow-up ends before 48 months
        fin = clv_by_segment(synthetic_small, horizon_months=48, n_boot=0)
    row = inf.summary.set_index("group").loc["all"]
    assert row["tail_share"] > 0 and math.isfinite(row["estimate"])
    assert row["estimate"] > fin.summary.set_index("group").loc["all", "estimate"]


def test_cox_and_weibull_customer_values_agree_on_average(synthetic_small):
    with pytest.warns(ExtrapolationWarning):
        w = predict_clv(synthetic_small, horizon_months=24)
    with pytest.warns(ExtrapolationWarning):
        c = predict_clv(synthetic_small, horizon_months=24, model="cox")
    a = w.tables["customers"]["value_new"]
    b = c.tables["customers"]["value_new"]
    assert a.mean() == pytest.approx(b.mean(), rel=0.05)
    assert np.corrcoef(a, b)[0, 1] > 0.9


def test_cohort_survivors_match_cohort_table(synthetic_small):
    counts = R.cohort_survivors(synthetic_small, cohort="year", period_length=12)
    table = R.cohort_table(synthetic_small, cohort="year", max_months=60, step=12).tables["counts"]
    for cohort, s in counts.items():
        for k, v in enumerate(s):
            assert table.loc[cohort, 12 * k] == v
        # the first month not observable for every member is blank in the table
        if 12 * len(s) <= 60:
            assert np.isnan(table.loc[cohort, 12 * len(s)])


def test_compare_cltv_on_telco_and_unavailable_on_synthetic(telco, synthetic_small, results):
    from scipy import stats

    from workbench.value import compare_cltv

    with pytest.warns(ExtrapolationWarning):
        cv = predict_clv(telco, margin_rate=0.3, horizon_months=24)
    r = compare_cltv(telco, cv)
    c = cv.tables["customers"].set_index("customer_id")["value_new"]
    ref = telco.frame.set_index("customer_id")["cltv"].reindex(c.index)
    assert r.meta["spearman"] == pytest.approx(stats.spearmanr(c, ref).statistic, abs=1e-12)
    assert r.summary["ci_lower"].iloc[0] < r.meta["spearman"] < r.summary["ci_upper"].iloc[0]
    assert r.summary["n"].iloc[0] == 7043
    fig, ax = plt.subplots()
    assert r.plot(ax=ax) is ax
    plt.close(fig)
    with pytest.warns(R.UnavailableWarning, match="no lifetime-value column"):
        u = compare_cltv(synthetic_small, results["customers"])
    assert u.meta["available"] is False
    with pytest.raises(Exception, match="`value_col` must be one of"):
        compare_cltv(telco, cv, value_col="nope")
