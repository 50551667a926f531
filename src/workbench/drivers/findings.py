"""The separation overview and the plain-language key findings of the drivers analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label
from ..results import format_number, format_p
from .design import build_design
from .fitting import Prepared, view_separation
from .separation import (
    EXTREME_KIND,
    SeparationResult,
    combine,
)
from .terms import meta_of, prepare

ACTION = "Firth-penalised fit with profile penalised-likelihood CIs (switched automatically)"


def check_separation(
    data, *, horizon: float = 12, horizons=None, horizon_method: str = "ipcw", **columns
) -> SeparationResult:
    """Check separation / monotone likelihood in every outcome view, before anything is fitted.

    The most flexible design (satisfaction as categories + switching-cost index + interaction +
    covariates) in the Cox view (monotone likelihood), the discrete-time view (separation, with its
    period bands) and the retained-at-horizon view at ``horizon`` and at every one of ``horizons``
    (separation), plus the count-like switching costs and covariates whose top or bottom value all
    churned (or all stayed) in each view. The report says which variable and levels, in which view,
    and what was done.

    Returns
    -------
    SeparationResult
        One row per variable and view (empty when there is no separation).
    """
    dd = prepare(data, **columns)
    X, _, info = build_design(dd, satisfaction_form="categorical", interaction=True)
    hs = list(dict.fromkeys([horizon, *(horizons or [])]))
    preps = [Prepared(dd, "cox"), Prepared(dd, "discrete")] + [
        Prepared(dd, "horizon", h, horizon_method) for h in hs
    ]
    res = combine(
        [
            view_separation(p, X, info, model=p.label.split(",")[0], action=ACTION, extremes=True)
            for p in preps
        ]
    )
    f = dd.frame
    lv = (
        f.groupby(dd.satisfaction_col)[dd.event_col]
        .agg(customers="size", churned="sum")
        .reset_index()
        .rename(columns={dd.satisfaction_col: "satisfaction"})
    )
    lv["share_churned"] = lv["churned"] / lv["customers"]
    lv["pattern"] = np.where(
        lv["churned"] == 0,
        "no customer churned",
        np.where(lv["churned"] == lv["customers"], "every customer churned", "mixed"),
    )
    res.tables["levels"] = lv
    all_churned = [str(v) for v in lv.loc[lv["churned"] == lv["customers"], "satisfaction"]]
    if all_churned:
        res.meta["all_churned_levels"] = ", ".join(all_churned)
    res.meta = meta_of(
        dd,
        alpha=None,
        **{
            **res.meta,
            "n": dd.n,
            "horizon": horizon,
            "horizons": hs,
            "method": "monotone-likelihood check (Cox), linear-programming separation check "
            "(retained at each horizon), per-term check (discrete time), extreme values of counts; "
            "before fitting",
        },
    )
    return res


def _at(meta: dict) -> str:
    """``'1 year'`` / ``'12 months'``: the horizon in the data's tenure unit."""
    h, unit = float(meta["horizon"]), meta.get("time_unit", "months")
    return f"{h:g} {unit[:-1] if h == 1 and unit.endswith('s') else unit}"


def _p(p) -> str:
    f = format_p(p)
    return f"{f[0]} {f[1:]}" if f.startswith("<") else f"= {f}"


