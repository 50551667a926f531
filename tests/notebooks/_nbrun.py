"""Run an analysis notebook in a real kernel (papermill) the way the runner does, and return what
it recorded: ``WORKBENCH_RUN_DIR`` points ``workbench.record`` at ``tmp_path/results.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def execute(notebook: str | Path, tmp_path: Path, parameters: dict) -> dict:
    import papermill as pm

    saved = {k: os.environ.get(k) for k in ("WORKBENCH_RUN_DIR", "MPLBACKEND")}
    os.environ.update({"WORKBENCH_RUN_DIR": str(tmp_path), "MPLBACKEND": "Agg"})
    try:
        pm.execute_notebook(
            str(NOTEBOOKS / notebook),
            str(tmp_path / "out.ipynb"),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return json.loads((tmp_path / "results.json").read_text())


def parquet_customers(tmp_path: Path, spec_extra: str = ""):
    """20,000 customers (``aggregate.synthetic.make_customers``, seed 8) with a churn cause and an
    id, written to ``tmp_path/data/customers.parquet`` with a role spec; returns the frame and the
    folder (for notebooks run with ``dataset: parquet``)."""
    import numpy as np

    from workbench.aggregate.synthetic import make_customers

    df = make_customers(20_000, seed=8)
    rng = np.random.default_rng(8)
    df["cause"] = np.where(df["churned"] == 1, rng.choice(["price", "service"], len(df)), None)
    df.insert(0, "customer_id", [f"c{i}" for i in range(len(df))])
    data = tmp_path / "data"
    data.mkdir()
    df.to_parquet(data / "customers.parquet", index=False)
    (data / "spec.yml").write_text(
        "name: big_customers\nid: customer_id\ntenure: tenure\ntenure_unit: months\n"
        "event: churned\nstart_date: start_month\nsegment: plan\nchurn_type: cause\n" + spec_extra
    )
    return df, data
