"""H1-H3: satisfaction's form, switching costs, their interaction, as a family of tests.

H1  higher satisfaction goes with higher retention: log hazard ratio per satisfaction point
    (``sat_linear``) < 0, likelihood-ratio test (robust Wald with clusters or IPCW weights).
H2  higher switching costs go with higher retention: log hazard ratio per SD of the switching-cost
    index (``sc_index``) < 0.
H3  switching costs weaken the effect of dissatisfaction: log hazard ratio of
    ``dissat_x_sc = (ref - satisfaction) * sc_index`` < 0.
H4  see :mod:`workbench.drivers.mediation`.

Each hypothesis gets estimate, CI, statistic, p-value, a Holm (default) or Benjamini-Hochberg
adjusted p-value across the family, and a decision at ``alpha``: "supported" (significant in the
hypothesised direction), "contradicted" (significant in the opposite direction) or "not supported".

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J. Statist.* 6, 65-70.
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289-300.
Singer, J. D. and Willett, J. B. (2003). *Applied Longitudinal Data Analysis*, ch. 10-12 (discrete-time
hazard models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_alpha as _check_alpha
from ..exceptions import ParameterError
from ..results import Result
from .design import DriverData, build_design, resolve_inputs
from .fitting import OUTCOMES, Prepared, ViewFit, check_outcome, fit_view
from .models import lr_test, wald_test
from .separation import SeparationResult, combine

ADJUST = ("holm", "bh", "none")

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


# =============================================================================== shared helpers
def _prepare(
    data,
    *,
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    perceived_value_col=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
):
    if isinstance(data, DriverData):
        return data
    return resolve_inputs(
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


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Holm (step-down FWER) or Benjamini-Hochberg (FDR) adjusted p-values; NaNs are left out."""
    if method not in ADJUST:
        raise ParameterError(f"`adjust` must be one of {ADJUST}, got {method!r}.")
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q)
    if method == "none":
        adj = q
    elif method == "holm":
        a = np.maximum.accumulate((m - np.arange(m)) * q[order])
        adj = np.empty(m)
        adj[order] = np.minimum(a, 1)
    else:
        a = (m / (np.arange(m) + 1)) * q[order]
        a = np.minimum.accumulate(a[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(a, 1)
    out[ok] = adj
    return out


def decide(estimate, p_adj, expected_sign, alpha) -> str:
    if not np.isfinite(p_adj):
        return "not tested"
    if p_adj < alpha:
        return "supported" if np.sign(estimate) == expected_sign else "contradicted"
    return "not supported"


def term_test(vf: ViewFit, reduced: ViewFit | None, terms: list, alpha: float) -> dict:
    """Test ``terms`` = 0: LR (penalised LR under Firth) or robust Wald when SEs are robust."""
    fit = vf.fit
    if fit.robust or reduced is None:
        stat, df, p = wald_test(fit, terms)
        how = "robust Wald" if fit.robust else "Wald"
    else:
        df = len(terms)
        stat, p = lr_test(fit, reduced.fit.loglik_, df)
        how = "penalised LR" if vf.firth else "LR"
    return {"statistic": stat, "df": df, "p_value": p, "test": how}


def _coef_row(vf: ViewFit, term: str, alpha: float) -> dict:
    tab = vf.fit.table(alpha).set_index("term")
    r = tab.loc[term]
    return {
        "estimate": r["estimate"],
        "se": r["se"],
        "ci_lower": r["ci_lower"],
        "ci_upper": r["ci_upper"],
        "ci_method": r["ci_method"],
    }


def _method(vf: ViewFit, test: str) -> str:
    fit = "Firth-penalised " if vf.firth else ""
    se = (
        f", cluster-robust SE ({vf.fit.n_clusters} clusters)"
        if vf.fit.n_clusters
        else (", robust SE" if vf.fit.robust else "")
    )
    return f"{fit}{vf.label}; {test} test{se}"


# =============================================================================== results
class HypothesesResult(Result):
    """The family of hypothesis tests (one row per hypothesis) with decisions and readings.

    ``summary`` columns: ``hypothesis``, ``claim``, ``term``, ``scale``, ``estimate``, ``se``,
    ``ci_lower``, ``ci_upper``, ``statistic``, ``df``, ``p_value``, ``p_adjusted``, ``decision``,
    ``method``, ``sentence``. ``tables``: ``coefficients`` (the models), ``switching_costs``
    (each switching-cost variable on its own), ``separation``.
    """

    title = "Hypotheses H1-H4"

    def to_record(self):
        cols = [
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
            "method",
            "sentence",
        ]
        return Result(self.summary[cols]).to_record()

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_hypotheses

        return plot_hypotheses(self, ax=ax, **kwargs)


class NonlinearityResult(Result):
    """Satisfaction as categories / linear / spline: LR tests of non-linearity and predicted retention.

    ``summary``: one row per test (``comparison``, ``statistic``, ``df``, ``p_value``, ``method``).
    ``tables``: ``models`` (log-likelihood, parameters, AIC), ``levels`` (log hazard ratio of each
    level against the reference), ``predicted`` (retention at the horizon by satisfaction, CIs).
    """

    title = "Satisfaction: form of the effect"

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_satisfaction_form

        return plot_satisfaction_form(self, ax=ax, **kwargs)


class InteractionResult(Result):
    """H3 moderation: the interaction on three scales, its LR test and the marginal effects.

    ``summary``: ``scale``, ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``statistic``,
    ``p_value``, ``method``. ``tables``: ``marginal_effects`` (predicted retention at the horizon by
    satisfaction at low / medium / high switching cost with CIs), ``lr_test``.
    """

    title = "Switching costs x satisfaction (H3)"

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_marginal_effects

        return plot_marginal_effects(self, ax=ax, **kwargs)


# =============================================================================== predictions
def _standardised_prediction(vf: ViewFit, Xcf: pd.DataFrame):
    """Mean predicted probability of churn by the horizon with the counterfactual design ``Xcf``
    over the whole analysis sample, and its gradient wrt the coefficients (delta method)."""
    fit = vf.fit
    Z = np.column_stack([np.ones(len(Xcf)), Xcf[vf.terms].to_numpy(float)])
    p = 1 / (1 + np.exp(-(Z @ fit.params_)))
    grad = (Z * (p * (1 - p))[:, None]).mean(axis=0)
    return float(p.mean()), grad


def _retention_ci(mean_churn, grad, cov, z):
    r = 1 - mean_churn
    se = float(np.sqrt(max(grad @ cov @ grad, 0)))
    lr = np.log(r / (1 - r))
    se_l = se / (r * (1 - r))
    return r, se, 1 / (1 + np.exp(-(lr - z * se_l))), 1 / (1 + np.exp(-(lr + z * se_l)))


def _design_at(dd, vf_form, sat_value=None, sc_value=None, interaction=False):
    X, _, _ = build_design(
        dd,
        satisfaction_form=vf_form,
        interaction=interaction,
        sat_override=sat_value,
        sc_override=sc_value,
    )
    return X


# =============================================================================== H1 form
def satisfaction_form(
    data,
    *,
    horizon: float = 12,
    outcome: str = "cox",
    alpha: float = 0.05,
    spline_df: int = 3,
    horizon_method: str = "ipcw",
    firth="auto",
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
) -> NonlinearityResult:
    """Satisfaction as categories, linear and natural cubic spline; LR tests of non-linearity.

    All three models adjust for the switching-cost index and the covariates. The tests compare the
    linear model with the categorical one (``levels - 2`` df) and with the spline (``spline_df - 1``
    df). When any of them needs the Firth penalty all three are penalised (penalised LR tests).
    Predicted retention at ``horizon`` by satisfaction level comes from the retained-at-horizon view
    (IPCW logistic, categorical satisfaction), standardised over the analysis sample, with
    delta-method CIs on the logit scale.

    Returns
    -------
    NonlinearityResult

    References
    ----------
    Harrell, F. E. (2015). *Regression Modeling Strategies*, 2nd ed., Springer.
    """
    _check_alpha(alpha)
    check_outcome(outcome)
    dd = _prepare(
        data,
        duration_col=duration_col,
        event_col=event_col,
        satisfaction_col=satisfaction_col,
        switching_cost_cols=switching_cost_cols,
        covariates=covariates,
        cluster_col=cluster_col,
        satisfaction_scale=satisfaction_scale,
    )
    sink = list(dd.warnings)
    prep = Prepared(dd, outcome, horizon, horizon_method)
    designs = {
        form: build_design(dd, satisfaction_form=form, spline_df=spline_df)
        for form in ("categorical", "linear", "spline")
    }
    cat = fit_view(
        prep,
        designs["categorical"][0],
        designs["categorical"][2],
        firth=firth,
        alpha=alpha,
        label=f"{prep.label}, satisfaction categorical",
        sink=sink,
    )
    use_f = cat.firth if firth == "auto" else firth
    fits = {"categorical": cat}
    for form in ("linear", "spline"):
        fits[form] = fit_view(
            prep,
            designs[form][0],
            designs[form][2],
            firth=use_f,
            alpha=alpha,
            label=f"{prep.label}, satisfaction {form}",
            sink=sink,
            check_epp=False,
        )
    lin = fits["linear"]
    rows = []
    n_lev = len(dd.levels)
    for form, df in (("categorical", n_lev - 2), ("spline", spline_df - 1)):
        if df < 1:
            continue
        big = fits[form]
        sat_terms = designs[form][1]["satisfaction"]
        extra = [t for t in sat_terms if t != "sat_linear"] if form == "spline" else None
        if big.fit.robust:
            if form == "spline":
                stat, d, p = wald_test(big.fit, extra)
            else:  # categorical vs linear: Wald test of the deviations from a line
                stat, d, p = _wald_nonlinear(
                    big.fit, sat_terms, [lv for lv in dd.levels if lv != dd.ref_level], dd.ref_level
                )
            how = "robust Wald"
        else:
            stat, p = lr_test(big.fit, lin.fit.loglik_, df)
            d = df
            how = "penalised LR" if big.firth else "LR"
        rows.append(
            {
                "comparison": f"{form} vs linear",
                "statistic": stat,
                "df": d,
                "p_value": p,
                "method": f"{how} test of non-linearity ({prep.label})",
            }
        )
    models = pd.DataFrame(
        [
            {
                "form": k,
                "loglik": v.fit.loglik_,
                "n_parameters": len(v.fit.names),
                "aic": -2 * v.fit.loglik_ + 2 * len(v.fit.names),
                "firth": v.firth,
            }
            for k, v in fits.items()
        ]
    )
    levels = cat.fit.table(alpha)
    levels = levels[levels["term"].isin(designs["categorical"][1]["satisfaction"])].reset_index(
        drop=True
    )
    levels.insert(0, "level", [int(t.split("_")[1]) for t in levels["term"]])
    # predicted retention (probability scale) from the retained-at-horizon view
    hprep = prep if outcome == "horizon" else Prepared(dd, "horizon", horizon, horizon_method)
    hfit = (
        cat
        if outcome == "horizon"
        else fit_view(
            hprep,
            designs["categorical"][0],
            designs["categorical"][2],
            firth=firth,
            alpha=alpha,
            label=f"{hprep.label}, satisfaction categorical",
            sink=sink,
            check_epp=False,
        )
    )
    z = stats.norm.ppf(1 - alpha / 2)
    pred = []
    for lv in dd.levels:
        Xcf = _design_at(dd, "categorical", sat_value=lv)
        m, g = _standardised_prediction(hfit, Xcf)
        r, se, lo, hi = _retention_ci(m, g, hfit.fit.cov_, z)
        pred.append({"satisfaction": lv, "retention": r, "se": se, "ci_lower": lo, "ci_upper": hi})
    meta = {
        "n": dd.n,
        "events": dd.events,
        "alpha": alpha,
        "method": prep.label,
        "horizon": horizon,
        "reference_level": dd.ref_level,
        "spline_df": spline_df,
        "firth": cat.firth,
        "fingerprint": dd.fingerprint,
    }
    sep = combine([cat.separation, hfit.separation])
    return NonlinearityResult(
        pd.DataFrame(rows),
        meta,
        tables={
            "models": models,
            "levels": levels,
            "predicted": pd.DataFrame(pred),
            "separation": sep.summary,
        },
        warnings=list(dict.fromkeys(sink)),
    )


def _wald_nonlinear(fit, sat_terms, levels, ref):
    """Robust Wald test that the level effects lie on a line through the reference level."""
    idx = [fit.index(t) for t in sat_terms]
    b = fit.params_[idx]
    V = fit.cov_[np.ix_(idx, idx)]
    x = np.asarray(levels, float) - ref
    # contrasts orthogonal to x: residual-maker
    P = np.eye(len(x)) - np.outer(x, x) / (x @ x)
    U, s, _ = np.linalg.svd(P)
    C = U[:, s > 1e-9].T
    cb = C @ b
    stat = float(cb @ np.linalg.solve(C @ V @ C.T, cb))
    return stat, C.shape[0], float(stats.chi2.sf(stat, C.shape[0]))


# =============================================================================== H1-H3 family
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
    dd = _prepare(
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
    robust = fA.fit.robust
    red = {}
    if not robust:
        for term in ("sat_linear", "sc_index"):
            red[term] = fit_view(
                prep,
                XA.drop(columns=[term]),
                info,
                firth=use_f,
                alpha=alpha,
                label=f"{prep.label}, model A without {term}",
                sink=[],
                check_epp=False,
            )
    rows = []
    for h, (claim, term, sign, scale) in HYPOTHESES.items():
        vf, reduced = (fB, fA) if h == "H3" else (fA, red.get(term))
        c = _coef_row(vf, term, alpha)
        t = term_test(vf, reduced, [term], alpha)
        rows.append(
            {
                "hypothesis": h,
                "claim": claim,
                "term": term,
                "scale": f"{prep.label}, {scale}",
                "expected_sign": sign,
                **c,
                **{k: t[k] for k in ("statistic", "df", "p_value")},
                "method": _method(vf, t["test"]),
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
        decide(e, p, s, alpha)
        for e, p, s in zip(summ["estimate"], summ["p_adjusted"], summ["expected_sign"])
    ]
    summ["sentence"] = [_sentence(r, alpha, adjust) for r in summ.to_dict(orient="records")]
    # switching costs one by one
    XS, gS, infoS = build_design(dd, satisfaction_form="linear", switching_costs="separate")
    fS = fit_view(
        prep,
        XS,
        infoS,
        firth=use_f,
        alpha=alpha,
        label=f"{prep.label}, switching costs separately",
        sink=sink,
        check_epp=False,
    )
    sc_tab = fS.fit.table(alpha)
    sc_tab = sc_tab[sc_tab["term"].isin(gS["switching_costs"])].reset_index(drop=True)
    coefs = fB.fit.table(alpha)
    sep = combine([fB.separation])
    meta = {
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
    }
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


def _sentence(r: dict, alpha: float, adjust: str) -> str:
    from ..results import format_number, format_p

    est = r["estimate"]
    if r["hypothesis"] == "H4":
        what = (
            f"the indirect effect of satisfaction through perceived value is {format_number(est)}"
        )
    else:
        what = (
            f"the estimate {r['scale'].split(', ')[-1]} is {format_number(est)} (HR {format_number(float(np.exp(est)))})"
            if "hazard" in r["scale"]
            else f"the estimate {r['scale'].split(', ')[-1]} is {format_number(est)}"
        )
    ci = f"{1 - alpha:.0%} CI {format_number(r['ci_lower'])} to {format_number(r['ci_upper'])}"
    pv = format_p(r["p_adjusted"] if adjust != "none" else r["p_value"])
    padj = ("adjusted p" if adjust != "none" else "p") + (
        f" {pv[0]} {pv[1:]}" if pv.startswith("<") else f" = {pv}"
    )
    verdict = {
        "supported": "supported",
        "contradicted": "contradicted (significant in the opposite direction)",
        "not supported": "not supported at this alpha",
        "not tested": "not tested",
    }[r["decision"]]
    return f"{r['hypothesis']} ({r['claim']}): {verdict}; {what}, {ci}, {padj}."


# =============================================================================== H3 marginal effects
def interaction_effects(
    data,
    *,
    horizon: float = 12,
    alpha: float = 0.05,
    horizon_method: str = "ipcw",
    quantiles=(0.1, 0.5, 0.9),
    firth="auto",
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
) -> InteractionResult:
    """H3 on three scales, its LR test, and predicted retention across satisfaction at low / medium /
    high switching cost.

    Models: satisfaction as categories + switching-cost index + ``dissat_x_sc`` + covariates, fitted
    as a Cox model (log hazard ratio; LR test against the model without the interaction) and as the
    retained-at-horizon IPCW logistic model (log odds of churn; marginal effects). Predicted
    retention at ``horizon`` is standardised over the analysis sample with satisfaction set to each
    level and the index set to its ``quantiles`` (low / medium / high), with delta-method CIs. The
    interaction on the probability scale is the difference-in-differences
    ``[R(top, high) - R(bottom, high)] - [R(top, low) - R(bottom, low)]`` of retention between the
    highest and lowest satisfaction levels at high versus low switching cost (negative under H3).

    References
    ----------
    Ai, C. and Norton, E. C. (2003). Interaction terms in logit and probit models. *Economics
    Letters* 80, 123-129.
    """
    _check_alpha(alpha)
    if len(quantiles) != 3:
        raise ParameterError(
            f"`quantiles` must give low, medium and high switching cost, got {quantiles!r}."
        )
    dd = _prepare(
        data,
        duration_col=duration_col,
        event_col=event_col,
        satisfaction_col=satisfaction_col,
        switching_cost_cols=switching_cost_cols,
        covariates=covariates,
        cluster_col=cluster_col,
        satisfaction_scale=satisfaction_scale,
    )
    sink = list(dd.warnings)
    z = stats.norm.ppf(1 - alpha / 2)
    X, g, info = build_design(dd, satisfaction_form="categorical", interaction=True)
    cprep = Prepared(dd, "cox", horizon, horizon_method)
    cB = fit_view(
        cprep,
        X,
        info,
        firth=firth,
        alpha=alpha,
        profile_terms=("dissat_x_sc",),
        label="Cox model with interaction",
        sink=sink,
    )
    cA = fit_view(
        cprep,
        X.drop(columns=["dissat_x_sc"]),
        info,
        firth=cB.firth,
        alpha=alpha,
        label="Cox model without interaction",
        sink=[],
        check_epp=False,
    )
    lr = term_test(cB, cA, ["dissat_x_sc"], alpha)
    hprep = Prepared(dd, "horizon", horizon, horizon_method)
    hB = fit_view(
        hprep,
        X,
        info,
        firth=firth,
        alpha=alpha,
        profile_terms=("dissat_x_sc",),
        label=f"{hprep.label} with interaction",
        sink=sink,
        check_epp=False,
    )
    rows = []
    for vf, scale in (
        (cB, "log hazard ratio (Cox)"),
        (hB, f"log odds of churn by {horizon:g} months"),
    ):
        c = _coef_row(vf, "dissat_x_sc", alpha)
        rows.append(
            {
                "scale": scale,
                **{k: c[k] for k in ("estimate", "se", "ci_lower", "ci_upper")},
                "statistic": c["estimate"] / c["se"],
                "p_value": 2 * stats.norm.sf(abs(c["estimate"] / c["se"])),
                "method": _method(vf, "Wald") + f"; CI {c['ci_method']}",
            }
        )
    qs = np.quantile(dd.sc_index, quantiles)
    names = ("low", "medium", "high")
    me, grads = [], {}
    for name, q, qv in zip(names, quantiles, qs):
        for lv in dd.levels:
            Xcf = _design_at(dd, "categorical", sat_value=lv, sc_value=qv, interaction=True)
            m, gr = _standardised_prediction(hB, Xcf)
            r, se, lo, hi = _retention_ci(m, gr, hB.fit.cov_, z)
            grads[(name, lv)] = (r, -gr)
            me.append(
                {
                    "switching_cost": name,
                    "sc_quantile": q,
                    "sc_index": qv,
                    "satisfaction": lv,
                    "retention": r,
                    "se": se,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
    top, bottom = max(dd.levels), min(dd.levels)
    did = (grads[("high", top)][0] - grads[("high", bottom)][0]) - (
        grads[("low", top)][0] - grads[("low", bottom)][0]
    )
    gd = (grads[("high", top)][1] - grads[("high", bottom)][1]) - (
        grads[("low", top)][1] - grads[("low", bottom)][1]
    )
    se_did = float(np.sqrt(max(gd @ hB.fit.cov_ @ gd, 0)))
    rows.append(
        {
            "scale": f"retention probability at {horizon:g} months: difference-in-differences "
            f"(satisfaction {top} vs {bottom}, high vs low switching cost)",
            "estimate": did,
            "se": se_did,
            "ci_lower": did - z * se_did,
            "ci_upper": did + z * se_did,
            "statistic": did / se_did,
            "p_value": 2 * stats.norm.sf(abs(did / se_did)),
            "method": "delta method, standardised predictions from the IPCW logistic model",
        }
    )
    lr_tab = pd.DataFrame([{"term": "dissat_x_sc", **lr, "method": _method(cB, lr["test"])}])
    meta = {
        "n": dd.n,
        "events": dd.events,
        "alpha": alpha,
        "method": "Cox and IPCW logistic",
        "horizon": horizon,
        "firth_cox": cB.firth,
        "firth_logistic": hB.firth,
        "sc_quantiles": dict(zip(names, qs.tolist())),
        "interaction_test": {
            "statistic": lr["statistic"],
            "df": lr["df"],
            "p_value": lr["p_value"],
            "method": _method(cB, lr["test"]),
        },
        "fingerprint": dd.fingerprint,
    }
    sep = combine([cB.separation, hB.separation])
    return InteractionResult(
        pd.DataFrame(rows),
        meta,
        tables={"marginal_effects": pd.DataFrame(me), "lr_test": lr_tab, "separation": sep.summary},
        warnings=list(dict.fromkeys(sink)),
    )


# =============================================================================== horizon sensitivity
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
    dd = _prepare(data, **columns)
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
    meta = {
        "n": dd.n,
        "events": dd.events,
        "alpha": alpha,
        "method": "H1-H3 across outcome views and horizons",
        "stable": {k: bool(v) for k, v in stable.items()},
    }
    return Result(df, meta, title="Sensitivity of the conclusions to the horizon and outcome view")


__all__ = [
    "HypothesesResult",
    "InteractionResult",
    "NonlinearityResult",
    "OUTCOMES",
    "SeparationResult",
    "adjust_pvalues",
    "horizon_sensitivity",
    "interaction_effects",
    "satisfaction_form",
    "evaluate_hypotheses",
]
