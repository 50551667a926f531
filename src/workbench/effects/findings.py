"""Key findings of an intervention study, composed from its results (:class:`workbench.findings.Finding`).

Ranking: one headline per arm (importance 1: the RMST difference with its interval, and for
observational designs the words "was associated with ... after weighting", the balance verdict and
the observational caveat beside it); the retention difference and incremental margin per arm
(importance 2); robustness and planning details (importance 3). Decision words follow the interval;
causal verbs only for randomised designs; interval labels from ``alpha``.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label


def _arm_label(arm, treatment: str) -> str:
    """The arm as the data name it; a bare 0/1 code becomes ``treatment = 1``."""
    a = str(arm)
    return f"{treatment} = {a}" if a in ("0", "1", "0.0", "1.0", "True", "False") else a


def _ci(lo, hi, d=2, scale=1.0, sign=False) -> str:
    f = f"{{:+.{d}f}}" if sign else f"{{:.{d}f}}"
    return f"{f.format(scale * lo)} to {f.format(scale * hi)}"


def _excludes_zero(r) -> bool:
    return bool(r["ci_lower"] > 0 or r["ci_upper"] < 0)


def key_findings(
    effects,
    *,
    balance=None,
    specification_check=None,
    e_value_result=None,
    heterogeneity_result=None,
    negative_control_result=None,
    winback_result=None,
    unadjusted=None,
    uplift_result=None,
    placebo_result=None,
    truth=None,
) -> list[Finding]:
    """Key findings of a study, ranked by importance, each with the caveats that qualify it.

    Parameters
    ----------
    effects : EffectResult
        ``study.estimate(...)``; the augmented estimate is preferred where present.
    balance : BalanceResult, optional
        Its verdict and flagged terms travel with every observational headline.
    specification_check : SpecificationCheckResult, optional
        Material shifts travel with the arm's headline.
    e_value_result, heterogeneity_result, negative_control_result, winback_result, unadjusted,
    uplift_result, placebo_result : optional
        Details (importance 3).
    truth : DataFrame, optional
        :func:`truth_comparison` (simulated data): the estimator's bias and coverage over repeated
        draws.

    Returns
    -------
    list of Finding
    """
    from .unavailable import unavailable_findings

    none = unavailable_findings(effects)
    if none is not None:
        return none
    s = effects.summary
    m = effects.meta
    alpha = m.get("alpha", 0.05)
    lab = ci_label(alpha)
    observational = m.get("design") == "observational"
    treatment = m.get("treatment", "treatment")
    control = _arm_label(m.get("control_arm"), treatment)
    tau = m.get("tau")
    out: list[Finding] = []
    pref = next((p for p in ("aipw", "adjusted") if (s["method"] == p).any()), None)
    study_caveats = [str(c) for c in effects.warnings]
    common = []
    if observational:
        conf = ", ".join(m.get("confounders", []))
        common.append(
            f"Not randomised: an association after weighting for {conf}, not a proven effect; "
            "a confounder that was not measured could explain it (see the E-value)."
        )
    verdict = None
    if balance is not None and observational:
        verdict = balance.meta.get("verdict")
        flagged = [w for w in balance.warnings if "residual imbalance" in w or "miscalibrated" in w]
    for arm in dict.fromkeys(s["arm"]):
        a = s[s["arm"] == arm]
        meth = pref if pref and (a["method"] == pref).any() else a["method"].iloc[0]
        am = a[a["method"] == meth]
        label = _arm_label(arm, treatment)
        arm_cav = list(common)
        arm_verdict = verdict
        if verdict is not None:
            arm_verdict = balance.meta.get("verdicts", {}).get(
                f"{arm} vs {m.get('control_arm')}", verdict
            )
        if arm_verdict == "residual imbalance":
            arm_cav += [w for w in flagged if f"({arm} vs" in w]
        arm_cav += [
            w for w in study_caveats if f"'{arm}'" in w or f"({arm} vs" in w or f"arm '{arm}'" in w
        ]
        if specification_check is not None:
            arm_cav += [w for w in specification_check.warnings if f"({arm} vs" in w]
        r = am[am["estimand"] == "rmst_difference"]
        if len(r):
            r = r.iloc[0]
            size = f"{abs(r['estimate']):.2f} {'more' if r['estimate'] >= 0 else 'fewer'} months"
            ci = f"({lab} {_ci(r['ci_lower'], r['ci_upper'], sign=True)} months)"
            if observational:
                bal = (
                    f"; balance check: {arm_verdict}"
                    if arm_verdict in ("balanced", "residual imbalance")
                    else ""
                )
                text = (
                    f"{label} was associated with {size} of customer life within the first {tau:g} "
                    f"months than {control} after weighting ({meth}) {ci}{bal}."
                )
            elif _excludes_zero(r):
                verb = "gained" if r["estimate"] > 0 else "lost"
                text = (
                    f"{label} vs {control}: customers {verb} {abs(r['estimate']):.2f} months of customer "
                    f"life within the first {tau:g} months ({meth}) {ci}."
                )
            else:
                text = (
                    f"{label} vs {control}: no clear difference in months of customer life within the "
                    f"first {tau:g} months ({r['estimate']:+.2f} months, {meth}; {ci[1:-1]})."
                )
            out.append(Finding(text, importance=HEADLINE, caveats=tuple(dict.fromkeys(arm_cav))))
        h = am[am["estimand"] == "survival_difference"]
        if len(h):
            h = h.iloc[len(h) // 2]
            pts = f"{100 * h['estimate']:+.1f} percentage points"
            ci = f"{lab} {_ci(h['ci_lower'], h['ci_upper'], 1, 100, True)}"
            if observational:
                text = (
                    f"{label}: retention at {h['horizon']:g} months was {pts} different from {control} "
                    f"after weighting ({ci})."
                )
            else:
                word = "differs" if _excludes_zero(h) else "shows no clear difference"
                text = f"{label}: retention at {h['horizon']:g} months {word} from {control}: {pts} ({ci})."
            out.append(Finding(text, importance=MAIN, caveats=tuple(common)))
        rev = am[am["estimand"] == "incremental_revenue"]
        if len(rev):
            rv = rev.iloc[0]
            text = (
                f"{label}: {'incremental' if not observational else 'associated'} margin of "
                f"{rv['estimate']:.1f} per customer over {tau:g} months ({lab} "
                f"{_ci(rv['ci_lower'], rv['ci_upper'], 1)})."
            )
            out.append(Finding(text, importance=MAIN, caveats=tuple(common)))
    out += _details(
        effects,
        unadjusted=unadjusted,
        specification_check=specification_check,
        e_value_result=e_value_result,
        negative_control_result=negative_control_result,
        placebo_result=placebo_result,
        heterogeneity_result=heterogeneity_result,
        uplift_result=uplift_result,
        winback_result=winback_result,
        truth=truth,
    )
    return out


def _details(effects, **r) -> list[Finding]:
    s, m = effects.summary, effects.meta
    lab = ci_label(m.get("alpha", 0.05))
    treatment = m.get("treatment", "treatment")
    out = []
    if r["unadjusted"] is not None and m.get("design") == "observational":
        u = r["unadjusted"].summary
        for arm in dict.fromkeys(s["arm"]):
            ur = u[(u["arm"] == arm) & (u["estimand"] == "rmst_difference")]
            ar = s[(s["arm"] == arm) & (s["estimand"] == "rmst_difference")]
            if len(ur) and len(ar):
                shift = ar["estimate"].iloc[-1] - ur["estimate"].iloc[0]
                out.append(
                    Finding(
                        f"{_arm_label(arm, treatment)}: the unweighted comparison gives "
                        f"{ur['estimate'].iloc[0]:+.2f} months; weighting for the confounders moves it by "
                        f"{shift:+.2f} months (customers were not assigned at random).",
                        importance=DETAIL,
                    )
                )
    sc = r["specification_check"]
    if sc is not None and len(sc.summary):
        t = sc.summary
        worst = t.loc[t["shift_in_se"].abs().idxmax()]
        specs = ", ".join(dict.fromkeys(t["specification"]))
        verdict = "a material shift" if bool(t["material"].any()) else "no material shift"
        out.append(
            Finding(
                f"Specification check ({specs}): {verdict}; the largest is "
                f"{worst['shift_in_se']:+.2f} standard errors ({worst['method']}, {worst['specification']}).",
                importance=DETAIL,
                caveats=tuple(sc.warnings),
            )
        )
    ev = r["e_value_result"]
    if ev is not None and len(ev.summary):
        e = ev.summary
        e = e[e["measure"] == "hazard_ratio"]
        if len(e):
            e = e.iloc[-1]
            out.append(
                Finding(
                    f"An unmeasured confounder would need a risk ratio of {e['e_value']:.2f} with both "
                    f"the {treatment} and churn to explain the hazard ratio away (E-value; "
                    f"{e['e_value_ci']:.2f} for the interval).",
                    importance=DETAIL,
                )
            )
    nc = r["negative_control_result"]
    if nc is not None and len(nc.summary):
        row = nc.summary.iloc[0]
        ok = row["ci_lower"] <= 1 <= row["ci_upper"]
        out.append(
            Finding(
                f"Negative control ({row['estimand']}): hazard ratio {row['estimate']:.2f} ({lab} "
                f"{row['ci_lower']:.2f} to {row['ci_upper']:.2f}): "
                + (
                    "no sign of residual confounding."
                    if ok
                    else "not null: residual confounding is likely."
                ),
                importance=DETAIL,
                caveats=() if ok else ("The negative control is not null: residual confounding.",),
            )
        )
    pr = r["placebo_result"]
    if pr is not None and len(pr.summary):
        p = pr.summary
        p = p[p["estimand"] == "rmst_difference"]
        if len(p):
            row = p.iloc[0]
            k = int(pr.meta.get("n_permutations", 0) or 0)
            floor = 1 / (k + 1) if k else np.nan
            at_floor = k and row["p_value"] <= floor + 1e-12
            out.append(
                Finding(
                    f"Placebo check: with the arms shuffled the RMST difference averages "
                    f"{row['placebo_mean']:+.2f} months (SD {row['placebo_sd']:.2f}) against the observed "
                    f"{row['observed']:+.2f} (permutation p = {row['p_value']:.3f}"
                    + (
                        f", the smallest p that {k} permutations can give (1/{k + 1}); more "
                        "permutations (n_placebo) would resolve it)."
                        if at_floor
                        else ")."
                    ),
                    importance=DETAIL,
                )
            )
    het = r["heterogeneity_result"]
    if het is not None and len(het.tables.get("interaction", [])):
        it = het.tables["interaction"]
        it = it[it["estimand"] == "survival_difference"]
        sig = it[it["p_value"] < m.get("alpha", 0.05)]
        text = (
            "The difference varies by "
            + ", ".join(dict.fromkeys(sig["segment"]))
            + " (interaction test)."
            if len(sig)
            else "No clear difference between segments (interaction tests)."
        )
        if len(it):
            out.append(Finding(text, importance=DETAIL))
    up = r["uplift_result"]
    if up is not None and len(up.summary):
        q = up.summary.iloc[0]
        out.append(
            Finding(
                f"{_arm_label(q['arm'], treatment)}: the 20% of customers with the highest predicted "
                f"uplift show {100 * q['uplift_top20']:+.1f} points of retention at {q['horizon']:g} months, "
                f"against {100 * q['uplift_all']:+.1f} on average (Qini coefficient {q['qini_coefficient']:.4f}).",
                importance=DETAIL,
            )
        )
    wb = r["winback_result"]
    if wb is not None and len(wb.summary):
        d = wb.summary.iloc[-1]
        out.append(
            Finding(
                f"Win-back contact: reactivation within {d['horizon']:g} months differs by "
                f"{100 * d['estimate']:+.1f} percentage points ({lab} {100 * d['ci_lower']:+.1f} to "
                f"{100 * d['ci_upper']:+.1f}).",
                importance=DETAIL,
            )
        )
    tr = r["truth"]
    if tr is not None and len(tr) and "coverage_over_draws" in tr:
        t = tr.dropna(subset=["coverage_over_draws"])
        t = t[t["estimand"] == "rmst_difference"]
        for _, row in t.iterrows():
            out.append(
                Finding(
                    f"In the simulation study ({int(row['draws'])} draws of 20,000 simulated customers, "
                    f"docs/simulation-effects.md) the {row['method']} interval for the RMST difference "
                    f"covered the truth in {100 * row['coverage_over_draws']:.1f}% of draws (mean bias "
                    f"{row['bias_over_draws']:+.3f} months); this draw's estimate is "
                    f"{row['estimate']:+.2f} against its truth {row['truth']:+.2f}.",
                    importance=DETAIL,
                )
            )
    return out


def simulation_study() -> pd.DataFrame:
    """The committed simulation study's summary (``benchmarks/simulation_effects.py``), or empty."""
    try:
        txt = resources.files("workbench.effects").joinpath("simulation_study.json").read_text()
    except (FileNotFoundError, OSError):
        return pd.DataFrame()
    return pd.DataFrame(json.loads(txt))


