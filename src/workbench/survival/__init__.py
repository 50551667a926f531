"""Tenure survival analysis: Kaplan-Meier and tests, hazards, Cox and diagnostics, parametric and
flexible models, RMST, competing churn causes, and a fast Cox engine.

Names are loaded lazily from their sub-modules, so ``import workbench.survival`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    # nonparametric.py
    "kaplan_meier": "nonparametric",
    "KaplanMeierResult": "nonparametric",
    "km_estimate": "nonparametric",
    "rmst": "nonparametric",
    "RMSTResult": "nonparametric",
    "rmst_from_curve": "nonparametric",
    # tests.py
    "logrank_test": "tests",
    "LogRankResult": "tests",
    "trend_test": "tests",
    "pairwise_logrank": "tests",
    "PairwiseLogRankResult": "tests",
    "TrendTestResult": "tests",
    # hazard.py
    "nelson_aalen": "hazard",
    "NelsonAalenResult": "hazard",
    "smoothed_hazard": "hazard",
    "HazardResult": "hazard",
    "stage_hazard": "hazard",
    "StageHazardResult": "hazard",
    # parametric.py
    "fit_parametric": "parametric",
    "ParametricResult": "parametric",
    # cohorts.py
    "cohort_survival": "cohorts",
    "CohortSurvivalResult": "cohorts",
    # cox.py
    "fit_cox": "cox",
    "CoxResult": "cox",
    "PHTestResult": "cox",
    "cause_specific_cox": "cox",
    # competing.py
    "cumulative_incidence": "competing",
    "CumulativeIncidenceResult": "competing",
    "gray_test": "competing",
    "GrayTestResult": "competing",
    "fine_gray": "competing",
    "FineGrayResult": "competing",
    # engine.py
    "cox_fit": "engine",
    "CoxFit": "engine",
    "CoxBaseline": "engine",
    "baseline_hazard": "engine",
    "predict_survival": "engine",
    # _engine_lifelines.py
    "EngineCoxPHFitter": "_engine_lifelines",
    # findings.py
    "key_findings": "findings",
    "most_common_cause": "findings",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'workbench.survival' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
