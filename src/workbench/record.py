"""``record(name, value)``: store a key result of a notebook run into the run's ``results.json``.

Under the runner the environment variable ``WORKBENCH_RUN_DIR`` names the run's folder; ``record``
then merges ``{name: value}`` into ``<run dir>/results.json``. Outside the runner (JupyterLab,
plain Python) it stores nothing. Either way it returns ``value`` unchanged, so a notebook can write
``km = record("km", km_table)`` and display it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .results import to_jsonable

RUN_DIR_ENV = "WORKBENCH_RUN_DIR"
RESULTS_FILE = "results.json"


def run_dir() -> Path | None:
    """The current run's folder, or ``None`` when not under the runner."""
    d = os.environ.get(RUN_DIR_ENV)
    return Path(d) if d else None


def record(name: str, value: Any) -> Any:
    """Record ``value`` under ``name`` in the run's results; return ``value``.

    Parameters
    ----------
    name : str
        Key in ``results.json``; a non-empty identifier-like string.
    value : number, str, dict, list, DataFrame or Result
        DataFrames are stored as a list of records; Results as their ``to_record()``.

    Examples
    --------
    >>> record("n_customers", 20_000)
    20000
    """
    if not isinstance(name, str) or not name.strip():
        from .exceptions import ParameterError

        raise ParameterError(
            f"record(name, value): `name` must be a non-empty string, got {name!r}. "
            "Use a short key such as 'cox' or 'median_tenure'."
        )
    d = run_dir()
    if d is not None:
        path = d / RESULTS_FILE
        data = {}
        if path.is_file():
            data = json.loads(path.read_text())
        data[name] = to_jsonable(value)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=False, allow_nan=False))
        tmp.replace(path)
    return value