def _hypothesis_caveats(hypotheses, row: dict) -> list[str]:
    """The caveats that qualify one hypothesis' sentence: the penalty and why, separation in its
    model, robust tests, thin data, a test that disagrees with its interval, association not effect."""
    out = []
    meth = str(row.get("method", ""))
    if "Firth" in meth:
        sep = hypotheses.tables.get("separation")
        why = (
            "separation / monotone likelihood in "
            + ", ".join(sorted({str(v) for v in sep["variable"]}))
            if sep is not None and len(sep)
            else "requested"
        )
        out.append(
            f"Firth-penalised estimates ({why}): the interval is a profile penalised-likelihood "
            "interval and the test a penalised likelihood-ratio test with the full model's penalty."
        )
    if "robust Wald" in meth:
        out.append(
            "Tested with a robust Wald test (clusters or IPCW weights): the LR test does not apply."
        )
    if not row.get("test_and_interval_agree", True):
        out.append(
            "The family-adjusted test and the unadjusted interval disagree about 0: read the decision, "
            "not the interval alone."
        )
    for w in hypotheses.warnings:
        if "events per parameter" in w or "clusters in `cluster_col`" in w:
            out.append(w)
    if row["hypothesis"] != "H4":
        out.append(
            "Observational data: an association adjusted for the covariates, not the effect of "
            "changing satisfaction or switching costs."
        )
    return out


