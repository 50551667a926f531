"""Notebook 02 (tenure survival): structure checks and smoke runs on synthetic and Telco data."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from _nbrun import execute, parquet_customers

NB = Path(__file__).resolve().parents[2] / "notebooks" / "02-tenure-survival.ipynb"
REQUIRED = [
    "km",
    "median_tenure",
    "logrank",
    "cox",
    "rmst",
    "rmst_difference",
    "cif",
    "key_findings",
]
NAIVE_ONLY = ["ph_test", "fine_gray"]  # both refuse delayed entry: skipped with a sentence


def test_notebook_is_stored_clean_with_a_parameters_cell():
    nb = nbformat.read(NB, as_version=4)
    assert (
        nb.metadata["kernelspec"]["name"] == "workbench"
    )  # JupyterLab opens it on the project kernel
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    names = [line.split(":")[0] for line in code[0].source.splitlines() if line.strip()]
    for p in (
        "dataset",
        "data_path",
        "spec_path",
        "n_customers",
        "seed",
        "alpha",
        "group_by",
        "covariates",
        "strata",
        "horizons",
        "tau",
        "ci_scale",
        "use_entry",
    ):
        assert p in names
    for c in code:
        assert not c.get("outputs") and c.get("execution_count") is None
        assert "def " not in c.source and "lambda" not in c.source
        if ".plot(" in c.source:
            assert c.source.startswith("# Figure: ")
    assert sum(c.source.startswith("## ") for c in nb.cells if c.cell_type == "markdown") >= 6


#: "95%" as a label, not as the tail of a number such as "0.95%" or "12.95%"
LITERAL_95 = re.compile(r"(?<![\d.])95\s*%")


def _output_text(path: Path) -> str:
    """Every text an executed notebook shows: HTML, plain text, markdown and printed streams."""
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            for mime in ("text/html", "text/plain", "text/markdown"):
                value = out.get("data", {}).get(mime)
                if value:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def _report(tmp_path: Path, results: dict) -> str:
    from workbench.runner.export import export_report

    manifest = {"status": "ok", "parameters": {"alpha": 0.1}}
    path = export_report(
        tmp_path / "out.ipynb", tmp_path / "report.html", manifest=manifest, results=results
    )
    return path.read_text()


def _run(tmp_path: Path, **parameters) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return execute(NB.name, tmp_path, parameters)


def _check_common(r: dict, horizons: list) -> None:
    for key in REQUIRED + ([] if r["use_entry"] else NAIVE_ONLY):
        assert key in r, key
    assert {row["time"] for row in r["km"]} == set(map(float, horizons))
    assert set(r["km"][0]) >= {"group", "time", "survival", "ci_lower", "ci_upper", "at_risk"}
    assert set(r["median_tenure"][0]) >= {"group", "estimate", "ci_lower", "ci_upper"}
    assert {"group", "reference", "statistic", "p_value", "p_adjusted"} <= set(
        r["logrank_pairwise"][0]
    )
    lr = r["logrank"][0]
    assert lr["df"] == 2 and lr["p_value"] < 0.001
    assert set(r["cox"][0]) >= {
        "term",
        "estimate",
        "se",
        "hazard_ratio",
        "ci_lower",
        "ci_upper",
        "p_value",
    }
    if not r["use_entry"]:
        assert r["ph_test"][-1]["term"] == "GLOBAL"
        assert set(r["fine_gray"][0]) >= {"cause", "term", "estimate", "se", "p_value"}
    assert set(r["rmst"][0]) >= {"group", "tau", "estimate", "se"}
    assert set(r["rmst_difference"][0]) >= {
        "group",
        "reference",
        "estimate",
        "ci_lower",
        "ci_upper",
    }
    assert set(r["cif"][0]) >= {"cause", "time", "estimate", "ci_lower", "ci_upper"}
    assert r["key_findings"] and all(
        isinstance(f, dict) and f["text"] and f["importance"] in (1, 2, 3)
        for f in r["key_findings"]
    )
    cox0 = r["cox"][0]  # the interval on the estimate's (log) scale, the hazard ratio's beside it
    assert cox0["ci_lower"] <= cox0["estimate"] <= cox0["ci_upper"]
    assert cox0["hr_ci_lower"] <= cox0["hazard_ratio"] <= cox0["hr_ci_upper"]


@pytest.mark.slow
def test_runs_on_synthetic(tmp_path):
    r = _run(
        tmp_path,
        n_customers=3000,
        seed=3,
        group_by="contract",
        strata=["segment"],
        ci_scale="log-log",
    )
    _check_common(r, [6, 12, 24])
    assert r["n_customers"] == 3000
    contracts = {row["term"]: row for row in r["cox"]}
    assert (
        contracts["contract[two_year]"]["hazard_ratio"] < 1
    )  # switching costs lower churn (truth)
    assert any(row["time"] > 10 and row["time"] < 14 for row in r["hazard_peaks"])
    assert r["cohorts"] and "survival_6" in r["cohorts"][0]
    assert r["logrank"][0]["test"].startswith("stratified log-rank (strata: segment)")


TELCO = {
    "group_by": "contract",
    "covariates": ["contract", "monthly_charge", "number_of_referrals"],
}


@pytest.mark.slow
def test_runs_on_telco_with_delayed_entry_by_default_and_naive_on_request(tmp_path, telco_dir):
    """Telco declares an entry role (max(0, tenure - 3)): by default every analysis that has a
    delayed-entry form uses it and the two that refuse it (ph_test, Fine-Gray) are skipped;
    ``use_entry=False`` gives the naive analysis (followed from joining)."""
    r = _run(tmp_path / "entry", dataset="telco", data_path=str(telco_dir), **TELCO)
    _check_common(r, [6, 12, 24])
    assert r["n_customers"] == 7043
    assert r["use_entry"] is True and r["analysis_roles"]["entry"] == "entry_months"
    assert "ph_test" not in r and "fine_gray" not in r
    comparison = r["entry_comparison"]
    assert [row["time"] for row in comparison] == [6.0, 12.0, 24.0]
    for row in comparison:
        assert row["difference"] == pytest.approx(row["naive"] - row["estimate"])
    assert comparison[-1]["difference"] > 0.01  # the naive curve over-represents long survivors
    headline = r["key_findings"][0]  # the size of the snapshot mistake leads the findings
    assert (
        "when customers enter the risk sets at the start of the observation window"
        in (headline["text"])
    )
    assert f"{100 * comparison[-1]['difference']:+.1f} percentage points" in headline["text"]

    naive = _run(
        tmp_path / "naive", dataset="telco", data_path=str(telco_dir), use_entry=False, **TELCO
    )
    _check_common(naive, [6, 12, 24])
    assert naive["use_entry"] is False and naive["analysis_roles"]["entry"] is None
    med = {row["group"]: row for row in naive["median_tenure"]}
    assert med["Month-to-Month"]["estimate"] == 31.0  # R: survfit(...) median 31 (29, 33)
    assert (
        naive["cohorts"] == []
    )  # Telco has no joining dates: empty, with the reason in the report
    assert {row["cause"] for row in naive["fine_gray"]} == {"Competitor"}
    assert naive["entry_comparison"] == comparison  # shown either way

    # the recorded results are the delayed-entry ones in the default run, the naive ones otherwise
    km_e = {(row["group"], row["time"]): row["survival"] for row in r["km"]}
    km_n = {(row["group"], row["time"]): row["survival"] for row in naive["km"]}
    assert km_e.keys() == km_n.keys()
    assert km_e[("Month-to-Month", 24.0)] < km_n[("Month-to-Month", 24.0)] - 0.01
    cox_e = {row["term"]: row["estimate"] for row in r["cox"]}
    cox_n = {row["term"]: row["estimate"] for row in naive["cox"]}
    assert cox_e.keys() == cox_n.keys()
    assert max(abs(cox_e[k] - cox_n[k]) for k in cox_e) > 1e-3


@pytest.mark.slow
def test_role_defaults_and_intervals_labelled_from_alpha(tmp_path):
    """No column names given: group_by is the spec's segment role, covariates the spec's covariates
    plus satisfaction and switching costs; at alpha = 0.1 every label says 90%, none 95%."""
    r = _run(tmp_path, n_customers=2000, seed=5, alpha=0.1)
    roles = r["analysis_roles"]
    assert roles["group_by"] == "segment"
    assert {"satisfaction", "contract", "n_products"} <= set(roles["covariates"])
    texts = " ".join(f["text"] for f in r["key_findings"])
    assert "90% CI" in texts and "95%" not in texts
    assert r["_meta"]["cox"]["meta"]["alpha"] == 0.1
    # nothing the run writes says 95%: results.json, every output of the executed notebook (result
    # tables, sentences, printed text) and the exported report
    written = {
        "results.json": (tmp_path / "results.json").read_text(),
        "notebook outputs": _output_text(tmp_path / "out.ipynb"),
        "report": _report(tmp_path, r),
    }
    for where, text in written.items():
        hit = LITERAL_95.search(text)
        assert hit is None, f"{where}: ...{text[max(hit.start() - 80, 0) : hit.end() + 40]}..."
        assert "90%" in text, where  # the labels are there, derived from alpha
    assert all(m["meta"]["alpha"] in (0.1, None) for m in r["_meta"].values())


@pytest.mark.slow
def test_runs_on_parquet_as_aggregated_counts(tmp_path):
    """dataset: parquet reads the file as DuckDB cell counts: Kaplan-Meier, log-rank, restricted
    mean, the Cox model of the counted segment and the cumulative incidence equal the row-level
    functions on the same rows; each section that needs one row per customer says so in one
    sentence and records nothing; no customer id reaches the outputs."""
    import numpy as np
    import pandas as pd

    from workbench import survival as S

    df, data = parquet_customers(tmp_path, "covariates: [plan, region]\n")
    res = execute(
        NB.name,
        tmp_path,
        {
            "dataset": "parquet",
            "data_path": str(data / "customers.parquet"),
            "spec_path": str(data / "spec.yml"),
        },
    )
    assert res["analysis_roles"] == {"group_by": "plan", "covariates": ["plan"], "entry": None}
    rows = {"duration_col": "tenure", "event_col": "churned"}
    want = {
        "km": S.kaplan_meier(df, group_col="plan", times=[6, 12, 24], **rows).at([6, 12, 24]),
        "logrank": S.logrank_test(df, group_col="plan", **rows).summary,
        "rmst": S.rmst(df, tau=24, group_col="plan", **rows).summary,
        "cox": S.fit_cox(df, covariates=["plan"], **rows).summary,
        "cif": S.cumulative_incidence(df, cause_col="cause", times=[6, 12, 24], **rows).at(
            [6, 12, 24]
        ),
    }
    for name, exp in want.items():
        got = pd.DataFrame(res[name])
        num = [c for c in exp.select_dtypes("number").columns if c in got]
        assert len(got) == len(exp) and num, name
        np.testing.assert_allclose(
            got[num].to_numpy(float), exp[num].to_numpy(float), atol=1e-10, err_msg=name
        )
    for name in ("logrank", "rmst", "cox"):  # recorded as results (km and cif as tables)
        assert "from aggregated counts (duckdb)" in res["_meta"][name]["meta"]["method"], name
    for name in ("logrank_pairwise", "trend", "hazard_peaks", "stage_hazard", "ph_test"):
        assert name not in res, name
    for name in ("parametric_models", "cohorts", "gray_test", "fine_gray"):
        assert name not in res, name
    text = (tmp_path / "out.ipynb").read_text()
    for func in ("pairwise_logrank", "trend_test", "smoothed_hazard", "fit_parametric"):
        assert f"{func} is skipped: it needs one row per customer" in text, func
    assert res["key_findings"]
    assert "c1234" not in (tmp_path / "results.json").read_text()
