"""workbench.aggregate: counts computed by DuckDB, estimators equal to the row-level functions."""

from __future__ import annotations

import json
import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench import aggregate as A
from workbench.aggregate.synthetic import make_customers
from workbench.exceptions import (
    ColumnNotFoundError,
    ColumnTypeError,
    EventCodingError,
    MethodNotAvailableError,
    NegativeValueError,
    ParameterError,
    RowsExcludedWarning,
)
from workbench.survival import fit_cox, kaplan_meier, nelson_aalen, rmst

N = 200_000
TOL = 1e-10


@pytest.fixture(scope="module")
def customers():
    return make_customers(N)


@pytest.fixture(scope="module")
def parquet_path(customers, tmp_path_factory):
    p = tmp_path_factory.mktemp("agg") / "customers.parquet"
    customers.to_parquet(p, index=False)
    return p


@pytest.fixture(scope="module")
def cells(parquet_path):
    return A.counts(parquet_path, duration_col="tenure", event_col="churned", by=["plan", "region"])


def _assert_frames_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    num = b.select_dtypes("number").columns
    np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=0, atol=TOL)
    other = [c for c in b.columns if c not in num]
    pd.testing.assert_frame_equal(a[other].reset_index(drop=True), b[other].reset_index(drop=True))


def test_counts_are_the_row_tallies(customers, cells):
    assert cells.engine == "duckdb"
    assert cells.n == N
    assert cells.events == int(customers["churned"].sum())
    want = customers.groupby(["plan", "region", "tenure", "churned"]).size()
    got = cells.cells.set_index(["plan", "region", "tenure", "churned"])["count"]
    assert len(got) == len(want) < N / 50  # aggregated: far fewer cells than rows
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)


def test_kaplan_meier_by_group_equals_rows(customers, cells):
    agg = A.kaplan_meier(cells, group_col="plan")
    rows = kaplan_meier(customers, duration_col="tenure", event_col="churned", group_col="plan")
    _assert_frames_close(agg.curves, rows.curves)
    _assert_frames_close(agg.summary, rows.summary)
    assert agg.meta["n"] == rows.meta["n"] == N
    assert agg.meta["events"] == rows.meta["events"]
    assert agg.meta["variance"] == "greenwood"
    # truth: plan 'a' (highest hazard) has the shortest median
    med = agg.summary.set_index("group")["median"]
    assert med["a"] < med["b"] < med["c"]


def test_kaplan_meier_overall_with_times_equals_rows(customers, cells):
    agg = A.kaplan_meier(cells, times=[6, 12, 24], ci_scale="log-log")
    rows = kaplan_meier(
        customers, duration_col="tenure", event_col="churned", times=[6, 12, 24], ci_scale="log-log"
    )
    _assert_frames_close(agg.curves, rows.curves)
    _assert_frames_close(agg.tables["at_times"], rows.tables["at_times"])


def test_cox_breslow_categorical_equals_rows(customers, cells):
    agg = A.fit_cox(cells, covariates=["plan", "region"])
    rows = fit_cox(
        customers,
        duration_col="tenure",
        event_col="churned",
        covariates=["plan", "region"],
        ties="breslow",
    )
    assert list(agg.summary["term"]) == list(rows.summary["term"])
    for col in ("estimate", "se", "ci_lower", "ci_upper", "p_value"):
        np.testing.assert_allclose(agg.summary[col], rows.summary[col], rtol=1e-9, atol=TOL)
    # truth: plans b and c churn less than a (reference = most frequent level, 'a')
    hr = agg.summary.set_index("term")["hazard_ratio"]
    assert hr["plan[b]"] < 1 and hr["plan[c]"] < hr["plan[b]"]


def test_stratified_cox_breslow_equals_rows(customers, cells):
    agg = A.fit_cox(cells, covariates=["plan"], strata="region")
    rows = fit_cox(
        customers,
        duration_col="tenure",
        event_col="churned",
        covariates=["plan"],
        strata="region",
        ties="breslow",
    )
    for col in ("estimate", "se", "p_value"):
        np.testing.assert_allclose(agg.summary[col], rows.summary[col], rtol=1e-9, atol=TOL)


def test_rmst_equals_rows(customers, cells):
    agg = A.rmst(cells, tau=24, group_col="plan")
    rows = rmst(customers, tau=24, duration_col="tenure", event_col="churned", group_col="plan")
    _assert_frames_close(agg.summary, rows.summary)


def test_nelson_aalen_equals_rows(customers, cells):
    agg = A.nelson_aalen(cells, group_col="region")
    rows = nelson_aalen(customers, duration_col="tenure", event_col="churned", group_col="region")
    rows.curves[["at_risk", "events"]] = rows.curves[["at_risk", "events"]].astype(np.int64)
    _assert_frames_close(agg.curves, rows.curves)
    _assert_frames_close(agg.summary, rows.summary)


def test_sources_relation_csv_and_database_table(customers, parquet_path, tmp_path):
    sub = customers.iloc[:20_000]
    csv = tmp_path / "c.csv"
    sub.to_csv(csv, index=False)
    db = tmp_path / "c.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE customers AS SELECT * FROM read_csv(?)", [str(csv)])
    con.close()
    a = A.counts(csv, duration_col="tenure", event_col="churned", by="plan")
    b = A.counts(db, table="customers", duration_col="tenure", event_col="churned", by="plan")
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{parquet_path}') LIMIT 20000")
    c = A.counts(rel, duration_col="tenure", event_col="churned", by="plan")
    pd.testing.assert_frame_equal(a.cells, b.cells)
    assert a.n == b.n == c.n == 20_000
    km = A.kaplan_meier(b, group_col="plan")
    rows = kaplan_meier(sub, duration_col="tenure", event_col="churned", group_col="plan")
    _assert_frames_close(km.curves, rows.curves)


