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
    assert r["key_findings"] and all(isinstance(k, str) for k in r["key_findings"])
    assert "customer_id" not in json.dumps(r)


@pytest.mark.slow
def test_runs_on_synthetic_observational(tmp_path):
    r = _run(tmp_path, n_customers=2000, n_bootstrap=20, seed=3)
    _check(r)
    assert r["study"]["design"] == "observational" and r["study"]["arms"] == ["member"]
    methods = {row["method"] for row in r["effects"]}
    assert methods == {"ipw", "aipw"}
    assert r["truth_check"] and all("truth" in row for row in r["truth_check"])
    assert r["winback"] and r["negative_control"]


@pytest.mark.slow
def test_runs_on_synthetic_randomised_offer(tmp_path):
    r = _run(
        tmp_path,
        n_customers=2000,
        n_bootstrap=20,
        treatment_col="retention_offer",
        weighting="none",
        confounders=["contract", "monthly_charge", "satisfaction", "age"],
    )
    _check(r)
    assert r["study"]["design"] == "randomised" and r["study"]["n_excluded"] > 0
    assert {row["method"] for row in r["effects"]} == {"km", "adjusted"}


@pytest.mark.slow
def test_runs_on_telco_offers(tmp_path, telco_dir):
    r = _run(
        tmp_path,
        dataset="telco",
        data_path=str(telco_dir),
        treatment_col="offer",
        weighting="overlap",
        n_bootstrap=20,
        horizons=[12, 24],
        confounders=["contract", "age", "monthly_charge", "internet_type", "payment_method"],
    )
    _check(r)
    assert r["study"]["arms"] == ["Offer A", "Offer B", "Offer C", "Offer D", "Offer E"]
    assert {row["arm"] for row in r["effects"]} == set(r["study"]["arms"])
    assert r["winback"] == [] and r["negative_control"] == []
