"""Running notebooks: parameters, papermill execution, HTML export, batches, index, provenance.

``run_notebook``   one run: validate parameters, papermill in a child process, report, manifest
``run_batch``      notebooks x parameter grid in separate processes (local pool or Dask)
``read_parameters`` / ``validate_parameters``   the ``parameters`` cell of a notebook
``export_report``  nbconvert HTML report (key findings, contents, figures, caveats, provenance)
``write_index``    ``reports/index.html``

Submodules are imported lazily so that ``import workbench`` stays light.
"""

from __future__ import annotations

from importlib import import_module

from ._child import fast_imports

fast_imports()  # nbformat loads in seconds, not ~5 s (see _child.fast_imports)

_EXPORTS = {
    "run_notebook": ".execute",
    "plan_run": ".execute",
    "RunOutcome": ".execute",
    "run_batch": ".batch",
    "load_batch": ".batch",
    "BatchOutcome": ".batch",
    "read_parameters": ".parameters",
    "validate_parameters": ".parameters",
    "NotebookParameter": ".parameters",
    "export_report": ".export",
    "write_index": ".index",
    "write_batch_summary": ".index",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'workbench.runner' has no attribute {name!r}")
