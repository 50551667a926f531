"""Paths and defaults in one place, with no import-time side effects.

Every path is computed on call, so tests and batch runs can point the workbench elsewhere with
environment variables:

``WORKBENCH_HOME``      project root (default: the folder holding ``pyproject.toml`` above this file,
                        else the current working directory)
``WORKBENCH_REPORTS``   where runs are written (default ``<home>/reports``)
``WORKBENCH_SHARED``    the shared folder beside the project (default ``<home>/../shared``)
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ALPHA = 0.05
DEFAULT_SEED = 0
DEFAULT_SYNTHETIC_CUSTOMERS = 20_000
# Average month length used whenever days and months are converted (365.25 / 12).
DAYS_PER_MONTH = 30.4375
DAYS_PER_WEEK = 7.0


def project_root() -> Path:
    """Return the project root (see module docstring)."""
    env = os.environ.get("WORKBENCH_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "workbench").is_dir():
            return parent
    return Path.cwd().resolve()


def reports_dir() -> Path:
    """Return the folder that holds run outputs."""
    env = os.environ.get("WORKBENCH_REPORTS")
    return Path(env).resolve() if env else project_root() / "reports"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def shared_dir() -> Path:
    env = os.environ.get("WORKBENCH_SHARED")
    return Path(env).resolve() if env else (project_root().parent / "shared").resolve()


def telco_dir() -> Path:
    """Default location of the extended IBM Telco release (``../shared/data/ibm-telco``)."""
    return shared_dir() / "data" / "ibm-telco"


def specs_dir() -> Path:
    """Role specs shipped with the package."""
    return Path(__file__).resolve().parent / "data" / "specs"
