"""``load_dataset("parquet" | "duckdb", ...)`` without loading rows: the retention tables run from
the counts and equal the row-level tables; row-level analyses refuse, naming themselves."""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench import retention as R
from workbench.aggregate import AggregatedDataset
from workbench.aggregate.synthetic import make_customers
from workbench.data import load_dataset
from workbench.exceptions import MethodNotAvailableError, UnavailableWarning

SPEC = """\
name: customers
id: customer_id
tenure: tenure
tenure_unit: months
event: churned
start_date: start_month
segment: plan
churn_type: cause
"""
ROWS = {"duration_col": "tenure", "event_col": "churned"}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("aggds")
    df = make_customers(30_000, seed=4)
    rng = np.random.default_rng(4)
    df["cause"] = np.where(df["churned"] == 1, rng.choice(["price", "service"], len(df)), None)
    df.insert(0, "customer_id", [f"c{i}" for i in range(len(df))])
    df.to_parquet(d / "customers.parquet", index=False)
    (d / "spec.yml").write_text(SPEC)
    return df, d


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    num = b.select_dtypes("number").columns
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=0, atol=1e-10)


def test_parquet_dataset_is_counted_not_loaded(table):
    df, d = table
    ds = load_dataset("parquet", data_path=d / "customers.parquet", spec_path=d / "spec.yml")
    assert isinstance(ds, AggregatedDataset)
    assert ds.n == len(df) and ds.events == int(df["churned"].sum())
    assert len(ds.cells.cells) < len(df) / 3
    assert "customer_id" not in ds.cells.cells  # the id is never read into the cells
    desc = ds.describe().set_index("item")["value"]
    assert desc["customers"] == f"{len(df):,}" and "rows not loaded" in desc["read as"]
    # the notebook-01 calls, through the row-level names, equal the row-level tables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnavailableWarning)
        pairs = [
            (R.period_rates(ds, period="month"), R.period_rates(df, start_col="start_month", period="month", **ROWS)),
            (R.lifecycle_rates(ds), R.lifecycle_rates(df, **ROWS)),
            (R.cohort_table(ds), R.cohort_table(df, start_col="start_month", **ROWS)),
            (R.churn_by_cause(ds), R.churn_by_cause(df, cause_col="cause", **ROWS)),
            (R.rates_by_segment(ds), R.rates_by_segment(df, group_col="plan", **ROWS)),
        ]  # fmt: skip
    for agg, rows in pairs:
        _same(agg.summary, rows.summary)
        assert agg.meta["fingerprint"] == ds.fingerprint


def test_row_level_analyses_refuse_naming_themselves(table):
    _, d = table
    ds = load_dataset("parquet", data_path=d / "customers.parquet", spec_path=d / "spec.yml")
    from workbench.survival import fit_parametric, smoothed_hazard, trend_test

    with pytest.raises(
        MethodNotAvailableError, match=r"smoothed_hazard needs one row per customer"
    ):
        smoothed_hazard(ds)
    with pytest.raises(MethodNotAvailableError, match=r"fit_parametric needs one row per customer"):
        fit_parametric(ds)
    with pytest.raises(MethodNotAvailableError, match=r"trend_test needs one row per customer"):
        trend_test(ds, group_col="plan")
    with pytest.warns(UnavailableWarning, match="Referral rate is not available from aggregated"):
        assert R.referral_rate(ds).summary.empty


