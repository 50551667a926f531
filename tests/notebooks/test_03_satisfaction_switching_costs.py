"""Smoke runs of notebooks/03-satisfaction-switching-costs.ipynb in a real kernel (papermill), on the
built-in synthetic data and on Telco, asserting on what the notebook recorded in results.json."""

from __future__ import annotations

from pathlib import Path

import pytest
from _nbrun import execute

NB = Path(__file__).resolve().parents[2] / "notebooks" / "03-satisfaction-switching-costs.ipynb"
RECORDED = (
    "hypotheses",
    "nonlinearity_test",
    "interaction_test",
    "marginal_effects",
    "mediation",
    "separation",
    "key_findings",
    "horizon_sensitivity",
    "minimum_detectable_interaction",
)


def _run(tmp_path: Path, parameters: dict) -> dict:
    return execute(NB.name, tmp_path, parameters)


def test_notebook_stored_without_outputs_and_parameters_first():
    import nbformat

    nb = nbformat.read(NB, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    for name in (
        "dataset",
        "data_path",
        "spec_path",
        "n_customers",
        "seed",
        "satisfaction_col",
        "switching_cost_cols",
        "perceived_value_col",
        "horizon",
        "alpha",
        "adjust",
        "cluster_col",
    ):
        assert f"\n{name}: " in "\n" + code[0].source, name
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert (
        nb.metadata["kernelspec"]["name"] == "workbench"
    )  # JupyterLab opens it on the project kernel
    assert not any("def " in c.source for c in code)


@pytest.mark.slow
def test_notebook_synthetic(tmp_path):
    res = _run(tmp_path, {"n_customers": 4000, "seed": 1, "horizons": [12, 24]})
    assert set(RECORDED) <= set(res)
    hyp = {r["hypothesis"]: r for r in res["hypotheses"]}
    assert [hyp[h]["decision"] for h in ("H1", "H2", "H3")] == ["supported"] * 3
    assert set(hyp["H1"]) >= {
        "estimate",
        "ci_lower",
        "ci_upper",
        "statistic",
        "p_value",
        "p_adjusted",
        "decision",
        "method",
    }
    assert res["separation"] == []
    assert len(res["mediation"]) == 4
    assert len(res["marginal_effects"]) == 15
    assert res["interaction_test"]["df"] == 1
    kf = res["key_findings"]
    assert all(isinstance(f, dict) and f["text"] and f["importance"] in (1, 2, 3) for f in kf)
    assert len(kf) >= 6
    assert kf[0]["text"].startswith("H1 (satisfaction raises retention): supported at alpha = 0.05")
    assert kf[0]["caveats"]


@pytest.mark.slow
def test_notebook_telco(tmp_path, telco_dir):
    res = _run(tmp_path, {"dataset": "telco", "data_path": str(telco_dir), "horizons": [12]})
    assert set(RECORDED) <= set(res)
    sep = [r for r in res["separation"] if r["kind"] != "extreme values all one outcome"]
    assert {r["variable"] for r in sep} == {"satisfaction_score"}
    assert {r["levels"] for r in sep} == {"4, 5"}
    assert {r["model"].split(" ")[0] for r in sep} == {"Cox", "discrete-time", "churn"}
    assert all("Firth" in r["action"] for r in sep)
    assert res["mediation"] == []
    texts = [f["text"] for f in res["key_findings"]]
    assert any("Separation detected" in s for s in texts)
    assert any("not tested" in s for s in texts)
    assert any("Every customer with satisfaction 1, 2 churned" in s for s in texts)
    levels = {r["satisfaction"]: r for r in res["retention_by_satisfaction"]}
    assert all(levels[k]["ci_upper"] is not None and levels[k]["ci_upper"] <= 1 for k in levels)


def test_notebook_refuses_unknown_and_string_covariates(tmp_path):
    """`-p covariates "[agee, contract]"` fails clearly (did you mean), and a string where a list is
    expected is refused, instead of fitting with no adjustment."""
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match="Did you mean 'age'"):
        _run(tmp_path, {"n_customers": 1500, "covariates": ["agee", "contract"]})
    with pytest.raises(pm.PapermillExecutionError, match="got the string 'age'"):
        _run(tmp_path, {"n_customers": 1500, "covariates": "age"})
