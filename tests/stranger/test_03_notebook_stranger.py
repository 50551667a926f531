"""Notebook 03 on the stranger data sets, run as a stranger would: ``workbench run`` with only
``dataset``, ``data_path`` and ``spec_path``. It must exit 0, not support H1 (satisfaction is
unrelated to churn), name the all-churned top product count in the separation table, and leave no
surname or customer id in any file of the run folder (issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import builders
import pytest

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks" / "03-satisfaction-switching-costs.ipynb"


def _schema_supports_stranger() -> bool:
    from workbench.data.schema import TENURE_UNITS, RoleSpec

    return "years" in TENURE_UNITS and "personal" in RoleSpec.__dataclass_fields__


@pytest.mark.slow
@pytest.mark.skipif(
    not _schema_supports_stranger(),
    reason="the role spec has no `personal:` key / `years` unit yet (data schema, issue 12)",
)
def test_notebook_03_on_stranger_data(stranger, tmp_path):
    params = builders.notebook_parameters(stranger)
    cmd = [sys.executable, "-m", "workbench.cli", "run", str(NB), "--out", str(tmp_path)]
    cmd += ["--name", "stranger", "--timeout", "600"]
    for k, v in params.items():
        cmd += ["-p", k, v]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    run = next(tmp_path.rglob("results.json")).parent
    res = json.loads((run / "results.json").read_text())
    h1 = {r["hypothesis"]: r for r in res["hypotheses"]}["H1"]
    assert h1["decision"] == "not supported"
    views = {r["outcome"]: r for r in res["horizon_sensitivity"] if r["hypothesis"] == "H1"}
    assert {"cox", "discrete", "horizon"} <= set(views)
    assert all(
        r["decision"] == "not supported"
        for r in res["horizon_sensitivity"]
        if r["hypothesis"] == "H1"
    )
    sep = [r for r in res["separation"] if r["variable"] == "products"]
    assert sep and all("all churned" in r["levels"] for r in sep)
    leaks = builders.personal_values_in(run, stranger)
    assert leaks == {}, leaks
