"""Smoke runs of notebooks/01-retention-overview.ipynb in a real kernel (papermill), on the built-in
data and on Telco, asserting on what the notebook recorded in results.json."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _nbrun import execute, parquet_customers

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-retention-overview.ipynb"


def _run(tmp_path, monkeypatch, **parameters) -> dict:
    return execute(NOTEBOOK.name, tmp_path, parameters)


def test_parameters_cell_and_no_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for name in ("dataset", "data_path", "spec_path", "n_customers", "seed", "alpha", "period"):
        assert f"{name}: " in code[0].source
    assert all(not c.get("outputs") for c in code)
    assert (
        nb.metadata["kernelspec"]["name"] == "workbench"
    )  # JupyterLab opens it on the project kernel
    figures = [c for c in code if "plot(" in c.source]
    assert figures and all(c.source.startswith("# Figure: ") for c in figures)


@pytest.mark.slow
def test_runs_on_synthetic(tmp_path, monkeypatch):
    res = _run(tmp_path, monkeypatch, n_customers=2000, seed=3)
    assert res["n_customers"] == 2000
    rates = res["rates"]
    assert {"period", "customers_at_risk", "churned", "estimate", "retention_rate"} <= set(rates[0])
    for r in rates:
        if r["customers_at_risk"]:
            assert r["retention_rate"] == pytest.approx(1 - r["estimate"])
    meta = res["_meta"]["rates"]
    assert meta["key"] == "period" and meta["meta"]["alpha"] == 0.05 and meta["meta"]["fingerprint"]
    assert {"cohort", "months_since_joining", "retention_pct"} <= set(res["cohort_retention"][0])
    assert sum(r["estimate"] for r in res["churn_by_cause"]) == pytest.approx(1.0)
    kf = res["key_findings"]
    assert len(kf) >= 4 and all(f["text"] and f["importance"] in (1, 2, 3) for f in kf)
    assert any("95% CI" in f["text"] for f in kf)


@pytest.mark.slow
def test_runs_on_telco(tmp_path, monkeypatch, telco_dir):
    res = _run(tmp_path, monkeypatch, dataset="telco", data_path=str(telco_dir))
    assert res["n_customers"] == 7043
    assert res["rates"][0]["customers_at_risk"] == 7043 and res["rates"][0]["churned"] == 1869
    assert res["cohort_retention"] == []  # no joining dates: unavailable, not a crash
    assert any("unavailable" in f["text"] for f in res["key_findings"])
    assert {r["cause"] for r in res["churn_by_cause"]} >= {"Competitor", "Price"}


@pytest.mark.slow
def test_alpha_labels_on_synthetic(tmp_path, monkeypatch):
    res = _run(tmp_path, monkeypatch, n_customers=1500, seed=4, alpha=0.1)
    text = " ".join(f["text"] for f in res["key_findings"])
    assert "90% CI" in text and not re.search(r"(?<![\d.])95%", text)
    assert all(m["meta"]["alpha"] in (0.1, None) for m in res["_meta"].values())


@pytest.mark.slow
def test_runs_on_parquet_as_aggregated_counts(tmp_path, monkeypatch):
    """dataset: parquet reads a Parquet file written here as DuckDB cell counts (no rows loaded):
    the recorded tables equal the row-level functions on the same rows; the referral rate, which
    needs each customer's row, is refused in one sentence naming it."""
    import numpy as np
    import pandas as pd

    from workbench import retention as R

    df, data = parquet_customers(tmp_path)
    res = _run(
        tmp_path,
        monkeypatch,
        dataset="parquet",
        data_path=str(data / "customers.parquet"),
        spec_path=str(data / "spec.yml"),
        period="month",
    )
    assert res["n_customers"] == 20_000 and res["n_churned"] == int(df["churned"].sum())
    rows = {"duration_col": "tenure", "event_col": "churned"}
    want = {
        "rates": R.period_rates(df, start_col="start_month", period="month", **rows),
        "lifecycle": R.lifecycle_rates(df, **rows),
        "churn_by_segment": R.rates_by_segment(df, group_col="plan", **rows),
        "churn_by_cause": R.churn_by_cause(df, cause_col="cause", **rows),
        "cohort_retention": R.cohort_table(df, start_col="start_month", **rows),
    }
    for name, rows_res in want.items():
        got = pd.DataFrame(res[name])
        exp = rows_res.summary
        num = [c for c in exp.select_dtypes("number").columns if c in got]
        assert len(got) == len(exp) and num
        np.testing.assert_allclose(got[num].to_numpy(float), exp[num].to_numpy(float), atol=1e-10)
        assert "from aggregated counts (duckdb)" in res["_meta"][name]["meta"]["method"]
    assert res["referral_rate"] == []
    reason = res["_meta"]["referral_rate"]["meta"]["reason"]
    assert reason.startswith("Referral rate is not available from aggregated counts")
    # no customer id reaches the run's outputs
    assert "c1234" not in (tmp_path / "results.json").read_text()
