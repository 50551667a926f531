"""Tenure survival analysis: how long customers stay, and what changes it.

Curves and tests
    :func:`kaplan_meier` (survival curves, median tenure), :func:`rmst` (restricted mean tenure),
    :func:`logrank_test`, :func:`pairwise_logrank`, :func:`trend_test` (comparing groups),
    :func:`cohort_survival` (curves by start cohort).
Hazards
    :func:`nelson_aalen`, :func:`smoothed_hazard`, :func:`stage_hazard` (hazard over the lifecycle).
Models
    :func:`fit_cox` (Cox proportional hazards, with ``.ph_test()`` = R ``cox.zph``),
    :func:`cause_specific_cox`, :func:`fit_parametric` (Weibull, log-normal, log-logistic, piecewise
    exponential, Royston-Parmar spline).
Competing churn causes
    :func:`cumulative_incidence`, :func:`gray_test`, :func:`fine_gray`.
Engine
    :func:`cox_fit` (the one Cox partial-likelihood engine, arrays in, :class:`CoxFit` out),
    :func:`predict_survival`, :func:`baseline_hazard`, :class:`EngineCoxPHFitter` (lifelines'
    ``CoxPHFitter`` running on the engine).
Findings
    :func:`key_findings`, :func:`most_common_cause`.

The arithmetic shared by these functions (product-limit estimate, Greenwood and robust variances,
RMST and its variance, the log-rank family, the censoring distribution) lives once in
:mod:`workbench.survival.kernels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cause_specific import cause_specific_cox
from .cohorts import CohortSurvivalResult, cohort_survival
from .competing import CumulativeIncidenceResult, cumulative_incidence
from .cox import CoxResult, fit_cox
from .diagnostics import PHTestResult
from .engine import CoxBaseline, CoxFit, baseline_hazard, cox_fit, predict_survival
from .findings import key_findings, most_common_cause
from .finegray import FineGrayResult, fine_gray
from .gray import GrayTestResult, gray_test
from .hazard import (
    HazardResult,
    NelsonAalenResult,
    StageHazardResult,
    nelson_aalen,
    smoothed_hazard,
    stage_hazard,
)
from .kernels import km_estimate, rmst_from_curve
from .km import KaplanMeierResult, kaplan_meier
from .logrank import (
    LogRankResult,
    PairwiseLogRankResult,
    TrendTestResult,
    logrank_test,
    pairwise_logrank,
    trend_test,
)
from .parametric import ParametricResult, fit_parametric
from .rmst import RMSTResult, rmst

if TYPE_CHECKING:  # imported on first use: lifelines alone costs ~1 s of import time
    from ._engine_lifelines import EngineCoxPHFitter

__all__ = [
    # curves and tests
    "kaplan_meier",
    "rmst",
    "logrank_test",
    "pairwise_logrank",
    "trend_test",
    "cohort_survival",
    # hazards
    "nelson_aalen",
    "smoothed_hazard",
    "stage_hazard",
    # models
    "fit_cox",
    "cause_specific_cox",
    "fit_parametric",
    # competing causes
    "cumulative_incidence",
    "gray_test",
    "fine_gray",
    # engine
    "cox_fit",
    "predict_survival",
    "baseline_hazard",
    "EngineCoxPHFitter",
    # findings
    "key_findings",
    "most_common_cause",
    # array kernels
    "km_estimate",
    "rmst_from_curve",
    # results
    "KaplanMeierResult",
    "RMSTResult",
    "LogRankResult",
    "PairwiseLogRankResult",
    "TrendTestResult",
    "CohortSurvivalResult",
    "NelsonAalenResult",
    "HazardResult",
    "StageHazardResult",
    "CoxResult",
    "PHTestResult",
    "ParametricResult",
    "CumulativeIncidenceResult",
    "GrayTestResult",
    "FineGrayResult",
    "CoxFit",
    "CoxBaseline",
]


def __getattr__(name: str):
    if name == "EngineCoxPHFitter":
        from ._engine_lifelines import EngineCoxPHFitter

        return EngineCoxPHFitter
    raise AttributeError(f"module 'workbench.survival' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