def test_survival_names_run_from_the_counts_equal_to_the_rows(table):
    """kaplan_meier, logrank_test, rmst, fit_cox and cumulative_incidence take the aggregated
    dataset through their row-level names (the counts as frequency weights), equal to the rows;
    what counts cannot give is refused naming the argument or the uncounted column."""
    from workbench import survival as S
    from workbench.exceptions import ParameterError

    df, d = table
    ds = load_dataset("parquet", data_path=d / "customers.parquet", spec_path=d / "spec.yml")
    pairs = [
        (
            S.kaplan_meier(ds, group_col="plan").curves,
            S.kaplan_meier(df, group_col="plan", **ROWS).curves,
        ),
        (S.logrank_test(ds).summary, S.logrank_test(df, group_col="plan", **ROWS).summary),
        (
            S.rmst(ds, tau=24, group_col="plan").summary,
            S.rmst(df, tau=24, group_col="plan", **ROWS).summary,
        ),
        (
            S.fit_cox(ds, covariates=["plan"]).summary,
            S.fit_cox(df, covariates=["plan"], **ROWS).summary,
        ),
        (
            S.cumulative_incidence(ds, times=[12]).summary,
            S.cumulative_incidence(df, cause_col="cause", times=[12], **ROWS).summary,
        ),
    ]
    for got, want in pairs:
        num = [c for c in want.select_dtypes("number").columns if c in got]
        assert len(got) == len(want) and num
        np.testing.assert_allclose(got[num].to_numpy(float), want[num].to_numpy(float), atol=1e-10)
    with pytest.raises(
        ParameterError, match=r"kaplan_meier: `weights_col` cannot be used on dataset 'customers'"
    ):
        S.kaplan_meier(ds, weights_col="w")
    with pytest.raises(
        ParameterError, match=r"fit_cox: \['region'\] was not counted.*\['plan', 'start_month'\]"
    ):
        S.fit_cox(ds, covariates=["plan", "region"])
    with pytest.raises(MethodNotAvailableError, match=r"rmst: delayed entry \(entry_col='entry'\)"):
        S.rmst(ds, tau=24, entry_col="entry")


def test_duckdb_database_table_is_counted(table, tmp_path):
    df, d = table
    db = tmp_path / "c.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        f"CREATE TABLE customers AS SELECT * FROM read_parquet('{d / 'customers.parquet'}')"
    )
    con.close()
    ds = load_dataset("duckdb", data_path=db, spec_path=d / "spec.yml")
    assert isinstance(ds, AggregatedDataset) and ds.n == len(df)


def test_row_level_names_read_a_path_or_a_relation_as_counts(table):
    """kaplan_meier, logrank_test, fit_cox and the retention tables given a Parquet path or a
    DuckDB relation count it at the source by the columns the call names (rows never loaded in
    pandas) and equal the row-level results; without the tenure / churned columns the call is
    refused naming them."""
    from workbench import survival as S
    from workbench.exceptions import ParameterError

    df, d = table
    path = str(d / "customers.parquet")
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    for source in (path, rel):
        km = S.kaplan_meier(source, group_col="plan", **ROWS)
        assert "from aggregated counts (duckdb)" in km.meta["method"]
        _same(km.curves, S.kaplan_meier(df, group_col="plan", **ROWS).curves)
        lr = S.logrank_test(source, group_col="plan", strata="region", **ROWS)
        want = S.logrank_test(df, group_col="plan", strata="region", **ROWS)
        assert abs(lr.statistic - want.statistic) < 1e-8
        cox = S.fit_cox(source, covariates=["plan", "region"], **ROWS)
        want_cox = S.fit_cox(df, covariates=["plan", "region"], **ROWS)
        np.testing.assert_allclose(
            cox.summary["estimate"], want_cox.summary["estimate"], atol=1e-10
        )
        rates = R.period_rates(source, start_col="start_month", period="month", **ROWS)
        _same(
            rates.summary,
            R.period_rates(df, start_col="start_month", period="month", **ROWS).summary,
        )
    with pytest.raises(
        ParameterError, match=r"kaplan_meier: reading .* needs `duration_col` and `event_col`"
    ):
        S.kaplan_meier(path)


def test_row_level_names_read_a_dask_dataframe_as_counts(table):
    dd = pytest.importorskip("dask.dataframe")
    from workbench import survival as S

    df, d = table
    ddf = dd.read_parquet(str(d / "customers.parquet"))
    km = S.kaplan_meier(ddf, group_col="plan", **ROWS)
    assert "from aggregated counts (dask)" in km.meta["method"]
    _same(km.curves, S.kaplan_meier(df, group_col="plan", **ROWS).curves)
