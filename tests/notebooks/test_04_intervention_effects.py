"""Notebook 04 (intervention effects): structure checks and smoke runs on synthetic and Telco data."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from _nbrun import execute

NB = Path(__file__).resolve().parents[2] / "notebooks" / "04-intervention-effects.ipynb"
REQUIRED = [
    "effects",
    "balance",
    "weights_summary",
    "hte",
    "e_value",
    "key_findings",
    "design_check",
    "effects_unadjusted",
    "negative_control",
    "qini",
    "winback",
    "sample_size",
    "placebo",
    "specification_check",
    "truth_check",
]


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
        "treatment_col",
        "control_arm",
        "design",
        "confounders",
        "specification",
        "compare_specifications",
        "horizons",
        "tau",
        "weighting",
        "n_bootstrap",
    ):
        assert p in names
    import papermill as pm

    assert set(pm.inspect_notebook(str(NB))) == set(names)  # papermill parses every parameter line
    for line in code[0].source.splitlines():
        assert ": " in line and " = " in line and "  # " in line, line
    for c in code:
        assert not c.get("outputs") and c.get("execution_count") is None
        assert (
            "def " not in c.source and "lambda" not in c.source and "\nfor " not in "\n" + c.source
        )
        if ".plot(" in c.source or "plot_" in c.source:
            assert c.source.startswith("# Figure: ")
    assert sum(c.source.startswith("## ") for c in nb.cells if c.cell_type == "markdown") >= 6


def _run(tmp_path: Path, **parameters) -> dict:
    return execute(NB.name, tmp_path, parameters)


def _check(r: dict) -> None:
    for key in REQUIRED:
        assert key in r, key
    for row in r["effects"]:
        assert {"arm", "estimand", "horizon", "estimate", "ci_lower", "ci_upper", "method"} <= set(
            row
        )
    assert {"covariate", "smd_before", "smd_after"} <= set(r["balance"][0])
    assert {"segment", "estimand", "estimate", "ci_lower", "ci_upper"} <= set(r["hte"][0])
    kf = r["key_findings"]
    assert kf and all({"text", "importance", "caveats"} <= set(k) for k in kf)
    assert "customer_id" not in json.dumps(r)


def _outputs(tmp_path: Path) -> str:
    """Every text output of the executed notebook (reprs would show up here)."""
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(str(o.get("text", "")))
            parts.append(str(o.get("data", {}).get("text/plain", "")))
            parts.append(str(o.get("data", {}).get("text/markdown", "")))
    return "\n".join(parts)


@pytest.mark.slow
def test_runs_on_synthetic_observational(tmp_path):
    r = _run(tmp_path, n_customers=2000, n_bootstrap=20, seed=3, treatment_col="loyalty_programme")
    _check(r)
    assert r["study"]["design"] == "observational" and r["study"]["arms"] == ["member"]
    # confounders from the spec's baseline roles, never a list of the built-in data's columns
    assert {"satisfaction", "contract", "monthly_charge"} <= set(r["study"]["confounders"])
    assert "natural cubic spline" in r["study"]["specification_text"]
    methods = {row["method"] for row in r["effects"]}
    assert methods == {"ipw", "aipw"}
    assert {row["specification"] for row in r["specification_check"]} == {"flexible", "linear"}
    assert r["truth_check"] and all("coverage_over_draws" in row for row in r["truth_check"])
    assert r["winback"] and r["negative_control"]
    head = [k for k in r["key_findings"] if k["importance"] == 1]
    assert len(head) == 1 and "was associated with" in head[0]["text"]
    assert "after weighting" in head[0]["text"] and "balance check" in head[0]["text"]
    assert any("Not randomised" in c for c in head[0]["caveats"])
    out = _outputs(tmp_path)
    assert "<Axes" not in out and "<InterventionStudy" not in out and "<workbench." not in out


@pytest.mark.slow
def test_defaults_take_the_spec_treatment_role(tmp_path):
    """No treatment_col: the spec's first treatment (the randomised retention offer)."""
    r = _run(tmp_path, n_customers=2000, n_bootstrap=20, weighting="none")
    _check(r)
    assert r["study"]["treatment"] == "retention_offer"
    assert r["study"]["design"] == "randomised" and r["study"]["n_excluded"] > 0
    assert {row["method"] for row in r["effects"]} == {"km", "adjusted"}
    head = [k for k in r["key_findings"] if k["importance"] == 1]
    assert "associated" not in head[0]["text"]  # randomised: causal words allowed


@pytest.mark.slow
def test_without_a_treatment_role_the_analysis_is_skipped(tmp_path):
    """A user's file whose spec declares no treatment: one sentence naming the role, the rest runs."""
    import yaml

    from workbench.data import simulate

    frame, _ = simulate(1500, seed=2)
    data = tmp_path / "customers.csv"
    frame.drop(columns=["retention_offer", "loyalty_programme"]).to_csv(data, index=False)
    spec = tmp_path / "spec.yml"
    spec.write_text(
        yaml.safe_dump(
            {
                "id": "customer_id",
                "tenure": "tenure",
                "event": "churned",
                "churn_type": "churn_type",
                "covariates": ["age", "monthly_charge"],
                "satisfaction": "satisfaction",
            }
        )
    )
    r = _run(tmp_path, dataset="file", data_path=str(data), spec_path=str(spec))
    assert r["study"]["available"] is False and "treatment role" in r["study"]["reason"]
    assert r["effects"] == [] and r["balance"] == []
    kf = r["key_findings"]
    assert (
        len(kf) == 1 and "no treatment role" in kf[0]["text"] and "`treatments:`" in kf[0]["text"]
    )
    out = _outputs(tmp_path)
    assert "No win-back figure" in out or r["winback"]


@pytest.mark.slow
def test_runs_on_telco_offers(tmp_path, telco_dir):
    """Telco defaults: the `offer` treatment role, confounders from the roles, arms by their levels."""
    r = _run(
        tmp_path,
        dataset="telco",
        data_path=str(telco_dir),
        weighting="overlap",
        n_bootstrap=20,
        horizons=[12, 24],
        negative_control_outcome="",
    )
    _check(r)
    assert r["study"]["treatment"] == "offer"
    assert r["study"]["arms"] == ["Offer A", "Offer B", "Offer C", "Offer D", "Offer E"]
    assert {row["arm"] for row in r["effects"]} == set(r["study"]["arms"])
    assert r["winback"] == [] and r["negative_control"] == []
    head = [k for k in r["key_findings"] if k["importance"] == 1]
    assert [h["text"].split(" was associated")[0] for h in head] == r["study"]["arms"]
    assert all(any("Not randomised" in c for c in h["caveats"]) for h in head)
    assert all("balance check" in h["text"] for h in head)
    out = _outputs(tmp_path)
    assert "No win-back figure" in out and "<Axes" not in out