def truth_comparison(effects, truth: dict | None, *, mechanism: str = "risk") -> pd.DataFrame:
    """Estimates next to the simulator's true effects, with the estimator's behaviour over draws.

    One draw's interval covers the truth or not by chance; what matters is how often the estimator's
    intervals cover over repeated draws. So beside this draw's estimate and truth the table gives,
    from the committed simulation study (``docs/simulation-effects.md``: the same estimator,
    specification and confounders on 20,000-customer draws), the coverage and mean bias over its
    draws (``coverage_over_draws``, ``bias_over_draws``, ``draws``; empty where the study did not
    run that case). Overlap weights are compared with the overlap population's truth.
    Returns an empty table when ``truth`` (``Dataset.truth``) does not know the treatment.
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
        "coverage_over_draws",
        "bias_over_draws",
        "draws",
    ]
    treatment = effects.meta.get("treatment")
    if not truth or treatment not in truth or "ate" not in truth[treatment]:
        return pd.DataFrame(columns=cols)
    sim = simulation_study()
    spec = effects.meta.get("specification", "flexible")
    rows = []
    for _, r in effects.summary.iterrows():
        if r["estimand"] not in ("survival_difference", "rmst_difference"):
            continue
        key = f"{r['estimand']}_{r['horizon']:g}"
        target = truth[treatment].get("ato" if r["method"] == "overlap" else "ate", {})
        if key not in target:
            continue
        cov = bias = draws = np.nan
        if len(sim):
            hit = sim[
                (sim["mechanism"] == mechanism)
                & (sim["specification"] == spec)
                & (sim["method"] == r["method"])
                & (sim["estimand"] == r["estimand"])
                & (sim["horizon"] == r["horizon"])
            ]
            if len(hit):
                h = hit.iloc[0]
                cov = h["coverage"] if h["mean_se"] == h["mean_se"] else np.nan
                bias, draws = h["bias"], h["reps"]
        rows.append(
            {
                **{c: r[c] for c in cols[:7]},
                "truth": target[key],
                "coverage_over_draws": cov,
                "bias_over_draws": bias,
                "draws": draws,
            }
        )
    return pd.DataFrame(rows, columns=cols)
