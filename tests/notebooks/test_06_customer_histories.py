"""Notebook 06 (customer histories): structure checks and smoke runs on simulated and Telco data."""

from __future__ import annotations

from pathlib import Path

import nbformat
from _nbrun import execute

NB = Path(__file__).resolve().parents[2] / "notebooks" / "06-customer-histories.ipynb"


def test_notebook_is_stored_clean_with_a_parameters_cell():
    nb = nbformat.read(NB, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "workbench"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    names = [line.split(":")[0] for line in code[0].source.splitlines() if line.strip()]
    for p in (
        "dataset",
        "data_path",
        "n_customers",
        "seed",
        "window_months",
        "use_entry",
        "landmark_months",
        "landmark_horizon",
        "horizons",
        "tau",
        "alpha",
    ):
        assert p in names
    for c in code:
        assert not c.get("outputs") and c.get("execution_count") is None
        assert "def " not in c.source and "lambda" not in c.source
        if ".plot(" in c.source:
            assert c.source.startswith("# Figure: ")


def test_runs_on_simulated_histories(tmp_path):
    r = execute(NB.name, tmp_path, {"n_customers": 3000, "seed": 4})
    for key in (
        "snapshot_comparison",
        "km",
        "rmst",
        "time_varying_cox",
        "state_occupation",
        "expected_time_in_state",
        "transition_cox",
        "winback",
        "second_spell",
        "key_findings",
    ):
        assert r[key], key
    # landmark: satisfaction in force at 12 months, churn in the next 12 (simulated effect: log HR
    # -0.35 per point), better than chance but far from perfect
    auc = r["landmark_discrimination"][0]
    assert auc["term"].startswith("AUC at 12 months")
    assert 0.5 < auc["ci_lower"] and auc["estimate"] < 0.75
    counts = r["landmark_counts"]
    assert counts["n_at_risk"] + counts["n_ended_before"] + counts["n_entered_after"] == 3000
    assert r["landmark_validation"][0]["threshold"] == 3
    # the snapshot mistake is visible: the naive curve is above the delayed-entry curve
    assert all(row["difference"] > 0 for row in r["snapshot_comparison"])
    texts = [f["text"] for f in r["key_findings"]]
    assert any("delayed" in t or "risk sets" in t for t in texts)
    assert all("95% CI" in t for t in texts[:4])


def test_runs_on_telco_with_and_without_entry(tmp_path, telco_dir):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    r = execute(NB.name, tmp_path / "a", {"dataset": "telco", "data_path": str(telco_dir)})
    assert r["n_customers"] == 7043 and r["use_entry"] is True
    assert "landmark_validation" not in r  # no dated score history in a snapshot
    with_entry = {row["time"]: row["survival"] for row in r["km"]}
    r2 = execute(
        NB.name,
        tmp_path / "b",
        {"dataset": "telco", "data_path": str(telco_dir), "use_entry": False, "alpha": 0.1},
    )
    naive = {row["time"]: row["survival"] for row in r2["km"]}
    assert naive[12.0] - with_entry[12.0] > 0.3  # Telco's snapshot mistake is large
    assert "90% CI" in r2["key_findings"][0]["text"]
