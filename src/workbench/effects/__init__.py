"""Intervention effects on retention, randomised and observational, in months of customer life and
revenue.

A study is explicit stages:

1. declare: :class:`InterventionStudy` (treatment, control arm, outcome, horizons, tau, confounders);
2. check: ``study.check()`` (arms, events, follow-up, positivity), ``study.balance()``,
   ``study.weights()``;
3. estimate: ``study.estimate(weighting=...)`` -> :class:`EffectResult` (KM contrasts and log-rank,
   IPW / overlap-weighted curves with bootstrap CIs, augmented (doubly robust) estimates);
4. probe: :func:`e_values`, :func:`negative_control`; then :func:`heterogeneity`, :func:`uplift`,
   :func:`winback`, :func:`sample_size`; :func:`key_findings` for the report.

The fast IPW curve with bootstrap CIs (the benchmark's entry point) is :func:`ipw_survival_curve`.
"""

from __future__ import annotations

import math

import pandas as pd

from .balance import BalanceResult
from .bootstrap import bca_interval, bootstrap_replicates, percentile_interval
from .curves import IPWCurveResult, ipw_survival_curve
from .design import DesignCheckResult, EffectResult, InterventionStudy, WeightsResult
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
from .winback import WinbackResult, winback

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
    "UpliftResult",
    "WeightsResult",
    "WinbackResult",
    "bca_interval",
    "bootstrap_replicates",
    "e_value",
    "e_values",
    "heterogeneity",
    "ipw_survival_curve",
    "key_findings",
    "negative_control",
    "percentile_interval",
    "placebo_treatment",
    "PlaceboResult",
    "power_logrank",
    "sample_size",
    "sample_size_from",
    "truth_comparison",
    "uplift",
    "winback",
]


def _fmt_ci(lo, hi, d=2):
    return f"{lo:.{d}f} to {hi:.{d}f}"


