"""Plain-language key findings of a tenure-survival analysis, built from the results.

The notebook records ``key_findings(...)``: a list of :class:`workbench.findings.Finding` (sentence,
importance, caveats), every sentence derived from a result object, so the report's summary can
never drift from the numbers; intervals are labelled from ``alpha`` (``ci_label``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label
from ..results import format_number, format_p

__all__ = ["key_findings", "most_common_cause"]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if np.isfinite(x) else "n/a"


def _num(x: Any) -> str:
    try:
        return format_number(float(x), 3)
    except (TypeError, ValueError):
        return str(x)


def _hr(x: Any) -> str:
    """A ratio near 1 needs decimals (1.006 per unit of charge), others 3 significant figures."""
    x = float(x)
    return f"{x:.3f}" if np.isfinite(x) and abs(x - 1) < 0.1 else _num(x)


def _km_sentences(km, unit: str, horizons, lab: str) -> list[str]:
    out = []
    s = km.summary
    parts = []
    for r in s.itertuples():
        label = "" if r.group == "all" else f"{r.group}: "
        if np.isfinite(r.median):
            ci = ""
            if np.isfinite(r.median_ci_lower) and np.isfinite(r.median_ci_upper):
                ci = f" ({lab} {_num(r.median_ci_lower)}-{_num(r.median_ci_upper)})"
            parts.append(f"{label}{_num(r.median)} {unit}{ci}")
        else:
            parts.append(f"{label}not reached (over half still active)")
    out.append("Median tenure: " + "; ".join(parts) + ".")
    if horizons:
        h = max(horizons)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            at = km.at([h])
        at = at[np.isfinite(at["survival"].to_numpy(dtype=float))]
        if len(at):
            bits = [
                (f"{_pct(r.survival)}" if r.group == "all" else f"{r.group} {_pct(r.survival)}")
                for r in at.itertuples()
            ]
            out.append(
                f"Share of customers still active after {h:g} {unit}: " + ", ".join(bits) + "."
            )
    return out


def key_findings(
    *,
    km=None,
    logrank=None,
    rmst=None,
    hazard=None,
    stages=None,
    cox=None,
    ph_test=None,
    parametric=None,
    cif=None,
    cohorts=None,
    unit: str = "months",
    horizons=None,
    alpha: float = 0.05,
) -> list[Finding]:
    """Short plain-language findings summarising the survival results that are given.

    Parameters
    ----------
    km, logrank, rmst, hazard, stages, cox, ph_test, parametric, cif, cohorts : results, optional
        Results of :func:`kaplan_meier`, :func:`logrank_test`, :func:`rmst`,
        :func:`smoothed_hazard`, :func:`stage_hazard`, ``fit_cox``, ``CoxResult.ph_test()``,
        :func:`fit_parametric`, ``cumulative_incidence`` and :func:`cohort_survival`.
    unit : str
        The tenure unit named in the sentences.
    horizons : list of float, optional
        Horizons for the "still active after" sentence (the largest is used).

    Returns
    -------
    list of Finding
        Each with its importance (1 headline, 2 main, 3 detail), its section and the caveats that
        qualify it (e.g. the separation warnings of the Cox model).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> from workbench.survival import kaplan_meier
    >>> key_findings(km=kaplan_meier(load_dataset("synthetic", n_customers=2_000)))[0].text[:6]
    'Median'
    """
    lab = ci_label(alpha)
    out: list[Finding] = []

    def add(text: str, importance: int, section: str, caveats=(), kind: str = "finding"):
        out.append(Finding(text, importance, tuple(caveats), section, kind))

    if km is not None:
        for i, text in enumerate(_km_sentences(km, unit, horizons, lab)):
            add(text, HEADLINE if i == 0 else MAIN, "Retention curves")
    if logrank is not None:
        s = logrank.summary.iloc[0]
        groups = logrank.groups
        col = logrank.meta.get("group_col")
        if s["p_value"] < alpha:
            worst = groups.sort_values("o_minus_e").iloc[-1]["group"]
            add(
                f"Retention differs between {col} groups ({s['test']} chi-square {_num(s['statistic'])} on "
                f"{int(s['df'])} df, p {format_p(s['p_value'])}); most churn above expectation: {worst}.",
                MAIN,
                "Comparing groups",
            )
        else:
            add(
                f"No clear difference in retention between {col} groups "
                f"({s['test']} p = {format_p(s['p_value'])}).",
                MAIN,
                "Comparing groups",
            )
    if rmst is not None and len(rmst.summary) > 1:
        d = rmst.difference()
        tau = rmst.meta["tau"]
        ref = d["reference"].iloc[0]
        for r in d.itertuples():
            direction = "more" if r.estimate > 0 else "fewer"
            sig = "" if (r.ci_lower > 0 or r.ci_upper < 0) else " (not statistically clear)"
            add(
                f"Within the first {tau:g} {unit}, {r.group} customers stay {_num(abs(r.estimate))} {unit} {direction} "
                f"than {ref} on average ({lab} {_num(r.ci_lower)} to {_num(r.ci_upper)}){sig}.",
                MAIN,
                "Restricted mean tenure",
            )
    elif rmst is not None:
        r = rmst.summary.iloc[0]
        add(
            f"Within the first {r['tau']:g} {unit}, customers stay {_num(r['estimate'])} {unit} on average "
            f"({lab} {_num(r['ci_lower'])}-{_num(r['ci_upper'])}).",
            MAIN,
            "Restricted mean tenure",
        )
    if hazard is not None:
        peaks = hazard.tables.get("peaks", pd.DataFrame())
        sm = hazard.smoothed
        first = sm[sm["group"] == sm["group"].iloc[0]]
        t_end = first["time"].max()
        early = first.loc[first["time"] <= 0.05 * t_end, "hazard"].max()
        mid = first["hazard"].median()
        text = []
        if early > 1.3 * mid:
            text.append("is highest in the first months")
        if len(peaks):
            peaks = peaks[peaks["share_at_risk"] >= 0.1]  # not in the thin tail of follow-up
        if len(peaks):
            p = (
                peaks[peaks["group"] == peaks["group"].iloc[0]]
                .sort_values("prominence", ascending=False)
                .head(2)
            )
            times = sorted(p["time"])
            again = " again" if text else ""
            text.append(
                f"peaks{again} at about " + ", ".join(f"{t:.0f}" for t in times) + f" {unit}"
            )
        if text:
            add("The churn hazard " + " and ".join(text) + ".", DETAIL, "Churn hazard")
    if stages is not None:
        s = stages.summary
        for g in list(dict.fromkeys(s["group"]))[:4]:
            sg = s[s["group"] == g]
            bits = [
                f"{r.stage}: {100 * r.churn_prob:.1f}%"
                for r in sg.itertuples()
                if np.isfinite(r.churn_prob)
            ]
            who = "" if g == "all" else f" for {g}"
            if bits:
                add(
                    f"Churn per {unit.rstrip('s')} by lifecycle stage ({unit}){who} - "
                    + ", ".join(bits)
                    + ".",
                    DETAIL,
                    "Churn hazard",
                )
    if cox is not None:
        cox_caveats = [w for w in cox.warnings if "Monotone likelihood" in w or "converge" in w]
        cs = cox.summary
        sig = cs[cs["p_value"] < alpha]
        if len(sig):
            # rank by the Wald statistic: comparable across covariates measured on different scales
            key = (
                sig["statistic"].abs()
                if "statistic" in sig
                else (sig["estimate"] / sig["se"]).abs()
            )
            top = sig.loc[key.sort_values(ascending=False).index].head(3)
            bits = [
                f"{r.term} (hazard ratio {_hr(r.hazard_ratio)}, {lab} {_hr(r.hr_ci_lower)}-{_hr(r.hr_ci_upper)})"
                for r in top.itertuples()
            ]
            add(
                "Clearest churn drivers in the Cox model: " + "; ".join(bits) + ".",
                MAIN,
                "Cox model",
                cox_caveats,
            )
        else:
            add(
                "No covariate of the Cox model is clearly associated with churn.",
                MAIN,
                "Cox model",
                cox_caveats,
            )
    if ph_test is not None:
        t = ph_test.summary
        bad = t[(t["term"] != "GLOBAL") & (t["p_value"] < alpha)]
        if len(bad):
            add(
                "Proportional hazards do not hold for "
                + ", ".join(map(str, bad["term"]))
                + ": their effect changes with tenure; stratify on them or let their effect vary with time.",
                MAIN,
                "Cox model",
                kind="caveat",
            )
        else:
            add("The proportional-hazards assumption is not rejected.", DETAIL, "Cox model")
    if parametric is not None:
        best = parametric.summary.iloc[0]
        add(
            f"Among parametric models the {best['model'].replace('_', ' ')} fits best by AIC.",
            DETAIL,
            "Parametric models",
            (f"Survival beyond {_num(parametric.meta['max_followup'])} {unit} is extrapolation.",),
        )
    if cif is not None and horizons:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            at = cif.at([max(horizons)])
        if "group" in at:
            at = at[at["group"] == at["group"].iloc[0]]
        at = at.sort_values("estimate", ascending=False)
        if len(at):
            bits = [f"{r.cause} {_pct(r.estimate)}" for r in at.head(3).itertuples()]
            add(
                f"Most common churn causes by {max(horizons):g} {unit}: " + ", ".join(bits) + ".",
                MAIN,
                "Competing churn causes",
            )
    if cohorts is not None and cohorts.meta.get("available"):
        m = cohorts.tables["matrix"]
        col = [c for c in m.columns if c.startswith("survival_")]
        if col:
            c0 = col[0]
            vals = m[["cohort", c0]].dropna()
            if len(vals) >= 2:
                add(
                    f"Retention at {c0.replace('survival_', '')} {unit} ranges from "
                    f"{_pct(vals[c0].min())} to {_pct(vals[c0].max())} across joining cohorts.",
                    DETAIL,
                    "Joining cohorts",
                )
    return out


def most_common_cause(data: Any, cause: str | None = None, *, cause_col: str | None = None) -> str:
    """``cause`` if given (non-empty), else the most frequent churn cause among churners.

    Lets a notebook parameter such as ``cause: str = ""`` mean "the dominant cause" on any data.

    Raises
    ------
    ParameterError
        No cause column (neither ``cause_col`` nor the spec's ``churn_type``), or no churners with a
        cause.
    """
    from ..exceptions import ParameterError

    if cause:
        return str(cause)
    spec = getattr(data, "spec", None)
    aggregated = getattr(data, "aggregated", False) is True  # cell counts: weigh by the counts
    frame = data.cells.cells if aggregated else data.frame if spec is not None else data
    cause_col = cause_col or (spec.churn_type if spec is not None else None)
    if cause_col is None or cause_col not in frame.columns:
        raise ParameterError(
            "most_common_cause: the data have no churn-cause column; pass cause_col=... or name it as "
            "`churn_type` in the role spec."
        )
    if aggregated:
        from ..aggregate import COUNT_COL

        known = frame[cause_col].notna()
        counts = frame.loc[known, COUNT_COL].groupby(frame.loc[known, cause_col].astype(str)).sum()
        counts = counts.sort_values(ascending=False, kind="stable")
    else:
        counts = frame[cause_col].dropna().astype(str).value_counts()
    if counts.empty:
        raise ParameterError(
            f"most_common_cause: column '{cause_col}' holds no churn causes (all missing)."
        )
    return str(counts.index[0])
