"""The batch files shipped in batches/ load and validate against the real notebooks (no run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.config import project_root, telco_dir
from workbench.runner.batch import load_batch, plan_batch

ROOT = project_root()


@pytest.mark.parametrize("name", ["default", "segments", "telco", "grid"])
def test_shipped_batch_plans(name, tmp_path):
    if not list((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        pytest.skip("no analysis notebooks yet")
    try:
        spec = load_batch(ROOT / "batches" / f"{name}.yml")
    except Exception as e:  # a notebook named by the batch may not exist yet in this session
        if "matches no notebook" in str(e) or "unknown notebook" in str(e):
            pytest.skip(str(e))
        raise
    plans = plan_batch(spec, out=tmp_path)
    assert plans and all(p.run_dir.parent.parent == tmp_path for p in plans)
    assert all(Path(p.notebook).parent == ROOT / "notebooks" for p in plans)
    if name == "default":
        assert all(p.given == {} and p.run_name == "default" for p in plans)
        assert {p.notebook.name for p in plans} == {
            p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")
        }
    if name == "telco":
        assert all(p.given["data_path"] == str(telco_dir()) for p in plans)
        assert {p.dataset["n"] for p in plans} == {7043}
    if name == "grid":  # 4 segment columns x 5 horizons x 10 data sets, every run named apart
        assert len(plans) == 200 and len({p.run_name for p in plans}) == 200
        assert len({json.dumps(p.dataset, sort_keys=True) for p in plans}) == 10
