"""Customer value: lifetime value from survival curves, the sBG cohort model, the customer value
matrix and health-score validation.

``clv_by_segment``        segment CLV from the margin-weighted Kaplan-Meier curve (+ labelled tail)
``predict_clv``           per-customer value (new / residual / with a retention strategy) from a model
``fit_sbg``               sBG fit to plain survivor counts; ``fit_sbg_customers``, ``fit_sbg_cohorts``
``value_matrix``          types I-IV by current value x growth potential; ``lorenz_curve``
``validate_health_score`` AUC / Uno's C / calibration / thresholds of a 0-100 health score
``key_findings``          plain-language sentences for the report
"""

from __future__ import annotations

from ..results import Result
from .clv import (
    CLTVComparisonResult,
    CLVResult,
    CustomerValueResult,
    clv_by_segment,
    compare_cltv,
    discounted_area,
    monthly_discount_rate,
    predict_clv,
    resolve_margin,
)
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
from .sbg import (
    SBGCohortsResult,
    SBGResult,
    fit_sbg,
    fit_sbg_cohorts,
    fit_sbg_customers,
    sbg_derl,
    sbg_retention_rate,
    sbg_survival,
    simulate_sbg_survivors,
)

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


def key_findings(
    *,
    clv: Result | None = None,
    sbg: Result | None = None,
    matrix: Result | None = None,
    lorenz: Result | None = None,
    health: Result | None = None,
    cltv: Result | None = None,
) -> list[str]:
    """Short plain-language sentences on customer value (for the report's key findings)."""
    out: list[str] = []
    if clv is not None and len(clv.summary):
        s = clv.summary
        h = clv.meta.get("horizon_months")
        allrow = s[s["group"] == "all"]
        if len(allrow):
            a = allrow.iloc[0]
            out.append(
                f"A new customer is worth {a['estimate']:,.0f} (CI {a['ci_lower']:,.0f} to {a['ci_upper']:,.0f}) "
                f"in discounted margin over {h:g} months."
            )
        seg = s[s["group"] != "all"].sort_values("estimate")
        if len(seg) >= 2:
            out.append(
                f"Lifetime value ranges from {seg['estimate'].iloc[0]:,.0f} ({seg['group'].iloc[0]}) to "
                f"{seg['estimate'].iloc[-1]:,.0f} ({seg['group'].iloc[-1]})."
            )
        if (s["tail_share"] > 0).any():
            out.append(
                f"Up to {s['tail_share'].max():.0%} of a segment's value lies beyond the data's follow-up "
                "and is extrapolated."
            )
    if sbg is not None and len(sbg.summary):
        s = sbg.summary
        out.append(
            f"The sBG model fits {len(s)} cohort(s); mean churn probability per period ranges from "
            f"{s['mean_churn'].min():.1%} to {s['mean_churn'].max():.1%}, and retention rates rise with "
            "tenure as the riskiest customers leave first."
        )
    if matrix is not None and len(matrix.summary):
        s = matrix.summary.set_index("type")
        out.append(
            f"Type IV customers (high current value, high potential) are {s.loc['IV', 'customer_share']:.0%} "
            f"of active customers and hold {s.loc['IV', 'value_share']:.0%} of current value."
        )
    if lorenz is not None and len(lorenz.summary):
        s = lorenz.summary.set_index("term")
        if "top 20% of customers" in s.index:
            out.append(
                f"The top 20% of customers hold {s.loc['top 20% of customers', 'estimate']:.0%} of current "
                f"value (Gini {lorenz.meta['gini']:.2f})."
            )
    if health is not None:
        if not health.meta.get("available", True):
            out.append(
                "Health-score validation is unavailable: the data have no score or indicators."
            )
        elif len(health.summary):
            m = health.meta
            out.append(
                f"The health score separates churners within {m['horizon_months']:g} months with AUC "
                f"{m['auc']:.2f} (0.5 = chance)."
            )
            s = health.summary
            for _, r in s.iterrows():
                if r["rule"] == "given":
                    out.append(
                        f"Threshold {r['threshold']:g} flags {r['flagged_share']:.0%} of customers and catches "
                        f"{r['sensitivity']:.0%} of churners (specificity {r['specificity']:.0%})."
                    )
            y = s[s["rule"] != "given"]
            if len(y):
                out.append(
                    f"The data favour a threshold of {y['threshold'].iloc[0]:g} (Youden's J "
                    f"{y['youden_j'].iloc[0]:.2f})."
                )
    if cltv is not None and cltv.meta.get("available") and len(cltv.summary):
        out.append(
            f"The workbench's customer values and the data's own CLTV column rank customers with Spearman "
            f"correlation {cltv.meta['spearman']:.2f}."
        )
    return out
