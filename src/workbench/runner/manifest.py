"""Provenance of a run: ``manifest.json`` (parameters, data fingerprint, versions, commit, timings).

The dataset fingerprint is computed by the runner, not the notebook: before a notebook that declares
a ``dataset`` parameter runs, the runner calls :func:`workbench.data.load_dataset` with the run's
data parameters (``dataset``, ``data_path``, ``spec_path``, ``n_customers``, ``seed``) and stores
``Dataset.fingerprint``. The notebook loads the same data with the same call, so both agree; doing
it first also refuses a missing data file before a kernel is started, and lets a batch skip runs
whose notebook, parameters and data are unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..config import project_root
from ..results import to_jsonable

MANIFEST_FILE = "manifest.json"
SCHEMA_VERSION = 1
PACKAGES = (
    "workbench",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "lifelines",
    "matplotlib",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "dask",
    "distributed",
)
DATA_PARAMETERS = ("dataset", "data_path", "spec_path", "n_customers", "seed")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@lru_cache(maxsize=1)
def git_info() -> dict[str, Any]:
    """Commit of the project checkout and whether the working tree has changes."""
    root = project_root()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(dirty) if commit else None}


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def notebook_hash(path: str | Path) -> str:
    """Hash of the notebook's cells (sources and types) and kernel, ignoring stored outputs."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    h = hashlib.sha256()
    for cell in nb.cells:
        h.update(cell.cell_type.encode())
        h.update(b"\0")
        h.update(cell.source.encode())
        h.update(b"\1")
    return h.hexdigest()[:16]


def data_parameters(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The subset of ``params`` that selects the data, or ``None`` when the notebook loads none."""
    if "dataset" not in params:
        return None
    return {k: params[k] for k in DATA_PARAMETERS if k in params}


def dataset_info(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """Load the run's data as the notebook will and describe it (name, n, events, fingerprint)."""
    dp = data_parameters(params)
    if dp is None:
        return None
    from ..data import load_dataset

    name = str(dp.get("dataset", "synthetic"))
    kw: dict[str, Any] = {
        "data_path": dp.get("data_path") or None,
        "spec_path": dp.get("spec_path") or None,
    }
    if name == "synthetic":
        if "n_customers" in dp:
            kw["n_customers"] = dp["n_customers"]
        if "seed" in dp:
            kw["seed"] = dp["seed"]
    ds = load_dataset(name, **kw)
    spec = getattr(ds, "spec", None)
    info = {
        "name": name,
        "source": getattr(ds, "source", None),
        "n": _int_or_none(getattr(ds, "n", None)),
        "events": _int_or_none(getattr(ds, "events", None)),
        "fingerprint": ds.fingerprint,
        "id_col": getattr(spec, "id", None),
        "units": {
            "tenure_unit": getattr(spec, "tenure_unit", None),
            "currency": getattr(spec, "currency", None),
        },
    }
    period = data_period(ds)
    if period:
        info["period"] = period
    return info


def _int_or_none(value: Any) -> int | None:
    """An int from a count, ``None`` when a data kind has no such count (e.g. transaction logs
    have no churn events)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}


def data_period(ds) -> dict[str, str] | None:
    """The period the data cover: first and last start date and the last observed date (start
    plus tenure), ISO dates; ``None`` when the spec declares no start date."""
    import pandas as pd

    spec = getattr(ds, "spec", None)
    col = getattr(spec, "start_date", None)
    frame = getattr(ds, "frame", None)
    if not col or frame is None or col not in frame:
        return None
    try:
        start = pd.to_datetime(frame[col], errors="coerce")
        days = _DAYS_PER_UNIT.get(str(getattr(spec, "tenure_unit", "months")), 365.25 / 12)
        end = start + pd.to_timedelta(
            pd.to_numeric(frame[spec.tenure], errors="coerce") * days, unit="D"
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if start.notna().sum() == 0:
        return None
    return {
        "start": start.min().date().isoformat(),
        "end": start.max().date().isoformat(),
        "observed_until": end.max().date().isoformat() if end.notna().any() else None,
    }


def run_key(nb_hash: str, params: Mapping[str, Any], fingerprint: str | None) -> str:
    """What decides whether a batch run can be skipped: notebook, parameters and data."""
    blob = json.dumps(
        [nb_hash, to_jsonable(dict(params)), fingerprint], sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def write_manifest(run_dir: str | Path, manifest: Mapping[str, Any]) -> Path:
    path = Path(run_dir) / MANIFEST_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_jsonable(dict(manifest)), indent=1))
    tmp.replace(path)
    return path


def read_manifest(run_dir: str | Path) -> dict[str, Any] | None:
    path = Path(run_dir) / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def read_results(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
