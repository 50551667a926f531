"""The separation overview and the plain-language key findings of the drivers analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..results import format_number, format_p
from .design import build_design
from .fitting import Prepared
from .separation import SeparationResult, combine, detect_monotone_likelihood, detect_separation
from .terms import prepare

ACTION = "Firth-penalised fit with profile penalised-likelihood CIs (switched automatically)"


def check_separation(
    data, *, horizon: float = 12, horizon_method: str = "ipcw", **columns
) -> SeparationResult:
    """Check separation / monotone likelihood in the most flexible models the analysis fits.

    Satisfaction as categories + switching-cost index + interaction + covariates, in the Cox view
    (monotone likelihood) and the retained-at-``horizon`` view (separation). Nothing is fitted: this
    is the check every analysis of :mod:`workbench.drivers` runs before trusting a fit, shown on its
    own so the report can say which variable and which levels cause it and what was done.

    Returns
    -------
    SeparationResult
        One row per variable and model (empty when there is no separation).
    """
    dd = prepare(data, **columns)
    X, _, info = build_design(dd, satisfaction_form="categorical", interaction=True)
    cox = detect_monotone_likelihood(
        X,
        dd.frame[dd.duration_col],
        dd.frame[dd.event_col],
        term_info=info,
        model="Cox model",
        action=ACTION,
    )
    hp = Prepared(dd, "horizon", horizon, horizon_method)
    lg = detect_separation(
        X.loc[hp.keep], hp.y, term_info=info, model=hp.label.split(",")[0], action=ACTION
    )
    res = combine([cox, lg])
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
    res.meta.update(
        {
            "n": dd.n,
            "horizon": horizon,
            "method": "monotone-likelihood check (Cox) and linear-programming "
            "separation check (logistic), before fitting",
        }
    )
    return res


def _p(p) -> str:
    f = format_p(p)
    return f"{f[0]} {f[1:]}" if f.startswith("<") else f"= {f}"


def key_findings(
    hypotheses=None,
    nonlinearity=None,
    interaction=None,
    mediation=None,
    separation=None,
    power=None,
) -> list[str]:
    """Short plain-language sentences for the report, built from the results (never typed by hand)."""
    out: list[str] = []
    if hypotheses is not None:
        out.extend(hypotheses.summary["sentence"].tolist())
    if nonlinearity is not None and len(nonlinearity.summary):
        r = nonlinearity.summary.iloc[0]
        pred = nonlinearity.tables.get("predicted")
        verdict = (
            "non-linear"
            if r["p_value"] < nonlinearity.meta["alpha"]
            else "consistent with a straight line"
        )
        s = (
            f"Satisfaction's effect is {verdict} ({r['comparison']}: chi2 = {format_number(r['statistic'])}, "
            f"df = {int(r['df'])}, p {_p(r['p_value'])})"
        )
        if pred is not None and len(pred):
            lo, hi = pred.iloc[0], pred.iloc[-1]
            s += (
                f"; predicted retention at {format_number(nonlinearity.meta['horizon'])} months is "
                f"{lo['retention']:.1%} at satisfaction {int(lo['satisfaction'])} and {hi['retention']:.1%} "
                f"at {int(hi['satisfaction'])}"
            )
        out.append(s + ".")
    if interaction is not None:
        me = interaction.tables["marginal_effects"]
        top, bot = me["satisfaction"].max(), me["satisfaction"].min()
        gap = {
            k: float(
                g.loc[g["satisfaction"] == top, "retention"].iloc[0]
                - g.loc[g["satisfaction"] == bot, "retention"].iloc[0]
            )
            for k, g in me.groupby("switching_cost")
        }
        out.append(
            f"The retention gap between satisfaction {top} and {bot} is {100 * gap.get('low', np.nan):.1f} percentage points at low "
            f"switching cost and {100 * gap.get('high', np.nan):.1f} percentage points at high switching cost."
        )
    if mediation is not None:
        if len(mediation.summary):
            s = mediation.summary.set_index("effect")
            pm = s.loc["proportion_mediated"]
            out.append(
                f"About {pm['estimate']:.0%} of satisfaction's effect runs through perceived value "
                f"({1 - mediation.meta['alpha']:.0%} CI {pm['ci_lower']:.0%} to {pm['ci_upper']:.0%})."
            )
        else:
            out.append(
                "Mediation through perceived value (H4) was not tested: the data have no perceived-value column."
            )
    if separation is not None and len(separation.summary):
        vs = "; ".join(
            f"{r['variable']}"
            + (f" levels {r['levels']}" if r["levels"] else "")
            + f" ({r['kind']}, {r['model']})"
            for r in separation.summary.to_dict(orient="records")
        )
        out.append(
            f"Separation detected ({vs}): maximum-likelihood estimates would be infinite, so Firth-penalised "
            "estimates with profile-likelihood CIs are reported."
        )
    if separation is not None and separation.meta.get("all_churned_levels"):
        lv = separation.meta["all_churned_levels"]
        out.append(
            f"Every customer with satisfaction {lv} churned during follow-up; in the censoring-aware models "
            "this does not make the estimates infinite (they churned at different tenures, with other "
            "customers at risk): it is not a separation of these models, and their estimates are finite "
            "with or without the penalty."
        )
    if power is not None and len(power.summary):
        cur = power.summary.iloc[(power.summary["n"] - power.meta["n"]).abs().argsort().iloc[0]]
        out.append(
            f"At n = {int(cur['n']):,} the smallest interaction detectable with {cur['power']:.0%} power is "
            f"{format_number(cur['mde'])} on the log hazard scale."
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
