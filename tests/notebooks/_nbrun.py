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
