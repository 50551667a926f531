"""sBG model: published cohorts, R reference, parameter recovery, DERL, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import DataValidationError, ModelError, ParameterError, SmallSampleWarning
from workbench.value import (
    fit_sbg,
    fit_sbg_cohorts,
    fit_sbg_customers,
    sbg_derl,
    simulate_sbg_survivors,
)
from workbench.value.sbg import sbg_retention_rate, sbg_survival

REF = Path(__file__).resolve().parents[1] / "reference" / "value"

# Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. Journal of Interactive
# Marketing 21(1), 76-90: survivors of 1,000 customers over 7 years, "regular" and "high end"
# segments, and the ML estimates the paper reports from these 7 years.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    "survivors, alpha, beta", [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)]
)
def test_published_estimates_fader_hardie_2007(survivors, alpha, beta):
    """Fader & Hardie (2007), section "Estimating model parameters": regular alpha=0.704, beta=1.182;
    high end alpha=0.668, beta=3.806 — reproduced to the 3 decimals published."""
    r = fit_sbg(survivors)
    assert round(r.alpha_, 3) == alpha
    assert round(r.beta_, 3) == beta


def test_matches_r_optim_reference():
    """R: optim() on the same log likelihood, optimHess for the covariance; DERL by direct summation
    (tests/reference/value/sbg.R)."""
    ref = pd.read_csv(REF / "sbg_reference.csv").set_index("cohort")
    for name, s in (("regular", REGULAR), ("high_end", HIGH_END)):
        r = fit_sbg(s)
        row = ref.loc[name]
        assert r.alpha_ == pytest.approx(row["alpha"], rel=1e-6)
        assert r.beta_ == pytest.approx(row["beta"], rel=1e-6)
        assert r.log_likelihood_ == pytest.approx(row["log_likelihood"], abs=1e-6)
        assert np.sqrt(r.cov_log_[0, 0]) == pytest.approx(row["se_log_alpha"], rel=1e-3)
        assert np.sqrt(r.cov_log_[1, 1]) == pytest.approx(row["se_log_beta"], rel=1e-3)
        assert r.cov_log_[0, 1] == pytest.approx(row["cov_log"], rel=1e-3)
        d = r.derl(0.10, renewals=[0, 4]).set_index("renewals")["estimate"]
        assert d[0] == pytest.approx(row["derl_d10_n1"], rel=1e-6)
        assert d[4] == pytest.approx(row["derl_d10_n5"], rel=1e-6)
        assert float(r.survival(12)) == pytest.approx(row["survival_t12"], rel=1e-6)


@pytest.mark.parametrize("a, b, seed", [(0.7, 1.2, 1), (1.5, 4.0, 2), (3.0, 12.0, 3)])
def test_parameter_recovery_from_simulated_counts(a, b, seed):
    s = simulate_sbg_survivors(a, b, cohort_size=20_000, periods=10, seed=seed)
    r = fit_sbg(s)
    summ = r.summary.set_index("term")
    for name, true in (("alpha", a), ("beta", b)):
        assert summ.loc[name, "ci_lower"] < true < summ.loc[name, "ci_upper"], (name, summ)
        assert summ.loc[name, "estimate"] == pytest.approx(true, rel=0.12)


@pytest.mark.slow
def test_ci_coverage_over_replicates():
    """95% CIs of alpha cover the truth in roughly 95% of 60 simulated cohorts."""
    cover = 0
    for seed in range(60):
        s = simulate_sbg_survivors(1.0, 2.5, cohort_size=2_000, periods=6, seed=100 + seed)
        summ = fit_sbg(s).summary.set_index("term")
        cover += summ.loc["alpha", "ci_lower"] < 1.0 < summ.loc["alpha", "ci_upper"]
    assert 50 <= cover <= 60


def test_customer_level_fit_equals_count_fit():
    """Customer-level renewals without censoring carry the same likelihood as the survivor counts."""
    s = np.array(REGULAR, dtype=float)
    lost = -np.diff(s)
    churn_period = np.repeat(np.arange(1, 8), lost.astype(int))
    tenure = np.r_[churn_period - 0.5, np.full(int(s[-1]), 7.0)]
    event = np.r_[np.ones(churn_period.size), np.zeros(int(s[-1]))]
    r = fit_sbg_customers(pd.DataFrame({"t": tenure, "e": event}), duration_col="t", event_col="e")
    r0 = fit_sbg(REGULAR)
    assert r.alpha_ == pytest.approx(r0.alpha_, rel=1e-5)
    assert r.beta_ == pytest.approx(r0.beta_, rel=1e-5)
    assert r.log_likelihood_ == pytest.approx(r0.log_likelihood_, abs=1e-6)


def test_retention_curve_and_projection_consistent():
    r = fit_sbg(REGULAR)
    p = r.project(12, cohort_size=1000)
    t = np.arange(1, 13)
    assert np.allclose(
        p["retention_rate"].iloc[1:],
        sbg_survival(t, r.alpha_, r.beta_) / sbg_survival(t - 1, r.alpha_, r.beta_),
    )
    assert np.all(np.diff(sbg_retention_rate(t, r.alpha_, r.beta_)) > 0)
    assert np.all((p["ci_lower"] <= p["survival"]) & (p["survival"] <= p["ci_upper"]))
    assert p["survivors"].iloc[7] == pytest.approx(1000 * float(r.survival(7)))


def test_derl_closed_form_equals_series():
    a, b, d = 0.9, 2.3, 0.07
    for n in (1, 3, 8):
        t = np.arange(n, n + 5000)
        series = np.sum(sbg_survival(t, a, b) / sbg_survival(n - 1, a, b) / (1 + d) ** (t - n))
        assert sbg_derl(a, b, d, renewals=n - 1) == pytest.approx(series, rel=1e-10)


def test_cohorts_from_synthetic_data(synthetic_small):
    with pytest.warns(SmallSampleWarning, match="2025"):
        r = fit_sbg_cohorts(synthetic_small, cohort="year", period_length=3)
    assert r.meta["skipped"] == ["2025"]  # joined within the last 3 months: no full period yet
    for fit in r.fits.values():
        f = fit.tables["fit"]
        assert np.max(np.abs(f["fitted"] - f["observed"]) / f["observed"].iloc[0]) < 0.03
    assert {"cohort", "alpha", "beta", "log_likelihood"} <= set(r.summary.columns)
    assert (r.summary["alpha"] > 0).all() and (r.summary["beta"] > 0).all()
    assert np.isfinite(r.summary["log_likelihood"]).all()


def test_telco_has_no_cohorts_fits_one(telco):
    with pytest.warns(UserWarning, match="no start-date column"):
        r = fit_sbg_cohorts(telco, period_length=12)
    assert r.summary["cohort"].tolist() == ["all customers"]


# ------------------------------------------------------------------------------------------------ bad input
def test_increasing_counts_rejected():
    with pytest.raises(DataValidationError, match=r"increase from period 2 to 3 \(468 -> 500\)"):
        fit_sbg([1000, 631, 468, 500, 326])


def test_too_short_cohort_rejected():
    with pytest.raises(ModelError, match="at least 2 later survivor counts"):
        fit_sbg([1000, 631])


def test_no_churn_rejected():
    with pytest.raises(ModelError, match="no churn"):
        fit_sbg([100, 100, 100])


def test_small_cohort_warns():
    with pytest.warns(SmallSampleWarning, match="only 20 customers"):
        r = fit_sbg([20, 12, 9, 7])
    assert any("only 20 customers" in w for w in r.warnings)


def test_too_small_cohorts_all_skipped(synthetic_small):
    with (
        pytest.raises(ModelError, match="no cohort could be fitted"),
        pytest.warns(SmallSampleWarning),
    ):
        fit_sbg_cohorts(synthetic_small, min_cohort_size=10_000)


@pytest.mark.parametrize("rate", [0.0, 1.0, 10, -0.1])
def test_discount_rate_outside_unit_interval(rate):
    with pytest.raises(ParameterError, match=r"must be in \(0, 1\)"):
        fit_sbg(REGULAR).derl(rate)


# ------------------------------------------------------------------------------------------------ findings
def _cohorts_result(rows):
    from workbench.value import SBGCohortsResult

    return SBGCohortsResult(pd.DataFrame(rows), {}, {"alpha": 0.05}, [])


def _row(a, b, converged=True, periods=7, cohort="2024"):
    return {
        "cohort": cohort,
        "alpha": a,
        "beta": b,
        "mean_churn": a / (a + b),
        "converged": converged,
        "retention_first_period": float(sbg_retention_rate(1, a, b)),
        "retention_last_period": float(sbg_retention_rate(periods, a, b)),
    }


def test_sbg_finding_says_rise_only_when_the_fitted_rates_rise():
    from workbench.value import key_findings

    # Fader & Hardie's "regular" cohort: strong heterogeneity, the retention rate climbs
    (rise,) = key_findings(sbg=_cohorts_result([_row(0.704, 1.182)]))
    assert (
        "rise with tenure" in rise.text and "from 62.7% in the first period to 91.1%" in rise.text
    )
    # nearly homogeneous customers: alpha, beta large, the retention rate barely moves
    (flat,) = key_findings(sbg=_cohorts_result([_row(200.0, 800.0)]))
    assert "rise" not in flat.text and "nearly constant" in flat.text
    # a fit that did not converge is a caveat, never a projection
    (bad,) = key_findings(sbg=_cohorts_result([_row(0.7, 1.2, converged=False)]))
    assert bad.kind == "caveat" and "did not converge" in bad.text and "rise" not in bad.text


def test_sbg_fit_records_convergence_and_the_fitted_rates(synthetic_small):
    r = fit_sbg_cohorts(synthetic_small, cohort="year", period_length=3)
    s = r.summary
    assert s["converged"].all() and r.meta["converged"] is True
    assert (s["retention_last_period"] >= s["retention_first_period"]).all()
