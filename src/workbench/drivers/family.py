"""The family of hypotheses H1-H3 (+ H4): estimate, interval, test, adjusted p-value, decision.

H1  higher satisfaction goes with higher retention: coefficient per satisfaction point
    (``sat_linear``) < 0.
H2  higher switching costs go with higher retention: coefficient per SD of the switching-cost
    index (``sc_index``) < 0 (each switching-cost variable on its own in
    :mod:`workbench.drivers.h2_switching_costs`).
H3  switching costs weaken the effect of dissatisfaction: coefficient of
    ``dissat_x_sc = (ref - satisfaction) * sc_index`` < 0 (:mod:`workbench.drivers.h3_interaction`).
H4  satisfaction acts partly through perceived value (:mod:`workbench.drivers.h4_mediation`).

The scale of the coefficients is the outcome view's: log hazard ratio (Cox), log odds of the
discrete-time hazard, log odds of churn by the horizon. Each hypothesis gets estimate, interval,
statistic, p-value, a Holm (default) or Benjamini-Hochberg adjusted p-value across the family and a
decision at ``alpha`` (:func:`workbench.drivers.terms.decide`: "supported" only when the adjusted
p-value and the interval agree).

References
----------
Singer, J. D. and Willett, J. B. (2003). *Applied Longitudinal Data Analysis*, ch. 10-12 (discrete-time
hazard models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..results import Result
from .design import build_design
from .fitting import Prepared, check_outcome, fit_view
from .h2_switching_costs import switching_costs_separately
from .separation import combine
from .terms import (
    ADJUST,
    _check_alpha,
    adjust_pvalues,
    agrees,
    coef_row,
    decide,
    meta_of,
    method_label,
    prepare,
    term_test,
)

HYPOTHESES = {
    "H1": ("satisfaction raises retention", "sat_linear", -1, "per one-point higher satisfaction"),
    "H2": ("switching costs raise retention", "sc_index", -1, "per SD of the switching-cost index"),
    "H3": (
        "switching costs weaken the effect of dissatisfaction",
        "dissat_x_sc",
        -1,
        "dissatisfaction x switching-cost index",
    ),
}


class HypothesesResult(Result):
    """The family of hypothesis tests (one row per hypothesis) with decisions and readings.

    ``summary`` columns: ``hypothesis``, ``claim``, ``term``, ``scale``, ``estimate``, ``se``,
    ``ci_lower``, ``ci_upper``, ``statistic``, ``df``, ``p_value``, ``p_adjusted``, ``decision``,
    ``method``, ``sentence``. ``tables``: ``coefficients`` (the models), ``switching_costs``
    (each switching-cost variable on its own), ``separation``.
    """

    title = "Hypotheses H1-H4"

    key = "hypothesis"
    RECORD_COLUMNS = (
        "hypothesis",
        "claim",
        "estimate",
        "ci_lower",
        "ci_upper",
        "statistic",
        "df",
        "p_value",
        "p_adjusted",
        "decision",
        "test_and_interval_agree",
        "method",
        "sentence",
    )

    def records(self) -> list[dict]:
        """The hypothesis table's reader-facing columns (not the internal sign convention)."""
        from ..results import to_jsonable

        return to_jsonable(self.summary[[c for c in self.RECORD_COLUMNS if c in self.summary]])

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_hypotheses

        return plot_hypotheses(self, ax=ax, **kwargs)


