"""Key findings of the retention overview, composed from its results (never literal sentences)."""

from __future__ import annotations

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label
from ..results import Result

__all__ = ["key_findings"]

MIN_AT_RISK = 30


def _ci(row, alpha, fmt="{:.1%}") -> str:
    return f"{ci_label(alpha)} {fmt.format(row['ci_lower'])} to {fmt.format(row['ci_upper'])}"


def _rates(rates: Result) -> list[Finding]:
    s = rates.summary.dropna(subset=["estimate"])
    if (s["customers_at_risk"] >= MIN_AT_RISK).any():
        s = s[s["customers_at_risk"] >= MIN_AT_RISK]
    if not len(s):
        return []
    alpha = rates.meta["alpha"]
    last = s.iloc[-1]
    who = (
        f"Over the observation window, {last['estimate']:.1%} of the {int(last['customers_at_risk']):,} customers churned"
        if last["period"] == "observation window"
        else f"In {last['period']}, {last['estimate']:.1%} of the {int(last['customers_at_risk']):,} "
        "customers active at its start churned"
    )
    caveats = []
    if not bool(last.get("complete", True)):
        caveats.append(
            f"{last['period']} was not complete at the analysis date: the rate covers part of it."
        )
    out = [
        Finding(
            f"{who} ({_ci(last, alpha)}; retention {last['retention_rate']:.1%}).",
            HEADLINE,
            tuple(caveats),
            "Churn and retention per period",
        )
    ]
    if len(s) >= 4:
        mean4 = s["estimate"].iloc[-4:].mean()
        out.append(
            Finding(
                f"Average churn over the last 4 periods: {mean4:.1%} per period.",
                DETAIL,
                section="Churn and retention per period",
            )
        )
    return out


def _lifecycle(lifecycle: Result) -> list[Finding]:
    s = lifecycle.summary
    if "group" in s.columns or not len(s):
        return []
    section = "Churn over the customer lifecycle"
    caveats = tuple(w for w in lifecycle.caveats if "grid" in w or "whole steps" in w)
    events = int(s["churned"].sum())
    if events == 0:
        return [
            Finding(
                f"No churn was observed in any stage of the life table ({int(s['customers_at_risk'].iloc[0]):,} "
                "customers at risk): churn cannot be compared across the lifecycle.",
                MAIN,
                caveats,
                section,
                kind="caveat",
            )
        ]
    d = s[s["customer_months"] > 0].dropna(subset=["monthly_churn_rate"])
    if len(d) < 2:
        return []
    hi = d.loc[d["monthly_churn_rate"].idxmax()]
    lo = d.loc[d["monthly_churn_rate"].idxmin()]
    if hi["stage"] == lo["stage"] or hi["monthly_churn_rate"] == lo["monthly_churn_rate"]:
        return []
    alpha = lifecycle.meta["alpha"]
    label = ci_label(alpha)
    text = (
        f"Monthly churn is highest at tenure {hi['stage']} months ({hi['monthly_churn_rate']:.2%}, {label} "
        f"{hi['monthly_ci_lower']:.2%} to {hi['monthly_ci_upper']:.2%}) and lowest at {lo['stage']} months "
        f"({lo['monthly_churn_rate']:.2%}, {label} {lo['monthly_ci_lower']:.2%} to {lo['monthly_ci_upper']:.2%})."
    )
    extra = ()
    if hi["monthly_ci_lower"] <= lo["monthly_ci_upper"]:
        extra = ("the two stages' intervals overlap: the difference may be chance.",)
    return [Finding(text, MAIN, caveats + extra, section)]


def key_findings(
    *,
    rates: Result | None = None,
    lifecycle: Result | None = None,
    causes: Result | None = None,
    segments: Result | None = None,
    cohorts: Result | None = None,
) -> list[Finding]:
    """Key findings of the retention overview as :class:`workbench.findings.Finding` objects.

    Every number comes from the result it describes; intervals are labelled from that result's
    ``alpha``; an unavailable analysis becomes one sentence naming the role that would enable it.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.retention import lifecycle_rates
    >>> df = pd.DataFrame({"t": [1.0, 2.0, 8.0, 9.0], "e": [0, 0, 0, 0]})
    >>> [f.text for f in key_findings(lifecycle=lifecycle_rates(df, stages=[0, 3, 12], duration_col="t", event_col="e"))]
    ['No churn was observed in any stage of the life table (4 customers at risk): churn cannot be compared across the lifecycle.']
    """
    out: list[Finding] = []
    if rates is not None and len(rates.summary):
        out += _rates(rates)
    if lifecycle is not None:
        out += _lifecycle(lifecycle)
    if causes is not None:
        if causes.meta.get("available") is False:
            out.append(
                Finding(causes.meta["reason"], DETAIL, section="Churn by cause", kind="caveat")
            )
        elif len(causes.summary) and "group" not in causes.summary.columns:
            top = causes.summary.sort_values("estimate", ascending=False).iloc[0]
            out.append(
                Finding(
                    f"The leading churn cause is '{top['cause']}', {top['estimate']:.0%} of all churners "
                    f"({_ci(top, causes.meta['alpha'], '{:.0%}')}).",
                    MAIN,
                    section="Churn by cause",
                )
            )
    if segments is not None and len(segments.summary) >= 2:
        s = segments.summary.dropna(subset=["estimate"]).sort_values("estimate")
        if len(s) >= 2:
            caveats = ()
            if s["ci_upper"].iloc[0] >= s["ci_lower"].iloc[-1]:
                caveats = (
                    "the lowest and highest segments' intervals overlap: the difference may be chance.",
                )
            out.append(
                Finding(
                    f"By {segments.meta.get('group_col', 'segment')}, monthly churn ranges from "
                    f"{s['estimate'].iloc[0]:.2%} ({s['group'].iloc[0]}) to "
                    f"{s['estimate'].iloc[-1]:.2%} ({s['group'].iloc[-1]}).",
                    MAIN,
                    caveats,
                    "Churn by segment",
                )
            )
    if cohorts is not None:
        if cohorts.meta.get("available") is False:
            out.append(
                Finding(
                    cohorts.meta["reason"],
                    DETAIL,
                    section="Retention by joining cohort",
                    kind="caveat",
                )
            )
        elif len(cohorts.summary):
            s = cohorts.summary.dropna(subset=["retention_pct"])
            at12 = s[s["months_since_joining"] == 12]
            if len(at12):
                out.append(
                    Finding(
                        f"Across the {len(at12)} cohorts observable for 12 months, 12-month retention ranges "
                        f"from {at12['retention_pct'].min():.0f}% to {at12['retention_pct'].max():.0f}%.",
                        DETAIL,
                        section="Retention by joining cohort",
                    )
                )
    return out
