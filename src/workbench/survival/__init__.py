"""Tenure survival analysis: Kaplan-Meier and tests, hazards, Cox and diagnostics, parametric and
flexible models, RMST, competing churn causes, and a fast Cox engine.

Names are loaded lazily from their sub-modules, so ``import workbench.survival`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    # nonparametric.py
    "kaplan_meier": "nonparametric", "KaplanMeierResult": "nonparametric",
    "km_estimate": "nonparametric", "rmst": "nonparametric", "RMSTResult": "nonparametric",
    "rmst_from_curve": "nonparametric",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'workbench.survival' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