def evaluate_hypotheses(
    data,
    *,
    outcome: str = "cox",
    horizon: float = 12,
    alpha: float = 0.05,
    adjust: str = "holm",
    horizon_method: str = "ipcw",
    firth="auto",
    mediation=None,
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    perceived_value_col=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
) -> HypothesesResult:
    """Test H1-H3 (and H4 when a mediation result is given) as one family.

    Model A (H1, H2): satisfaction (linear, centred at the scale's middle) + switching-cost index +
    covariates. Model B (H3): model A + ``dissat_x_sc``. Tests are likelihood-ratio tests against
    the model without the term (penalised LR under Firth; robust Wald when ``cluster_col`` is given or
    the view uses IPCW weights). Separation / monotone likelihood is checked on model B first; if
    found, every model of the family is Firth-penalised.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome : {'cox', 'discrete', 'horizon'}
        The censoring-aware outcome view (see :mod:`workbench.drivers.fitting`).
    horizon : float
        Months, for ``outcome='horizon'``.
    alpha : float
    adjust : {'holm', 'bh', 'none'}
        Multiplicity adjustment across the family.
    mediation : MediationResult, optional
        Adds H4 (indirect effect through perceived value) to the family.
    duration_col, event_col, satisfaction_col, switching_cost_cols, perceived_value_col, covariates,
    cluster_col : column names (defaults from the role spec)

    Returns
    -------
    HypothesesResult

    Raises
    ------
    ParameterError, DataValidationError, ModelError
        Missing satisfaction column, satisfaction outside its scale, single-level switching cost,
        too few events for the model.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> res = evaluate_hypotheses(load_dataset("synthetic", n_customers=3000, seed=1))
    >>> list(res.summary["hypothesis"])
    ['H1', 'H2', 'H3']
    """
    _check_alpha(alpha)
    check_outcome(outcome)
    if adjust not in ADJUST:
        raise ParameterError(f"`adjust` must be one of {ADJUST}, got {adjust!r}.")
    dd = prepare(
        data,
        duration_col=duration_col,
        event_col=event_col,
        satisfaction_col=satisfaction_col,
        switching_cost_cols=switching_cost_cols,
        perceived_value_col=perceived_value_col,
        covariates=covariates,
        cluster_col=cluster_col,
        satisfaction_scale=satisfaction_scale,
    )
    sink = list(dd.warnings)
    prep = Prepared(dd, outcome, horizon, horizon_method)
    XB, gB, info = build_design(dd, satisfaction_form="linear", interaction=True)
    fB = fit_view(
        prep,
        XB,
        info,
        firth=firth,
        alpha=alpha,
        profile_terms=("sat_linear", "sc_index", "dissat_x_sc"),
        label=f"{prep.label}, model B (with interaction)",
        sink=sink,
    )
    use_f = fB.firth if firth == "auto" else firth
    XA = XB.drop(columns=["dissat_x_sc"])
    fA = fit_view(
        prep,
        XA,
        info,
        firth=use_f,
        alpha=alpha,
        profile_terms=("sat_linear", "sc_index"),
        label=f"{prep.label}, model A (main effects)",
        sink=sink,
        check_epp=False,
    )
    rows = []
    for h, (claim, term, sign, scale) in HYPOTHESES.items():
        vf = fB if h == "H3" else fA
        c = coef_row(vf, term, alpha)
        t = term_test(vf, [term])
        rows.append(
            {
                "hypothesis": h,
                "claim": claim,
                "term": term,
                "scale": f"{prep.label}, {scale}",
                "expected_sign": sign,
                **c,
                **{k: t[k] for k in ("statistic", "df", "p_value")},
                "method": method_label(vf, t["test"]),
            }
        )
    if mediation is not None and len(mediation.summary):
        ind = mediation.summary.set_index("effect").loc["indirect"]
        rows.append(
            {
                "hypothesis": "H4",
                "claim": "satisfaction acts partly through perceived value",
                "term": "indirect",
                "scale": mediation.meta.get("scale", ""),
                "expected_sign": -1,
                "estimate": ind["estimate"],
                "se": ind["se"],
                "ci_lower": ind["ci_lower"],
                "ci_upper": ind["ci_upper"],
                "ci_method": "simulation",
                "statistic": ind["statistic"],
                "df": 1,
                "p_value": ind["p_value"],
                "method": mediation.meta.get("method", ""),
            }
        )
    summ = pd.DataFrame(rows)
    summ["p_adjusted"] = adjust_pvalues(summ["p_value"], adjust)
    summ["decision"] = [
        decide(
            r["estimate"], r["p_adjusted"], r["expected_sign"], alpha, r["ci_lower"], r["ci_upper"]
        )
        for r in summ.to_dict(orient="records")
    ]
    summ["test_and_interval_agree"] = [
        agrees(r["p_adjusted"], alpha, r["ci_lower"], r["ci_upper"])
        for r in summ.to_dict(orient="records")
    ]
    summ["sentence"] = [_sentence(r, alpha, adjust) for r in summ.to_dict(orient="records")]
    sc_tab = switching_costs_separately(dd, prep, firth=use_f, alpha=alpha, sink=sink)
    coefs = fB.fit.table(alpha)
    sep = combine([fB.separation])
    meta = meta_of(
        dd,
        **{
            "n": dd.n,
            "events": dd.events,
            "alpha": alpha,
            "method": prep.label,
            "adjust": adjust,
            "outcome": outcome,
            "horizon": horizon if outcome == "horizon" else None,
            "firth": fB.firth,
            "cluster_col": dd.cluster_col,
            "n_received": dd.n_received,
            "exclusions": dd.exclusions,
            "fingerprint": dd.fingerprint,
            "switching_cost_index": dd.sc_construction.to_dict(orient="records"),
            "interaction_se": float(fB.coef("dissat_x_sc")[1]),
            "satisfaction_reference": dd.ref_level,
        },
    )
    return HypothesesResult(
        summ,
        meta,
        tables={
            "coefficients": coefs,
            "switching_costs": sc_tab,
            "separation": sep.summary,
            "switching_cost_index": dd.sc_construction,
        },
        warnings=list(dict.fromkeys(sink)),
    )