def key_findings(
    hypotheses=None,
    nonlinearity=None,
    interaction=None,
    mediation=None,
    separation=None,
    power=None,
) -> list[Finding]:
    """Plain-language findings for the report, each composed from its result with its caveats.

    Returns a list of :class:`workbench.findings.Finding`: decision words only from the hypothesis
    table (where :func:`workbench.drivers.terms.decide` requires test and interval to agree),
    intervals labelled from ``alpha``, the scale named per outcome view, and every caveat that
    qualifies a sentence carried with it.
    """
    out: list[Finding] = []
    if hypotheses is not None:
        for r in hypotheses.summary.to_dict(orient="records"):
            out.append(
                Finding(
                    r["sentence"],
                    importance=HEADLINE if r["hypothesis"] in ("H1", "H3") else MAIN,
                    caveats=tuple(_hypothesis_caveats(hypotheses, r)),
                    section="The family of hypotheses",
                )
            )
    if nonlinearity is not None and len(nonlinearity.summary):
        r = nonlinearity.summary.iloc[0]
        pred = nonlinearity.tables.get("predicted")
        alpha = nonlinearity.meta["alpha"]
        verdict = (
            "departs from a straight line"
            if r["p_value"] < alpha
            else "is consistent with a straight line"
        )
        s = (
            f"Across satisfaction levels, churn {verdict} ({r['comparison']}: chi2 = "
            f"{format_number(r['statistic'])}, df = {int(r['df'])}, p {_p(r['p_value'])})"
        )
        if pred is not None and len(pred):
            lo, hi = pred.iloc[0], pred.iloc[-1]
            s += (
                f"; predicted retention at {_at(nonlinearity.meta)} is "
                f"{lo['retention']:.1%} ({ci_label(alpha)} {lo['ci_lower']:.1%} to {lo['ci_upper']:.1%}) "
                f"at satisfaction {int(lo['satisfaction'])} and {hi['retention']:.1%} "
                f"({hi['ci_lower']:.1%} to {hi['ci_upper']:.1%}) at {int(hi['satisfaction'])}"
            )
        cav = [str(r["method"])]
        if nonlinearity.meta.get("firth"):
            cav.append("Firth-penalised fits (separation): penalised likelihood-ratio test.")
        out.append(Finding(s + ".", importance=MAIN, caveats=tuple(cav), section="H1: form"))
    if interaction is not None:
        me = interaction.tables["marginal_effects"]
        alpha = interaction.meta["alpha"]
        top, bot = me["satisfaction"].max(), me["satisfaction"].min()
        gap = {
            k: float(
                g.loc[g["satisfaction"] == top, "retention"].iloc[0]
                - g.loc[g["satisfaction"] == bot, "retention"].iloc[0]
            )
            for k, g in me.groupby("switching_cost")
        }
        did = interaction.summary.iloc[-1]
        it = interaction.meta["interaction_test"]
        out.append(
            Finding(
                f"Predicted retention at {_at(interaction.meta)}: the gap "
                f"between satisfaction {top} and {bot} is {100 * gap.get('low', np.nan):.1f} percentage "
                f"points at low and {100 * gap.get('high', np.nan):.1f} at high switching cost "
                f"(difference {100 * did['estimate']:.1f} points, {ci_label(alpha)} "
                f"{100 * did['ci_lower']:.1f} to {100 * did['ci_upper']:.1f}); interaction test "
                f"chi2 = {format_number(it['statistic'])}, p {_p(it['p_value'])}.",
                importance=MAIN,
                caveats=(str(it["method"]),),
                section="H3: moderation",
            )
        )
    if mediation is not None:
        if len(mediation.summary):
            s = mediation.summary.set_index("effect")
            pm = s.loc["proportion_mediated"]
            ci = ci_label(mediation.meta["alpha"])
            out.append(
                Finding(
                    f"About {pm['estimate']:.0%} of satisfaction's association with churn runs through "
                    f"perceived value ({ci} {pm['ci_lower']:.0%} to {pm['ci_upper']:.0%}).",
                    importance=MAIN,
                    caveats=(
                        "Mediation assumes no unmeasured confounding of satisfaction, perceived value "
                        "and churn.",
                    ),
                    section="H4: mediation",
                )
            )
        else:
            out.append(
                Finding(
                    "Mediation through perceived value (H4) was not tested: the data have no "
                    "perceived-value column (set the spec's `perceived_value` role to enable it).",
                    importance=DETAIL,
                    section="H4: mediation",
                )
            )
    if separation is not None and len(separation.summary):
        sep = separation.summary
        inf = sep[sep["kind"] != EXTREME_KIND]
        ext = sep[sep["kind"] == EXTREME_KIND]
        if len(inf):
            vs = "; ".join(
                f"{r['variable']}"
                + (f" levels {r['levels']}" if r["levels"] else "")
                + f" ({r['kind']}, {r['model']})"
                for r in inf.to_dict(orient="records")
            )
            out.append(
                Finding(
                    f"Separation detected ({vs}): maximum-likelihood estimates would be infinite, so "
                    "Firth-penalised estimates with profile-likelihood intervals are reported.",
                    importance=MAIN,
                    kind="caveat",
                    section="Separation check",
                )
            )
        for r in ext.drop_duplicates(["variable", "levels"]).to_dict(orient="records"):
            out.append(
                Finding(
                    f"Every customer at the {r['levels']} of {r['variable']}: that value separates the "
                    "outcome; the variable enters the models as a number, so its estimate stays finite.",
                    importance=DETAIL,
                    kind="caveat",
                    section="Separation check",
                )
            )
    if separation is not None and separation.meta.get("all_churned_levels"):
        lv = separation.meta["all_churned_levels"]
        out.append(
            Finding(
                f"Every customer with satisfaction {lv} churned during follow-up; in the censoring-aware "
                "models this does not make the estimates infinite (they churned at different tenures, "
                "with other customers at risk): it is not a separation of these models, and their "
                "estimates are finite with or without the penalty.",
                importance=DETAIL,
                kind="caveat",
                section="Separation check",
            )
        )
    if power is not None and len(power.summary):
        cur = power.summary.iloc[(power.summary["n"] - power.meta["n"]).abs().argsort().iloc[0]]
        scale = (
            "log hazard ratio"
            if "hazard" in str(power.meta.get("method", "hazard"))
            else "log odds"
        )
        out.append(
            Finding(
                f"At n = {int(cur['n']):,} the smallest interaction detectable with {cur['power']:.0%} "
                f"power is {format_number(cur['mde'])} on the {scale} scale.",
                importance=DETAIL,
                section="Power",
            )
        )
    return out


def separation_records(*results) -> pd.DataFrame:
    """Stack the separation tables of several results (one row per variable and model)."""
    frames = [
        r.tables["separation"]
        for r in results
        if r is not None and "separation" in r.tables and len(r.tables["separation"])
    ]
    return (
        pd.concat(frames, ignore_index=True).drop_duplicates(["model", "variable", "levels"])
        if frames
        else pd.DataFrame(
            columns=["model", "variable", "levels", "kind", "terms", "direction", "action"]
        )
    )
