"""Key findings on customer value, composed from the results (never literal sentences)."""

from __future__ import annotations

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label
from ..results import Result

__all__ = ["key_findings"]

#: a fitted retention rate that moves by less than this over the observed periods is "nearly constant"
FLAT_RETENTION = 0.01


def _unavailable(result: Result | None) -> bool:
    return result is not None and result.meta.get("available") is False


def _clv(clv: Result) -> list[Finding]:
    out: list[Finding] = []
    s = clv.summary
    section = "Lifetime value by segment"
    h = clv.meta.get("horizon_months")
    tail = tuple(w for w in clv.caveats if "extrapolated" in w)
    allrow = s[s["group"] == "all"]
    if len(allrow):
        a = allrow.iloc[0]
        interval = (
            f" ({ci_label(clv.meta['alpha'])} {a['ci_lower']:,.0f} to {a['ci_upper']:,.0f})"
            if a["ci_lower"] == a["ci_lower"]
            else ""
        )
        out.append(
            Finding(
                f"A new customer is worth {a['estimate']:,.0f}{interval} in discounted margin over "
                f"{h:g} months ({clv.meta.get('margin_source', 'margin')}).",
                HEADLINE,
                tail,
                section,
            )
        )
    seg = s[s["group"] != "all"].sort_values("estimate")
    if len(seg) >= 2:
        lo, hi = seg.iloc[0], seg.iloc[-1]
        caveats = tail
        if lo["ci_upper"] >= hi["ci_lower"]:
            caveats += ("the lowest and highest segments' intervals overlap.",)
        out.append(
            Finding(
                f"Lifetime value ranges from {lo['estimate']:,.0f} ({lo['group']}) to "
                f"{hi['estimate']:,.0f} ({hi['group']}).",
                MAIN,
                caveats,
                section,
            )
        )
    return out


def _span(values) -> str:
    """``"62.7%"`` for one value (or equal values), ``"60.1%-62.7%"`` for a range."""
    lo, hi = float(values.min()), float(values.max())
    return f"{lo:.1%}" if f"{lo:.1%}" == f"{hi:.1%}" else f"{lo:.1%}-{hi:.1%}"


def _sbg(sbg: Result) -> list[Finding]:
    s = sbg.summary
    section = "Cohort projection: the sBG model"
    if "converged" in s.columns and not s["converged"].all():
        bad = ", ".join(map(str, s.loc[~s["converged"].astype(bool), "cohort"]))
        return [
            Finding(
                f"The sBG fit did not converge for cohort(s) {bad}: the data barely identify how "
                "renewal probabilities vary across customers, so no retention projection is stated.",
                MAIN,
                section=section,
                kind="caveat",
            )
        ]
    first, last = s["retention_first_period"], s["retention_last_period"]
    text = (
        f"The sBG model fits {len(s)} cohort(s); the mean churn probability per period is "
        f"{_span(s['mean_churn'])}."
    )
    rise = (last - first).min()
    if rise >= FLAT_RETENTION:
        text += (
            f" Fitted retention rates rise with tenure (from {_span(first)} in the first period to "
            f"{_span(last)} in the last observed one) as the customers most likely to leave leave "
            "first."
        )
    else:
        text += (
            f" Fitted retention rates are nearly constant over the observed periods ({_span(first)} "
            f"to {_span(last)}): renewal probabilities vary little across customers."
        )
    return [Finding(text, MAIN, section=section)]


def _health(health: Result) -> list[Finding]:
    section = "Health score validation"
    m, s = health.meta, health.summary
    out = [
        Finding(
            f"The health score separates churners within {m['horizon_months']:g} months with AUC "
            f"{m['auc']:.2f} (0.5 = chance) and Uno's C {m['concordance']:.2f}.",
            MAIN,
            section=section,
        )
    ]
    for _, r in s[s["rule"] == "given"].iterrows():
        out.append(
            Finding(
                f"Threshold {r['threshold']:g} flags {r['flagged_share']:.0%} of customers and catches "
                f"{r['sensitivity']:.0%} of churners (specificity {r['specificity']:.0%}).",
                DETAIL,
                section=section,
            )
        )
    y = s[s["rule"] != "given"]
    if len(y):
        out.append(
            Finding(
                f"The data favour a threshold of {y['threshold'].iloc[0]:g} (Youden's J "
                f"{y['youden_j'].iloc[0]:.2f}).",
                DETAIL,
                ("chosen on the same data it is assessed on: optimistic.",),
                section,
            )
        )
    return out


def key_findings(
    *,
    clv: Result | None = None,
    sbg: Result | None = None,
    matrix: Result | None = None,
    lorenz: Result | None = None,
    health: Result | None = None,
    cltv: Result | None = None,
) -> list[Finding]:
    """Key findings on customer value as :class:`workbench.findings.Finding` objects.

    Each sentence is composed from the result it describes; an unavailable analysis becomes one
    sentence naming the role that would enable it (said once when several share the reason); an sBG
    fit that did not converge becomes a caveat, and "retention rates rise with tenure" is said only
    when the fitted rates do rise.
    """
    out: list[Finding] = []
    reasons: list[str] = []

    def unavailable(result, section):
        reason = result.meta.get("reason") or f"{section} is unavailable."
        if reason not in reasons:
            reasons.append(reason)
            out.append(Finding(reason, DETAIL, section=section, kind="caveat"))

    if _unavailable(clv):
        unavailable(clv, "Lifetime value by segment")
    elif clv is not None and len(clv.summary):
        out += _clv(clv)
    if sbg is not None and len(sbg.summary):
        out += _sbg(sbg)
    if _unavailable(matrix):
        unavailable(matrix, "Customer value matrix")
    elif matrix is not None and len(matrix.summary):
        s = matrix.summary.set_index("type")
        out.append(
            Finding(
                f"Type IV customers (high current value, high potential) are {s.loc['IV', 'customer_share']:.0%} "
                f"of active customers and hold {s.loc['IV', 'value_share']:.0%} of current value.",
                MAIN,
                section="Customer value matrix",
            )
        )
    if _unavailable(lorenz):
        unavailable(lorenz, "Customer value matrix")
    elif lorenz is not None and len(lorenz.summary):
        s = lorenz.summary.set_index("term")
        if "top 20% of customers" in s.index:
            out.append(
                Finding(
                    f"The top 20% of customers hold {s.loc['top 20% of customers', 'estimate']:.0%} of "
                    f"current value (Gini {lorenz.meta['gini']:.2f}).",
                    DETAIL,
                    section="Customer value matrix",
                )
            )
    if _unavailable(health):
        unavailable(health, "Health score validation")
    elif health is not None and len(health.summary):
        out += _health(health)
    if cltv is not None and cltv.meta.get("available") and len(cltv.summary):
        r = cltv.summary.iloc[0]
        out.append(
            Finding(
                f"The workbench's customer values and the data's own CLTV column rank customers with "
                f"Spearman correlation {r['estimate']:.2f} ({ci_label(cltv.meta['alpha'])} "
                f"{r['ci_lower']:.2f} to {r['ci_upper']:.2f}).",
                DETAIL,
                section="Customer-level value",
            )
        )
    return out
