"""Notebooks 04 (intervention effects) and 06 (customer histories) on the stranger data sets, run
as a stranger would: ``workbench run`` with only ``dataset``, ``data_path`` and ``spec_path``. The
stranger files have no treatment, no entry window and no history roles: each notebook must exit 0,
say in one sentence which role would enable the missing analysis, and leave no surname or customer
id in any file of the run folder (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import builders
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {
    "04": ROOT / "notebooks" / "04-intervention-effects.ipynb",
    "06": ROOT / "notebooks" / "06-customer-histories.ipynb",
}


@pytest.mark.slow
@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_notebook_on_stranger_data(nb, stranger, tmp_path):
    params = builders.notebook_parameters(stranger)
    cmd = [sys.executable, "-m", "workbench.cli", "run", str(NOTEBOOKS[nb]), "--out", str(tmp_path)]
    cmd += ["--name", "stranger", "--timeout", "600"]
    for k, v in params.items():
        cmd += ["-p", k, v]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    run = next(tmp_path.rglob("results.json")).parent
    report = (run / "report.html").read_text()
    assert "Traceback" not in report
    if nb == "06":  # no entry role, no dated history: each section says which role enables it
        assert "declare no `entry` role" in report
        assert report.count("have no dated history") >= 3
    leaks = builders.personal_values_in(run, stranger)
    assert leaks == {}, leaks
