"""Retention rates, lifecycle stages, causes, segments and cohort tables: hand-computed examples,
the synthetic truth, Telco without start dates, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import retention as R
from workbench.config import DAYS_PER_MONTH
from workbench.exceptions import CoarseTenureWarning, DataValidationError, ParameterError
from workbench.findings import Finding


def _customers(rows, analysis="2024-12-31"):
    """rows: (start date, end date or None if still active at the analysis date, churned)."""
    end_default = pd.Timestamp(analysis)
    starts = pd.to_datetime([r[0] for r in rows])
    ends = pd.to_datetime([r[1] if r[1] else end_default for r in rows])
    tenure = (ends - starts).days / DAYS_PER_MONTH
    return pd.DataFrame({"start": starts, "tenure": tenure, "churned": [r[2] for r in rows]})


HAND = _customers(
    [
        ("2024-01-15", "2024-05-10", 1),  # at risk Q2 (joined Q1), churns in Q2
        ("2024-02-01", None, 0),  # active throughout
        ("2024-03-01", "2024-03-20", 1),  # joins and churns in Q1
        ("2024-04-10", "2024-06-01", 1),  # joins Q2 and churns in Q2: not in Q2 denominator
        ("2024-04-20", "2024-08-15", 1),  # at risk Q3, churns Q3
        ("2024-07-05", None, 0),  # joins Q3
    ]
)


def test_period_rates_hand_computed():
    r = R.period_rates(
        HAND,
        duration_col="tenure",
        event_col="churned",
        start_col="start",
        analysis_date="2024-12-31",
    )
    s = r.summary.set_index("period")
    # Q1: nobody active on 1 January; 3 joined, one of them churned in the quarter
    assert s.loc[
        "2024Q1", ["customers_at_risk", "churned", "joined", "joined_and_churned"]
    ].tolist() == [0, 0, 3, 1]
    assert np.isnan(s.loc["2024Q1", "estimate"])
    # Q2: customers 1 and 2 active on 1 April; customer 1 churns; joiners 4 (churns) and 5 outside
    assert s.loc[
        "2024Q2", ["customers_at_risk", "churned", "joined", "joined_and_churned"]
    ].tolist() == [2, 1, 2, 1]
    assert s.loc["2024Q2", "estimate"] == pytest.approx(0.5)
    assert s.loc["2024Q2", "retention_rate"] == pytest.approx(0.5)
    # Q3: customers 2 and 5 at risk; 5 churns
    assert s.loc["2024Q3", ["customers_at_risk", "churned", "joined"]].tolist() == [2, 1, 1]
    # Q4: customers 2 and 6 at risk; no churn
    assert s.loc["2024Q4", ["customers_at_risk", "churned"]].tolist() == [2, 0]
    assert s.loc["2024Q4", "retention_rate"] == 1.0
    assert s["complete"].all()
    assert "joiners within a period are outside its denominator" in r.meta["rule"]


def test_period_rates_monthly_and_incomplete_period():
    r = R.period_rates(
        HAND,
        period="month",
        duration_col="tenure",
        event_col="churned",
        start_col="start",
        analysis_date="2024-12-15",
    )
    s = r.summary.set_index("period")
    assert s.loc["2024-05", ["customers_at_risk", "churned"]].tolist() == [
        4,
        1,
    ]  # customers 1, 2, 4, 5
    assert not s.loc["2024-12", "complete"]
    assert any("2024-12" in w for w in r.warnings)


def test_period_rates_agree_with_simulated_hazard(synthetic):
    """Quarterly churn among customers active at the quarter's start is near the average of
    1 - S_i(a+3)/S_i(a) over the same customers computed from the true hazards."""
    from workbench.data import true_survival

    r = R.period_rates(synthetic, period="quarter")
    s = r.summary.set_index("period")
    f = synthetic.frame
    p0 = pd.Timestamp("2025-01-01")
    end = f["start_date"] + pd.to_timedelta(f["tenure"] * DAYS_PER_MONTH, unit="D")
    at = (f["start_date"] < p0) & (end >= p0)
    a = ((p0 - f.loc[at, "start_date"]).dt.days / DAYS_PER_MONTH).to_numpy()
    sub = f.loc[at]
    # conditional survival over the quarter from the true per-customer curves
    grid = np.arange(0, 73.0, 0.25)
    S = true_survival(sub, grid, synthetic.truth)
    s_a = np.array([np.interp(x, grid, row) for x, row in zip(a, S, strict=True)])
    s_b = np.array(
        [
            np.interp(min(x + 90 / DAYS_PER_MONTH, 72.0), grid, row)
            for x, row in zip(a, S, strict=True)
        ]
    )
    expected = np.mean(1 - s_b / s_a)
    assert s.loc["2025Q1", "customers_at_risk"] == int(at.sum())
    assert s.loc["2025Q1", "ci_lower"] - 0.005 < expected < s.loc["2025Q1", "ci_upper"] + 0.005


def test_lifecycle_life_table_hand_computed():
    df = pd.DataFrame(
        {"tenure": [1.0, 2.0, 2.5, 4.0, 5.0, 8.0, 13.0, 14.0], "churned": [1, 0, 1, 1, 0, 1, 0, 1]}
    )
    r = R.lifecycle_rates(df, stages=[0, 3, 12, np.inf], duration_col="tenure", event_col="churned")
    s = r.summary.set_index("stage")
    # 0-3: 8 at risk, churned 2 (1.0, 2.5), censored 1 (2.0): q = 2 / (8 - 0.5)
    assert s.loc["0-3", ["customers_at_risk", "churned", "censored"]].tolist() == [8, 2, 1]
    assert s.loc["0-3", "estimate"] == pytest.approx(2 / 7.5)
    assert s.loc["0-3", "customer_months"] == pytest.approx(1 + 2 + 2.5 + 3 * 5)
    assert s.loc["0-3", "monthly_churn_rate"] == pytest.approx(2 / 20.5)
    # 3-12: 5 at risk (4, 5, 8, 13, 14), churned 2 (4, 8), censored 1 (5)
    assert s.loc["3-12", ["customers_at_risk", "churned", "censored"]].tolist() == [5, 2, 1]
    assert s.loc["3-12", "estimate"] == pytest.approx(2 / 4.5)
    assert s.loc["3-12", "customer_months"] == pytest.approx(1 + 2 + 5 + 9 + 9)
    # 12+: 2 at risk, 1 churned, 1 censored
    assert s.loc["12+", ["customers_at_risk", "churned", "censored"]].tolist() == [2, 1, 1]
    assert s.loc["12+", "retention_rate"] == pytest.approx(1 - 1 / 1.5)


def test_lifecycle_by_group_and_peak_in_first_months(synthetic):
    r = R.lifecycle_rates(synthetic, group_col="segment")
    assert set(r.summary["group"]) == {"consumer", "small_business", "enterprise"}
    overall = R.lifecycle_rates(synthetic).summary.set_index("stage")
    # the simulated hazard peaks in the first months (onboarding faults, early non-payment)
    assert (
        overall.loc["0-3", "monthly_churn_rate"] > overall.loc["6-12", "monthly_churn_rate"] * 1.5
    )


def test_churn_by_cause_shares_and_rates():
    df = pd.DataFrame(
        {
            "t": [2.0, 4.0, 6.0, 8.0, 10.0],
            "e": [1, 1, 1, 0, 0],
            "why": ["price", "price", None, None, None],
        }
    )
    r = R.churn_by_cause(df, duration_col="t", event_col="e", cause_col="why")
    s = r.summary.set_index("cause")
    assert s.loc["price", "churned"] == 2 and s.loc["(unknown)", "churned"] == 1
    assert s.loc["price", "estimate"] == pytest.approx(2 / 3)
    assert s.loc["price", "proportion"] == pytest.approx(2 / 5)
    assert s.loc["price", "rate_per_100_months"] == pytest.approx(100 * 2 / 30)


def test_churn_by_cause_synthetic_matches_truth_ordering(synthetic):
    r = R.churn_by_cause(synthetic)
    s = r.summary.set_index("cause")
    assert s["estimate"].sum() == pytest.approx(1.0)
    assert set(s.index) == {"competitive", "price", "service_fault", "natural", "involuntary"}
    # natural churn has the smallest baseline hazard (0.0015 a month) and no covariate effects
    assert s.loc["natural", "rate_per_100_months"] == pytest.approx(0.15, abs=0.03)


def test_rates_by_segment_person_time(telco):
    r = R.rates_by_segment(telco)
    s = r.summary.set_index("group")
    f = telco.frame
    m = f["contract"] == "Month-to-Month"
    assert s.loc["Month-to-Month", "churned"] == int(f.loc[m, "churn_value"].sum())
    assert s.loc["Month-to-Month", "estimate"] == pytest.approx(
        f.loc[m, "churn_value"].sum() / f.loc[m, "tenure_in_months"].sum()
    )
    assert s.loc["Two Year", "estimate"] < s.loc["Month-to-Month", "estimate"]


def test_referral_rate(synthetic_small, telco):
    r = R.referral_rate(synthetic_small, group_col="segment")
    allrow = r.summary.set_index("group").loc["all"]
    assert allrow["estimate"] == pytest.approx((synthetic_small.frame["n_referrals"] > 0).mean())
    t = R.referral_rate(telco)
    assert t.meta["referral_col"] == "number_of_referrals"


def test_cohort_table_blank_when_censored():
    df = _customers(
        [
            ("2024-01-10", "2024-03-01", 1),
            ("2024-02-10", None, 0),
            ("2024-03-10", None, 0),
            ("2024-07-10", None, 0),  # Q3 cohort: observable to month 5 at 2024-12-31
            ("2024-08-20", None, 0),  # joined 4.4 months before the analysis date
        ]
    )
    r = R.cohort_table(
        df,
        duration_col="tenure",
        event_col="churned",
        start_col="start",
        max_months=8,
        analysis_date="2024-12-31",
    )
    pct = r.tables["retention_pct"]
    # Q1 cohort: customer 1 churned after 1.7 months -> 2 of 3 active from month 2
    assert pct.loc["2024Q1", 1] == pytest.approx(100.0)
    assert pct.loc["2024Q1", 2] == pytest.approx(200 / 3)
    assert pct.loc["2024Q1", 8] == pytest.approx(200 / 3)
    # Q3 cohort: the latest member joined 4.4 months ago -> months 5..8 blank, never 0
    assert pct.loc["2024Q3", 4] == pytest.approx(100.0)
    assert pct.loc["2024Q3", 5:].isna().all()
    counts = r.tables["counts"]
    assert counts.loc["2024Q3", 0] == 2 and np.isnan(counts.loc["2024Q3", 6])


def test_cohort_table_synthetic(synthetic_small):
    r = R.cohort_table(synthetic_small, cohort="year", max_months=24)
    pct = r.tables["retention_pct"]
    assert (pct[0].dropna() == 100).all()
    # non-increasing along each row where observed
    diffs = pct.diff(axis=1).iloc[:, 1:]
    assert (diffs.fillna(0) <= 1e-9).all().all()
    assert pct.loc["2025", 12:].isna().all()


def test_telco_has_no_start_dates(telco):
    with pytest.warns(R.UnavailableWarning, match="cohort table is unavailable"):
        r = R.cohort_table(telco)
    assert r.meta["available"] is False and r.summary.empty
    with pytest.warns(R.UnavailableWarning, match="whole observation window"):
        p = R.period_rates(telco)
    assert p.summary["customers_at_risk"].iloc[0] == 7043
    assert p.summary["churned"].iloc[0] == 1869
    findings = R.key_findings(rates=p, cohorts=r)
    assert any("unavailable" in f.text and "`start_date`" in f.text for f in findings)
    assert findings[0].text == (
        "Over the observation window, 26.5% of the 7,043 customers churned "
        "(95% CI 25.5% to 27.6%; retention 73.5%)."
    )


def test_key_findings_synthetic(synthetic_small):
    f = R.key_findings(
        rates=R.period_rates(synthetic_small),
        lifecycle=R.lifecycle_rates(synthetic_small),
        causes=R.churn_by_cause(synthetic_small),
        segments=R.rates_by_segment(synthetic_small),
        cohorts=R.cohort_table(synthetic_small),
    )
    assert len(f) >= 5 and all(isinstance(x, Finding) and x.text for x in f)
    assert all(
        "95% CI" not in x.text
        for x in R.key_findings(rates=R.period_rates(synthetic_small, alpha=0.1))
    )


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_period():
    with pytest.raises(ParameterError, match="`period` must be one of"):
        R.period_rates(
            HAND, period="week", duration_col="tenure", event_col="churned", start_col="start"
        )


def test_missing_column_named():
    with pytest.raises(
        ParameterError,
        match="`duration_col`='tenur' is not a column of the data. Did you mean 'tenure'",
    ):
        R.lifecycle_rates(HAND, duration_col="tenur", event_col="churned")


def test_event_not_binary():
    df = HAND.assign(churned=[0, 1, 2, 0, 1, 0])
    with pytest.raises(DataValidationError, match="'churned': 1 of 6 row\\(s\\) are not 0 or 1"):
        R.lifecycle_rates(df, duration_col="tenure", event_col="churned")


def test_bad_stages():
    with pytest.raises(ParameterError, match="`stages` must be increasing"):
        R.lifecycle_rates(HAND, stages=[3, 1], duration_col="tenure", event_col="churned")


def test_analysis_date_before_joins():
    with pytest.raises(ParameterError, match="before 4 joining date"):
        R.cohort_table(
            HAND,
            duration_col="tenure",
            event_col="churned",
            start_col="start",
            analysis_date="2024-02-01",
        )


# ------------------------------------------------------------------------------------------------ issue 12
def test_lifecycle_keeps_zero_tenure_customers():
    """Zero-tenure customers are at risk in the first stage (a churner at 0 churned there), as in the
    Kaplan-Meier estimate of notebook 02, never dropped silently."""
    df = pd.DataFrame({"t": [0.0, 0.0, 0.0, 2.0, 5.0], "e": [1, 0, 1, 1, 0]})
    r = R.lifecycle_rates(df, stages=[0, 3, 12], duration_col="t", event_col="e")
    s = r.summary.set_index("stage")
    assert s.loc["0-3", ["customers_at_risk", "churned", "censored"]].tolist() == [5, 3, 1]
    assert s.loc["0-3", "estimate"] == pytest.approx(3 / 4.5)
    assert r.meta["zero_tenure"] == 3 and r.meta["zero_tenure_churned"] == 2
    assert int(s["churned"].sum()) == int(df["e"].sum())


def test_lifecycle_counts_like_kaplan_meier_on_zero_tenure():
    from workbench.survival import kaplan_meier

    rng = np.random.default_rng(5)
    t = np.where(rng.random(400) < 0.1, 0.0, rng.integers(1, 30, 400).astype(float))
    df = pd.DataFrame({"t": t, "e": (rng.random(400) < 0.4).astype(int)})
    life = R.lifecycle_rates(df, stages=[0, 3, np.inf], duration_col="t", event_col="e").summary
    km = kaplan_meier(df, duration_col="t", event_col="e")
    assert life["customers_at_risk"].iloc[0] == km.meta["n"] == 400
    assert life["churned"].sum() == km.meta["events"]


def test_lifecycle_on_yearly_tenure_uses_the_grid():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {"t": 12.0 * rng.integers(0, 6, 500), "e": (rng.random(500) < 0.3).astype(int)}
    )
    with pytest.warns(CoarseTenureWarning, match="tenure is recorded in whole years"):
        r = R.lifecycle_rates(df, duration_col="t", event_col="e")
    assert r.summary["stage"].tolist()[:3] == ["0-12", "12-24", "24-36"]
    assert r.meta["tenure_grid"]["step"] == 12.0
    assert r.summary["customers_at_risk"].iloc[0] == 500
    same_unit = R.lifecycle_rates(
        df.assign(t=df["t"] / 12),
        duration_col="t",
        event_col="e",
        tenure_unit="years",
        stages=[0, 12, 24, 36, 48, 60],
    )
    pd.testing.assert_frame_equal(same_unit.summary, r.summary)


def test_key_findings_all_censored_never_names_highest_and_lowest():
    df = pd.DataFrame({"t": np.arange(1.0, 41.0), "e": 0})
    f = R.key_findings(lifecycle=R.lifecycle_rates(df, duration_col="t", event_col="e"))
    assert len(f) == 1 and "No churn was observed" in f[0].text and "highest" not in f[0].text


def test_key_findings_interval_label_from_alpha(synthetic_small):
    f = R.key_findings(lifecycle=R.lifecycle_rates(synthetic_small, alpha=0.1))
    assert "90% CI" in f[0].text and "95%" not in f[0].text


def test_segments_fall_back_to_a_switching_cost_or_say_unavailable(synthetic_small, telco):
    import dataclasses

    from workbench.data import Dataset
    from workbench.exceptions import UnavailableWarning

    spec = dataclasses.replace(synthetic_small.spec, segment=None)
    r = R.rates_by_segment(Dataset(synthetic_small.frame, spec))
    first = next(
        c
        for c in spec.switching_costs
        if c in spec.categorical
        or synthetic_small.frame[c].dtype == object
        or str(synthetic_small.frame[c].dtype) == "category"
    )
    assert r.meta["group_col"] == first and any("no segment role" in w for w in r.caveats)
    bare = dataclasses.replace(spec, switching_costs=[])
    with pytest.warns(UnavailableWarning, match="`segment`"):
        u = R.rates_by_segment(Dataset(synthetic_small.frame, bare))
    assert u.meta["available"] is False and u.summary.empty
