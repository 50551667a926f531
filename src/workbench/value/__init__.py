"""Customer value: lifetime value from survival curves, the sBG cohort model, the customer value
matrix and health-score validation.

``clv_by_segment``        segment CLV from the margin-weighted Kaplan-Meier curve (+ labelled tail)
``predict_clv``           per-customer value (new / residual / with a retention strategy) from a model
``fit_sbg``               sBG fit to plain survivor counts; ``fit_sbg_customers``, ``fit_sbg_cohorts``
``value_matrix``          types I-IV by current value x growth potential; ``lorenz_curve``
``validate_health_score`` AUC / Uno's C / calibration / thresholds of a 0-100 health score
``key_findings``          Finding objects for the report

Modules: ``money`` (discounting, margins), ``clv`` (segment CLV), ``customer`` (customer CLV, CLTV
agreement), ``sbg`` / ``sbg_cohorts``, ``matrix``, ``health``, ``findings``.
"""

from __future__ import annotations

from .clv import CLVResult, clv_by_segment
from .customer import CLTVComparisonResult, CustomerValueResult, compare_cltv, predict_clv
from .findings import key_findings
from .health import (
    HealthScoreResult,
    build_health_score,
    cumulative_dynamic_auc,
    uno_concordance,
    validate_health_score,
)
from .matrix import (
    LorenzResult,
    StrategyEffectResult,
    ValueMatrixResult,
    lorenz_curve,
    strategy_effect,
    value_matrix,
)
from .money import discounted_area, margin_available, monthly_discount_rate, resolve_margin
from .sbg import (
    SBGResult,
    fit_sbg,
    fit_sbg_customers,
    sbg_derl,
    sbg_retention_rate,
    sbg_survival,
)
from .sbg_cohorts import SBGCohortsResult, fit_sbg_cohorts, simulate_sbg_survivors

__all__ = [
    "CLTVComparisonResult",
    "compare_cltv",
    "CLVResult",
    "CustomerValueResult",
    "HealthScoreResult",
    "LorenzResult",
    "SBGCohortsResult",
    "SBGResult",
    "StrategyEffectResult",
    "ValueMatrixResult",
    "build_health_score",
    "clv_by_segment",
    "cumulative_dynamic_auc",
    "discounted_area",
    "fit_sbg",
    "fit_sbg_cohorts",
    "fit_sbg_customers",
    "key_findings",
    "lorenz_curve",
    "margin_available",
    "monthly_discount_rate",
    "predict_clv",
    "resolve_margin",
    "sbg_derl",
    "sbg_retention_rate",
    "sbg_survival",
    "simulate_sbg_survivors",
    "strategy_effect",
    "uno_concordance",
    "validate_health_score",
    "value_matrix",
]
