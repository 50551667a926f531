"""Smoke runs of notebooks/01-retention-overview.ipynb in a real kernel (papermill), on the built-in
data and on Telco, asserting on what the notebook recorded in results.json."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _nbrun import execute

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