VERDICT = {
    "supported": "supported",
    "contradicted": "contradicted (significant in the opposite direction)",
    "not supported": "not supported",
    "not tested": "not tested",
}


def _sentence(r: dict, alpha: float, adjust: str) -> str:
    """One sentence per hypothesis, composed from its row: the decision (from :func:`decide`), the
    estimate on the view's own scale (log hazard ratio with HR only in the Cox view; log odds
    otherwise), the interval labelled from ``alpha`` and the (adjusted) p-value."""
    from ..findings import ci_label
    from ..results import format_number, format_p

    est = r["estimate"]
    scale = str(r["scale"])
    if r["hypothesis"] == "H4":
        what = (
            f"the indirect effect of satisfaction through perceived value is {format_number(est)}"
        )
    else:
        per = scale.split(", ")[-1]
        if "log hazard ratio" in scale:
            what = f"log hazard ratio {per} {format_number(est)} (HR {format_number(float(np.exp(est)))})"
        elif "log odds" in scale:
            what = f"log odds {per} {format_number(est)}"
        else:
            what = f"estimate {per} {format_number(est)}"
    ci = f"{ci_label(alpha)} {format_number(r['ci_lower'])} to {format_number(r['ci_upper'])}"
    pv = format_p(r["p_adjusted"] if adjust != "none" else r["p_value"])
    label = {"holm": "Holm-adjusted p", "bh": "BH-adjusted p"}.get(adjust, "p")
    padj = label + (f" {pv[0]} {pv[1:]}" if pv.startswith("<") else f" = {pv}")
    verdict = VERDICT[r["decision"]]
    if (
        r["decision"] == "not supported"
        and np.isfinite(r["p_adjusted"])
        and r["p_adjusted"] < alpha
    ):
        verdict += " (the test and the interval disagree, so no decision is drawn)"
    return (
        f"{r['hypothesis']} ({r['claim']}): {verdict} at alpha = {alpha:g}; {what}, {ci}, {padj}."
    )


def horizon_sensitivity(
    data,
    *,
    horizons=(6, 12, 24),
    alpha: float = 0.05,
    adjust: str = "holm",
    horizon_method: str = "ipcw",
    include_time_to_event: bool = True,
    **columns,
) -> Result:
    """Do the conclusions on H1-H3 depend on the horizon (and on the outcome view)?

    Runs :func:`evaluate_hypotheses` with the retained-at-horizon view at each horizon, plus the Cox and
    discrete-time views, and stacks estimate, CI, adjusted p-value and decision.
    """
    dd = prepare(data, **columns)
    rows = []
    views = [("horizon", h) for h in horizons]
    if include_time_to_event:
        views = [("cox", None), ("discrete", None), *views]
    for outcome, h in views:
        res = evaluate_hypotheses(
            dd,
            outcome=outcome,
            horizon=h or 12,
            alpha=alpha,
            adjust=adjust,
            horizon_method=horizon_method,
        )
        for r in res.summary.to_dict(orient="records"):
            rows.append(
                {
                    "outcome": outcome,
                    "horizon": h,
                    "hypothesis": r["hypothesis"],
                    "estimate": r["estimate"],
                    "ci_lower": r["ci_lower"],
                    "ci_upper": r["ci_upper"],
                    "p_adjusted": r["p_adjusted"],
                    "decision": r["decision"],
                    "scale": r["scale"],
                }
            )
    df = pd.DataFrame(rows)
    stable = df.groupby("hypothesis")["decision"].nunique().eq(1)
    meta = meta_of(
        dd,
        **{
            "n": dd.n,
            "events": dd.events,
            "alpha": alpha,
            "method": "H1-H3 across outcome views and horizons",
            "stable": {k: bool(v) for k, v in stable.items()},
        },
    )
    return Result(df, meta, title="Sensitivity of the conclusions to the horizon and outcome view")


__all__ = ["HypothesesResult", "evaluate_hypotheses", "horizon_sensitivity"]