def key_findings(
    effects: EffectResult,
    *,
    balance: BalanceResult | None = None,
    e_value_result=None,
    heterogeneity_result=None,
    negative_control_result=None,
    winback_result=None,
    unadjusted: EffectResult | None = None,
    uplift_result=None,
    placebo_result=None,
    max_items: int = 12,
) -> list[str]:
    """Short plain-language sentences summarising a study's results, for the report.

    Uses the augmented estimate where present, else the estimate of ``effects.meta['method']``;
    ``unadjusted`` (``study.estimate('none', augment=False)``) adds how far adjustment moved it.
    """
    s = effects.summary
    m = effects.meta
    out = []
    pct = 100 * (1 - m.get("alpha", 0.05))
    pref = (
        "aipw"
        if (s["method"] == "aipw").any()
        else ("adjusted" if (s["method"] == "adjusted").any() else None)
    )
    for arm in dict.fromkeys(s["arm"]):
        a = s[s["arm"] == arm]
        meth = pref if pref and (a["method"] == pref).any() else m.get("method")
        am = a[a["method"] == meth]
        r = am[am["estimand"] == "rmst_difference"]
        if len(r):
            r = r.iloc[0]
            verb = "gained" if r["estimate"] >= 0 else "lost"
            out.append(
                f"{arm} vs {m['control_arm']} ({meth}): customers {verb} {abs(r['estimate']):.2f} months of "
                f"customer life within the first {m['tau']:g} months ({pct:.0f}% CI "
                f"{_fmt_ci(r['ci_lower'], r['ci_upper'])})."
            )
        h = am[am["estimand"] == "survival_difference"]
        if len(h):
            h = h.iloc[len(h) // 2]
            out.append(
                f"{arm}: retention at {h['horizon']:g} months differs by {100 * h['estimate']:+.1f} "
                f"percentage points ({pct:.0f}% CI {100 * h['ci_lower']:+.1f} to {100 * h['ci_upper']:+.1f})."
            )
        rev = am[am["estimand"] == "incremental_revenue"]
        if len(rev):
            rv = rev.iloc[0]
            out.append(
                f"{arm}: incremental margin of {rv['estimate']:.1f} per customer over {m['tau']:g} months "
                f"({pct:.0f}% CI {_fmt_ci(rv['ci_lower'], rv['ci_upper'], 1)})."
            )
    if unadjusted is not None and m.get("design") == "observational":
        u = unadjusted.summary
        for arm in dict.fromkeys(s["arm"]):
            ur = u[(u["arm"] == arm) & (u["estimand"] == "rmst_difference")]
            ar = s[(s["arm"] == arm) & (s["estimand"] == "rmst_difference")]
            if len(ur) and len(ar):
                shift = ar["estimate"].iloc[-1] - ur["estimate"].iloc[0]
                out.append(
                    f"{arm}: the unadjusted comparison gives {ur['estimate'].iloc[0]:+.2f} months; adjusting for "
                    f"the confounders moves it by {shift:+.2f} months (customers were not assigned at random)."
                )
    if balance is not None and len(balance.summary):
        worst = balance.summary["smd_after"].abs().max()
        before = balance.summary["smd_before"].abs().max()
        out.append(
            f"Weighting reduced the largest standardised mean difference from {before:.2f} to {worst:.2f}"
            + (" (balanced)." if worst < 0.1 else " (some imbalance remains).")
        )
    if e_value_result is not None and len(e_value_result.summary):
        ev = e_value_result.summary
        ev = ev[ev["measure"] == "hazard_ratio"]
        if len(ev):
            e = ev.iloc[-1]
            out.append(
                f"An unmeasured confounder would need a risk ratio of {e['e_value']:.2f} with both treatment "
                f"and churn to explain the hazard ratio away (E-value; {e['e_value_ci']:.2f} for the CI)."
            )
    if negative_control_result is not None and len(negative_control_result.summary):
        nc = negative_control_result.summary.iloc[0]
        ok = nc["ci_lower"] <= 1 <= nc["ci_upper"]
        out.append(
            f"Negative control ({nc['estimand']}): HR {nc['estimate']:.2f} "
            + (
                "- no sign of residual confounding."
                if ok
                else "- not null: residual confounding is likely."
            )
        )
    if placebo_result is not None and len(placebo_result.summary):
        pr = placebo_result.summary
        pr = pr[pr["estimand"] == "rmst_difference"]
        if len(pr):
            r = pr.iloc[0]
            out.append(
                f"Placebo check: with the arms shuffled the RMST difference averages {r['placebo_mean']:+.2f} months "
                f"(SD {r['placebo_sd']:.2f}) against the observed {r['observed']:+.2f} (permutation p = {r['p_value']:.3f})."
            )
    if heterogeneity_result is not None and len(heterogeneity_result.tables.get("interaction", [])):
        it = heterogeneity_result.tables["interaction"]
        it = it[it["estimand"] == "survival_difference"]
        sig = it[it["p_value"] < m.get("alpha", 0.05)]
        if len(sig):
            out.append(
                "The effect differs by "
                + ", ".join(dict.fromkeys(sig["segment"]))
                + " (interaction test)."
            )
        elif len(it):
            out.append("No clear difference of the effect between segments (interaction tests).")
    if uplift_result is not None and len(uplift_result.summary):
        q = uplift_result.summary.iloc[0]
        out.append(
            f"{q['arm']}: targeting the 20% of customers with the highest predicted uplift gives "
            f"{100 * q['uplift_top20']:+.1f} points of retention at {q['horizon']:g} months among them, against "
            f"{100 * q['uplift_all']:+.1f} on average (Qini coefficient {q['qini_coefficient']:.4f})."
        )
    if winback_result is not None and len(winback_result.summary):
        d = winback_result.summary.iloc[-1]
        out.append(
            f"Win-back contact changed reactivation within {d['horizon']:g} months by "
            f"{100 * d['estimate']:+.1f} percentage points ({pct:.0f}% CI {100 * d['ci_lower']:+.1f} to "
            f"{100 * d['ci_upper']:+.1f})."
        )
    return [x for x in out if x and not (isinstance(x, float) and math.isnan(x))][:max_items]


def truth_comparison(effects: EffectResult, truth: dict | None) -> pd.DataFrame:
    """Estimates next to the simulator's true effects (synthetic data), with whether the CI covers.

    Returns an empty table when ``truth`` (``Dataset.truth``) is None or does not know the treatment.
    Columns: arm, estimand, horizon, method, estimate, ci_lower, ci_upper, truth, covered.
    """

    cols = [
        "arm",
        "estimand",
        "horizon",
        "method",
        "estimate",
        "ci_lower",
        "ci_upper",
        "truth",
        "covered",
    ]
    treatment = effects.meta.get("treatment")
    if not truth or treatment not in truth or "ate" not in truth[treatment]:
        return pd.DataFrame(columns=cols)
    ate = truth[treatment]["ate"]
    rows = []
    for _, r in effects.summary.iterrows():
        key = None
        if r["estimand"] == "survival_difference":
            key = f"survival_difference_{r['horizon']:g}"
        elif r["estimand"] == "rmst_difference":
            key = f"rmst_difference_{r['horizon']:g}"
        if key in ate:
            t = ate[key]
            rows.append(
                {
                    **{c: r[c] for c in cols[:7]},
                    "truth": t,
                    "covered": bool(r["ci_lower"] <= t <= r["ci_upper"])
                    if r["ci_lower"] == r["ci_lower"]
                    else None,
                }
            )
    return pd.DataFrame(rows, columns=cols)
