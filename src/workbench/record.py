"""``record(name, value)``: store a key result of a notebook run into the run's ``results.json``.

Under the runner the environment variable ``WORKBENCH_RUN_DIR`` names the run's folder; ``record``
then merges ``{name: value}`` into ``<run dir>/results.json``. Outside the runner (JupyterLab,
plain Python) it stores nothing. Either way it returns ``value`` unchanged, so a notebook can write
``km = record("km", km_table)`` and display it.

Under the runner, importing ``workbench`` also installs a :func:`warnings.showwarning` wrapper that
appends every :class:`~workbench.exceptions.WorkbenchWarning` (class name and message) to
``<run dir>/warnings.jsonl`` while still showing it; the runner lists them in the manifest and
in the report's "Caveats" section.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from .results import to_jsonable

RUN_DIR_ENV = "WORKBENCH_RUN_DIR"
RESULTS_FILE = "results.json"


def run_dir() -> Path | None:
    """The current run's folder, or ``None`` when not under the runner."""
    d = os.environ.get(RUN_DIR_ENV)
    return Path(d) if d else None


META_KEY = "_meta"


def _result_meta(value: Any) -> dict | None:
    """Title, key, meta and caveats of a Result (``None`` for anything else)."""
    from .results import Result

    if not isinstance(value, Result):
        return None
    return to_jsonable(
        {"title": value.title, "key": value.key, "meta": value.meta, "caveats": value.caveats}
    )


def record(name: str, value: Any) -> Any:
    """Record ``value`` under ``name`` in the run's results; return ``value``.

    Parameters
    ----------
    name : str
        Key in ``results.json``; a non-empty identifier-like string.
    value : number, str, dict, list, DataFrame or Result
        DataFrames are stored as a list of records. A Result's summary records are stored under
        ``name`` and the rest of its ``to_record()`` (title, key, meta: n, events, alpha,
        fingerprint, exclusions, reference levels, method; caveats) under
        ``results["_meta"][name]``, so tables stay lists of records and their meta travels with them.

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
    if name == META_KEY:
        from .exceptions import ParameterError

        raise ParameterError(
            f"record(name, value): {META_KEY!r} is reserved for the results' meta; use another name."
        )
    d = run_dir()
    if d is not None:
        path = d / RESULTS_FILE
        data = {}
        if path.is_file():
            data = json.loads(path.read_text())
        meta_entry = _result_meta(value)
        if meta_entry is not None:
            rec = value.to_record()
            data[name] = to_jsonable(
                rec["summary"] if isinstance(rec, dict) and "summary" in rec else rec
            )
            data.setdefault(META_KEY, {})[name] = meta_entry
        else:
            data[name] = to_jsonable(value)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=False, allow_nan=False))
        tmp.replace(path)
    return value


# ---------------------------------------------------------------- warnings capture under the runner
WARNINGS_FILE = "warnings.jsonl"
_original_showwarning = None


def _capturing_showwarning(message, category, filename, lineno, file=None, line=None):
    """Append a WorkbenchWarning to ``<run dir>/warnings.jsonl``, then show it as usual."""
    try:
        from .exceptions import WorkbenchWarning

        d = run_dir()
        if d is not None and isinstance(category, type) and issubclass(category, WorkbenchWarning):
            entry = {"category": category.__name__, "message": str(message)}
            with open(d / WARNINGS_FILE, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")
    except OSError:  # never let bookkeeping break the analysis
        pass
    show = _original_showwarning or warnings._showwarning_orig
    show(message, category, filename, lineno, file, line)


def install_warnings_capture() -> bool:
    """Under the runner (``WORKBENCH_RUN_DIR`` set), log every WorkbenchWarning to the run folder.

    Wraps :func:`warnings.showwarning` so each caveat (class name and message) is appended to
    ``<run dir>/warnings.jsonl`` while still being shown. Idempotent; returns whether the capture
    is active. Called when ``workbench`` is imported.
    """
    global _original_showwarning
    if run_dir() is None:
        return False
    if warnings.showwarning is not _capturing_showwarning:
        _original_showwarning = warnings.showwarning
        warnings.showwarning = _capturing_showwarning
    return True


def read_warnings(directory: str | Path) -> list[dict]:
    """The captured warnings of a run folder, deduplicated, with a ``count`` each."""
    path = Path(directory) / WARNINGS_FILE
    if not path.is_file():
        return []
    seen: dict[tuple[str, str], dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = (str(entry.get("category", "")), str(entry.get("message", "")))
        if key in seen:
            seen[key]["count"] += 1
        else:
            seen[key] = {"category": key[0], "message": key[1], "count": 1}
    return list(seen.values())


# Installed on import (``workbench`` imports this module) and only under the runner: outside a run
# this does nothing. See :func:`install_warnings_capture`.
install_warnings_capture()
