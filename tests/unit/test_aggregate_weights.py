"""Frequency weights in the one home of each statistic, and the aggregate estimators built on them.

Each estimator from cell counts must equal the row-level function on the rows the cells stand for
(to 1e-10); Efron Cox from counts is also checked against R ``coxph`` on the expanded rows
(``tests/reference/aggregate/make_reference.R``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench import aggregate as A
from workbench import retention as R
from workbench.aggregate.synthetic import make_customers
from workbench.exceptions import (
    CoarseTenureWarning,
    DataValidationError,
    ParameterError,
    UnavailableWarning,
)
from workbench.survival import cumulative_incidence, fit_cox, logrank_test
from workbench.survival.engine import cox_fit
from workbench.survival.kernels import logrank_parts

TOL = 1e-10
REF = Path(__file__).resolve().parents[1] / "reference" / "aggregate"


@pytest.fixture(scope="module")
def customers():
    rng = np.random.default_rng(5)
    df = make_customers(60_000, seed=21)
    df["entry"] = np.floor(df["tenure"] * rng.uniform(0, 0.5, len(df)))
    return df


@pytest.fixture(scope="module")
def cells(customers):
    rel = duckdb.from_df(customers)
    return A.counts(rel, duration_col="tenure", event_col="churned", by=["plan", "region"])


# ------------------------------------------------------------------------------------ log-rank
def test_logrank_parts_weights_equal_expanded_rows():
    rng = np.random.default_rng(0)
    n = 400
    t = rng.integers(1, 12, n).astype(float)
    e = rng.integers(0, 2, n)
    g = rng.integers(0, 3, n)
    s = rng.integers(0, 2, n)
    en = np.floor(t * rng.uniform(0, 0.6, n))
    w = rng.integers(1, 5, n)
    rep = np.repeat(np.arange(n), w)
    for rho in (0.0, 1.0):
        got = logrank_parts(t, e, g, 3, s, rho, en, weights=w)
        want = logrank_parts(t[rep], e[rep], g[rep], 3, s[rep], rho, en[rep])
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
    # the truth of the weights: a weight of 2 is two customers
    assert got[3].sum() == w.sum()


@pytest.mark.parametrize(
    "kw", [{}, {"strata": "region"}, {"rho": 1.0}], ids=["plain", "stratified", "peto"]
)
def test_aggregate_logrank_equals_rows(customers, cells, kw):
    agg = A.logrank_test(cells, group_col="plan", **kw)
    rows = logrank_test(
        customers, duration_col="tenure", event_col="churned", group_col="plan", **kw
    )
    assert abs(agg.statistic - rows.statistic) <= TOL * max(1.0, rows.statistic)
    assert agg.df == rows.df == 2
    num = ["n", "observed", "expected", "o_minus_e", "oe2_over_e", "oe2_over_v"]
    np.testing.assert_allclose(
        agg.groups[num].to_numpy(float), rows.groups[num].to_numpy(float), rtol=1e-12, atol=TOL
    )
    assert agg.meta["n"] == rows.meta["n"] == len(customers)
    assert agg.meta["events"] == rows.meta["events"]
    assert "from aggregated counts" in agg.meta["method"]
    assert agg.summary["test"].iloc[0] == rows.summary["test"].iloc[0]
    assert agg.p_value < 1e-10  # truth: the plans' hazards differ (0.06 / 0.04 / 0.02)


def test_aggregate_logrank_with_delayed_entry_equals_rows(customers):
    c = A.counts(
        duckdb.from_df(customers),
        duration_col="tenure",
        event_col="churned",
        by=["plan"],
        entry_col="entry",
    )
    agg = A.logrank_test(c, group_col="plan")
    rows = logrank_test(
        customers, duration_col="tenure", event_col="churned", group_col="plan", entry_col="entry"
    )
    assert abs(agg.statistic - rows.statistic) <= TOL * rows.statistic


def test_logrank_weights_must_be_counts(customers):
    df = customers.iloc[:500].assign(w=0.5)
    with pytest.raises(DataValidationError, match=r"frequency weights .* fractional value"):
        logrank_test(
            df, duration_col="tenure", event_col="churned", group_col="plan", weights_col="w"
        )


def test_aggregate_logrank_arguments_refused(cells):
    with pytest.raises(ParameterError, match=r"\['tier'\] were not kept"):
        A.logrank_test(cells, group_col="plan", strata="tier")
    with pytest.raises(ParameterError, match="counts are the weights"):
        A.logrank_test(cells, group_col="plan", weights_col="count")


# ---------------------------------------------------------------------------------- Efron Cox
def _expanded(cells_frame: pd.DataFrame) -> pd.DataFrame:
    rep = np.repeat(np.arange(len(cells_frame)), cells_frame["count"].to_numpy())
    return cells_frame.drop(columns="count").iloc[rep].reset_index(drop=True)


@pytest.mark.parametrize("strata", [None, "region"], ids=["plain", "stratified"])
def test_aggregate_efron_equals_rows(customers, cells, strata):
    covs = ["plan"] if strata else ["plan", "region"]
    agg = A.fit_cox(cells, covariates=covs, strata=strata, ties="efron")
    rows = fit_cox(
        customers,
        duration_col="tenure",
        event_col="churned",
        covariates=covs,
        strata=strata,
        ties="efron",
    )
    for col in ("estimate", "se", "ci_lower", "ci_upper", "p_value"):
        np.testing.assert_allclose(agg.summary[col], rows.summary[col], rtol=1e-9, atol=TOL)
    assert abs(agg.meta["loglik"] - rows.meta["loglik"]) < 1e-6  # of ~ -1e5: relative 1e-11
    # Efron is not Breslow here (monthly ties): the test would fail on a Breslow fallback
    bres = A.fit_cox(cells, covariates=covs, strata=strata, ties="breslow")
    assert np.abs(bres.summary["estimate"] - agg.summary["estimate"]).max() > 1e-3


def test_aggregate_efron_equals_r_coxph_on_expanded_rows(tmp_path):
    """R: coxph(Surv(tenure, churned) ~ plan + region, ties = "efron") on the cells of cells.csv
    repeated `count` times (make_reference.R)."""
    ref = pd.read_csv(REF / "efron.csv")
    cells_frame = pd.read_csv(REF / "cells.csv")
    path = tmp_path / "rows.parquet"
    _expanded(cells_frame).to_parquet(path, index=False)
    c = A.counts(path, duration_col="tenure", event_col="churned", by=["plan", "region"])
    assert c.n == 20_000
    cases = {
        "efron": dict(covariates=["plan", "region"], ties="efron"),
        "efron_strata": dict(covariates=["plan"], strata="region", ties="efron"),
        "breslow": dict(covariates=["plan", "region"], ties="breslow"),
    }
    for case, kw in cases.items():
        ref_levels = {"plan": "a", "region": "north"}
        got = A.fit_cox(c, reference={k: ref_levels[k] for k in kw["covariates"]}, **kw)
        want = ref[ref["case"] == case]
        np.testing.assert_allclose(got.summary["estimate"], want["estimate"], rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(got.summary["se"], want["se"], rtol=1e-7)
        assert abs(got.meta["loglik"] - want["loglik"].iloc[0]) < 1e-5


def test_engine_frequency_weights_equal_expanded_rows_and_are_checked():
    rng = np.random.default_rng(2)
    n = 300
    X = rng.normal(size=(n, 2))
    t = rng.integers(1, 8, n).astype(float)
    e = rng.integers(0, 2, n)
    w = rng.integers(1, 6, n).astype(float)
    rep = np.repeat(np.arange(n), w.astype(int))
    got = cox_fit(X, t, e, weights=w, frequency_weights=True)
    want = cox_fit(X[rep], t[rep], e[rep])
    np.testing.assert_allclose(got.params, want.params, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.se, want.se, rtol=0, atol=TOL)
    # R's weighted Efron (the default) is a different estimator when weights are counts
    r_style = cox_fit(X, t, e, weights=w)
    assert np.abs(r_style.params - want.params).max() > 1e-4
    with pytest.raises(ParameterError, match="whole-number weights"):
        cox_fit(X, t, e, weights=w + 0.5, frequency_weights=True)
    with pytest.raises(ParameterError, match="needs `weights`"):
        cox_fit(X, t, e, frequency_weights=True)


# ------------------------------------------------------------------- retention tables and CIF
def _same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    num = b.select_dtypes("number").columns
    np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=0, atol=TOL)
    other = [c for c in b.columns if c not in num]
    assert (a[other].astype(str).to_numpy() == b[other].astype(str).to_numpy()).all()


@pytest.fixture(scope="module")
def calendar_cells(customers):
    rng = np.random.default_rng(9)
    df = customers.copy()
    df["cause"] = np.where(
        df["churned"] == 1,
        rng.choice(["price", "service", "move"], len(df), p=[0.5, 0.3, 0.2]),
        None,
    )
    c = A.counts(
        duckdb.from_df(df),
        duration_col="tenure",
        event_col="churned",
        by=["plan", "start_month"],
        cause_col="cause",
    )
    return df, c


ROWS = {"duration_col": "tenure", "event_col": "churned"}


@pytest.mark.parametrize(
    "name, agg_call, row_call",
    [
        (
            "period_rates",
            lambda c: A.period_rates(c, start_col="start_month", period="month", alpha=0.1),
            lambda d: R.period_rates(d, start_col="start_month", period="month", alpha=0.1, **ROWS),
        ),
        (
            "lifecycle_rates",
            lambda c: A.lifecycle_rates(c, group_col="plan"),
            lambda d: R.lifecycle_rates(d, group_col="plan", **ROWS),
        ),
        (
            "cohort_table",
            lambda c: A.cohort_table(c, start_col="start_month", cohort="year", max_months=36),
            lambda d: R.cohort_table(
                d, start_col="start_month", cohort="year", max_months=36, **ROWS
            ),
        ),
        (
            "churn_by_cause",
            lambda c: A.churn_by_cause(c, group_col="plan"),
            lambda d: R.churn_by_cause(d, group_col="plan", cause_col="cause", **ROWS),
        ),
        (
            "rates_by_segment",
            lambda c: A.rates_by_segment(c, group_col="plan"),
            lambda d: R.rates_by_segment(d, group_col="plan", **ROWS),
        ),
        (
            "cumulative_incidence",
            lambda c: A.cumulative_incidence(c, group_col="plan"),
            lambda d: cumulative_incidence(d, group_col="plan", cause_col="cause", **ROWS),
        ),
    ],
)
def test_aggregate_retention_tables_equal_rows(calendar_cells, name, agg_call, row_call):
    df, c = calendar_cells
    assert len(c.cells) < len(df) / 4  # aggregated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnavailableWarning)
        warnings.simplefilter("ignore", CoarseTenureWarning)
        agg, rows = agg_call(c), row_call(df)
    _same_table(agg.summary, rows.summary)
    if name == "cumulative_incidence":
        _same_table(agg.curves, rows.curves)
        assert agg.meta["events_by_cause"] == rows.meta["events_by_cause"]
    if name == "cohort_table":
        pd.testing.assert_frame_equal(agg.tables["counts"], rows.tables["counts"])
    assert agg.meta["n"] == rows.meta["n"] == len(df)
    assert agg.meta["events"] == rows.meta["events"]
    assert agg.meta["fingerprint"] == c.fingerprint


def test_life_table_truth_and_monthly_rates(calendar_cells):
    """Truth: plan a's monthly hazard is 0.06, so its person-time rate in the first year is near
    0.06 (geometric churn months: about 60,000 x 0.5 customers, SE well under 0.002)."""
    _, c = calendar_cells
    lt = A.lifecycle_rates(c, group_col="plan", stages=[0, 12])
    rate = lt.summary.set_index("group").loc["a", "monthly_churn_rate"]
    assert abs(rate - 0.06) < 0.006


def test_retention_weights_must_be_whole_counts(customers):
    df = customers.iloc[:200].assign(w=1.5)
    with pytest.raises(ParameterError, match=r"frequency weights .*fractional value"):
        R.lifecycle_rates(df, weights_col="w", **ROWS)
    with pytest.raises(ParameterError, match=r"frequency weights .*fractional value"):
        cumulative_incidence(df.assign(c="x"), cause_col="c", weights_col="w", **ROWS)


def test_aggregate_retention_arguments_refused(cells, calendar_cells):
    # no joining date in the counts: what the row-level functions say without one
    with pytest.warns(UnavailableWarning, match="no start-date column"):
        one = A.period_rates(cells)
    assert one.summary["period"].tolist() == ["observation window"]
    assert one.summary["customers_at_risk"].iloc[0] == cells.n
    with pytest.warns(UnavailableWarning, match="cohort table is unavailable"):
        assert A.cohort_table(cells).summary.empty
    with pytest.raises(ParameterError, match=r"\['joined'\] were not kept"):
        A.cohort_table(cells, start_col="joined")
    with pytest.raises(ParameterError, match="keep no churn cause"):
        A.cumulative_incidence(cells)
    with pytest.raises(ParameterError, match="counts are the weights"):
        A.lifecycle_rates(cells, weights_col="count")