# ---------------------------------------------------------------------------------- refusals
def _rel(sql: str):
    return duckdb.sql(sql)


def test_unknown_column_is_named(parquet_path):
    with pytest.raises(ColumnNotFoundError, match=r"\['tenur'\].*available columns"):
        A.counts(parquet_path, duration_col="tenur", event_col="churned")


def test_text_tenure_refused():
    rel = _rel("SELECT * FROM (VALUES ('3', 1), ('4', 0)) t(tenure, churned)")
    with pytest.raises(ColumnTypeError, match=r"`duration_col`='tenure' must be numeric.*VARCHAR"):
        A.counts(rel, duration_col="tenure", event_col="churned")


def test_event_not_01_refused_with_count_and_example():
    rel = _rel("SELECT * FROM (VALUES (3.0, 1), (4.0, 2), (5.0, 2)) t(tenure, churned)")
    with pytest.raises(EventCodingError, match=r"2 value\(s\) other than 0/1 \(e.g. 2"):
        A.counts(rel, duration_col="tenure", event_col="churned")


def test_negative_tenure_refused():
    rel = _rel("SELECT * FROM (VALUES (-3.0, 1), (4.0, 0)) t(tenure, churned)")
    with pytest.raises(NegativeValueError, match=r"1 negative tenure"):
        A.counts(rel, duration_col="tenure", event_col="churned")


def test_missing_rows_excluded_with_warning():
    rel = _rel(
        "SELECT * FROM (VALUES (3.0, 1, 'a'), (NULL, 0, 'a'), (2.0, 1, NULL)) t(tenure, churned, g)"
    )
    with pytest.warns(RowsExcludedWarning, match=r"2 of 3 rows"):
        c = A.counts(rel, duration_col="tenure", event_col="churned", by="g")
    assert c.n == 1 and c.excluded == 2


def test_count_column_clash_and_bad_source():
    rel = _rel("SELECT * FROM (VALUES (3.0, 1, 2)) t(tenure, churned, count)")
    with pytest.raises(ParameterError, match="uses 'count' for the number"):
        A.counts(rel, duration_col="tenure", event_col="churned", by="count")
    with pytest.raises(ParameterError, match="cannot tell the format"):
        A.counts("customers.xlsx", duration_col="tenure", event_col="churned")
    with pytest.raises(ParameterError, match="pass `table=`"):
        A.counts("x.duckdb", duration_col="tenure", event_col="churned")


def test_estimator_arguments_refused(cells, customers):
    with pytest.raises(ParameterError, match="result of workbench.aggregate.counts"):
        A.kaplan_meier(customers)
    with pytest.raises(ParameterError, match=r"\['tier'\] were not kept"):
        A.kaplan_meier(cells, group_col="tier")
    with pytest.raises(ParameterError, match="`ties` must be 'breslow' or 'efron'"):
        A.fit_cox(cells, covariates=["plan"], ties="exact")
    with pytest.raises(
        MethodNotAvailableError, match="gray_test is not available from aggregated counts"
    ):
        A.not_available("gray_test")


def test_results_meet_the_result_contract(cells):
    from workbench.results import REQUIRED_META

    for res in (
        A.kaplan_meier(cells, group_col="plan", alpha=0.1),
        A.nelson_aalen(cells, alpha=0.1),
        A.rmst(cells, tau=12, alpha=0.1),
        A.fit_cox(cells, covariates=["plan"], alpha=0.1),
    ):
        assert not [k for k in REQUIRED_META if k not in res.meta]
        assert res.meta["fingerprint"] == cells.fingerprint and len(cells.fingerprint) == 16
        assert res.meta["n"] == N and res.meta["alpha"] == 0.1
        assert "from aggregated counts (duckdb)" in res.meta["method"]
        assert res.key in res.summary
        json.dumps(res.to_record())
        assert "95%" not in res._repr_html_()


def test_delayed_entry_and_cause_kept(customers, tmp_path):
    rng = np.random.default_rng(3)
    df = customers.iloc[:30_000].copy()
    df["entry"] = np.floor(df["tenure"] * rng.uniform(0, 0.5, len(df)))
    df["cause"] = np.where(df["churned"] == 1, rng.choice(["price", "service"], len(df)), None)
    path = tmp_path / "p-*.parquet"
    df.iloc[:15_000].to_parquet(tmp_path / "p-0.parquet", index=False)
    df.iloc[15_000:].to_parquet(tmp_path / "p-1.parquet", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a censored customer's missing cause is not a missing value
        cc = A.counts(path, duration_col="tenure", event_col="churned", cause_col="cause")
    assert cc.n == 30_000
    tally = cc.cells.groupby("cause", dropna=False)["count"].sum()
    want = df["cause"].value_counts(dropna=False)
    assert tally["price"] == want["price"] and tally.isna().sum() == 0
    c = A.counts(path, duration_col="tenure", event_col="churned", by="plan", entry_col="entry")
    assert c.n == 30_000
    agg = A.kaplan_meier(c, group_col="plan")
    rows = kaplan_meier(
        df, duration_col="tenure", event_col="churned", group_col="plan", entry_col="entry"
    )
    _assert_frames_close(agg.curves, rows.curves)
    with pytest.raises(NegativeValueError, match="entry must satisfy"):
        A.counts(
            duckdb.sql("SELECT 2.0 AS tenure, 1 AS churned, 3.0 AS entry"),
            duration_col="tenure",
            event_col="churned",
            entry_col="entry",
        )
