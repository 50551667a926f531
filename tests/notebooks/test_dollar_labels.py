"""Labels as text: data whose category levels hold ``$...$`` (an invalid mathtext expression
among them) run through notebooks 01, 02 and 05 without matplotlib's ``ParseFatalException``.

The synthetic customer base is written to a CSV whose contract and segment levels are renamed to
hostile labels, with the synthetic spec's levels renamed to match; each notebook runs on it as a
user's own file (dataset ``file``) and must finish ``ok``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workbench.config import project_root
from workbench.data import simulate, synthetic_spec
from workbench.runner import run_notebook

pytestmark = pytest.mark.slow

LABELS = {"$\\frac$": "bad mathtext", "$x^2$ plan": "valid mathtext", "plan $30 $40": "dollars"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("dollars")
    frame, _ = simulate(1500, seed=5)
    spec = synthetic_spec().to_dict()
    hostile_levels = list(LABELS)
    for col in ("contract", "segment"):
        if col not in spec["categorical"]:
            continue
        levels = spec["categorical"][col]
        rename = {lvl: f"{hostile_levels[i % 3]} {lvl}" for i, lvl in enumerate(levels)}
        frame[col] = frame[col].astype(str).map(rename)
        spec["categorical"][col] = [rename[lvl] for lvl in levels]
    data = d / "dollars.csv"
    frame.to_csv(data, index=False)
    spec_path = d / "spec.yml"
    spec_path.write_text(yaml.safe_dump(spec))
    return data, spec_path


@pytest.mark.parametrize(
    "notebook", ["01-retention-overview", "02-tenure-survival", "05-customer-value"]
)
def test_dollar_labels_do_not_kill_notebook(notebook, hostile, tmp_path):
    data, spec = hostile
    nb = project_root() / "notebooks" / f"{notebook}.ipynb"
    out = run_notebook(
        nb,
        {"dataset": "file", "data_path": str(data), "spec_path": str(spec)},
        out=tmp_path,
        run_name="dollars",
        timeout=600,
    )
    err = out.manifest.get("error") or {}
    assert out.ok, f"{err.get('ename')}: {str(err.get('evalue'))[:500]}"
    assert "ParseFatalException" not in (out.run_dir / "report.html").read_text()
