"""Intervention effects on retention, randomised and observational, in months of customer life and
revenue.

A study is explicit stages:

1. declare: :class:`InterventionStudy` (treatment, control arm, outcome, horizons, tau, confounders);
2. check: ``study.check()`` (arms, events, follow-up, positivity), ``study.balance()`` (means,
   levels, squares, splines, interactions, weighted KS, propensity calibration), ``study.weights()``;
3. estimate: ``study.estimate(weighting=...)`` -> :class:`EffectResult` (KM contrasts and log-rank,
   IPW / overlap-weighted curves with bootstrap CIs, augmented (doubly robust) estimates);
4. probe: ``study.specification_check()``, :func:`e_values`, :func:`negative_control`; then :func:`heterogeneity`, :func:`uplift`,
   :func:`winback`, :func:`sample_size`; :func:`key_findings` for the report.

The fast IPW curve with bootstrap CIs (the benchmark's entry point) is :func:`ipw_survival_curve`.
"""

from __future__ import annotations

import pandas as pd

from .balance import BalanceResult
from .bootstrap import bca_interval, bootstrap_replicates, percentile_interval
from .curves import IPWCurveResult, ipw_survival_curve
from .design import DesignCheckResult, EffectResult, InterventionStudy, WeightsResult
from .estimation import SpecificationCheckResult
from .findings import key_findings, simulation_study, truth_comparison
from .heterogeneity import HeterogeneityResult, UpliftResult, heterogeneity, uplift
from .power import PowerResult, power_logrank, sample_size, sample_size_from
from .propensity import PropensityResult
from .sensitivity import (
    EValueResult,
    NegativeControlResult,
    NegativeControlWarning,
    PlaceboResult,
    e_value,
    e_values,
    negative_control,
    placebo_treatment,
)
from .unavailable import (
    UnavailableStudy,
    declare_study,
    default_confounders,
    passes_unavailable,
)
from .winback import WinbackResult, winback

# an unavailable study (no treatment role) flows through every stage as an empty result saying why
e_values = passes_unavailable(EValueResult)(e_values)
negative_control = passes_unavailable(NegativeControlResult)(negative_control)
placebo_treatment = passes_unavailable(PlaceboResult)(placebo_treatment)
heterogeneity = passes_unavailable(HeterogeneityResult, interaction=pd.DataFrame)(heterogeneity)
uplift = passes_unavailable(UpliftResult, curve=pd.DataFrame)(uplift)
sample_size_from = passes_unavailable(PowerResult)(sample_size_from)

__all__ = [
    "BalanceResult",
    "DesignCheckResult",
    "EValueResult",
    "EffectResult",
    "HeterogeneityResult",
    "IPWCurveResult",
    "InterventionStudy",
    "NegativeControlResult",
    "NegativeControlWarning",
    "PowerResult",
    "PropensityResult",
    "UnavailableStudy",
    "UpliftResult",
    "WeightsResult",
    "WinbackResult",
    "bca_interval",
    "bootstrap_replicates",
    "declare_study",
    "default_confounders",
    "e_value",
    "e_values",
    "heterogeneity",
    "ipw_survival_curve",
    "key_findings",
    "negative_control",
    "percentile_interval",
    "placebo_treatment",
    "PlaceboResult",
    "SpecificationCheckResult",
    "power_logrank",
    "sample_size",
    "sample_size_from",
    "simulation_study",
    "truth_comparison",
    "uplift",
    "winback",
]
