"""Shared pieces of the hypothesis tests H1-H4: inputs, term tests, multiplicity, decisions.

* :func:`term_test` - likelihood-ratio test of coefficients = 0 within the fitted model (the
  restricted fit keeps the full design and, under Firth, the full model's penalty: see
  :func:`workbench.drivers.models.lr_test`), or a (robust) Wald test when the SEs are robust;
* :func:`adjust_pvalues` - Holm or Benjamini-Hochberg across the family;
* :func:`decide` - "supported" only when the adjusted p-value and the interval agree;
* standardised predictions with delta-method intervals (retention at the horizon).

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J. Statist.* 6, 65-70.
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289-300.
Heinze, G. and Schemper, M. (2002). A solution to the problem of separation in logistic regression.
*Statistics in Medicine* 21, 2409-2419 (penalised likelihood-ratio tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_alpha as _check_alpha  # noqa: F401 (re-exported for the H modules)
from ..exceptions import ParameterError
from .design import DriverData, build_design, resolve_inputs
from .fitting import ViewFit
from .profile import lr_test, wald_test

ADJUST = ("holm", "bh", "none")


def prepare(
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


def decide(estimate, p_adj, expected_sign, alpha, ci_lower=None, ci_upper=None) -> str:
    """The decision at ``alpha`` from the adjusted p-value AND the interval.

    "supported" (or "contradicted", the opposite direction) only when the adjusted p-value is below
    ``alpha`` and the interval excludes 0 on the same side as the estimate; when the test and the
    interval disagree (e.g. a penalised LR test beside a profile interval that includes 0) the
    decision is "not supported".
    """
    if not np.isfinite(p_adj):
        return "not tested"
    if p_adj >= alpha:
        return "not supported"
    if ci_lower is not None and ci_upper is not None:
        lo, hi = float(ci_lower), float(ci_upper)
        if not (lo > 0 or hi < 0) or np.sign(estimate) != (1 if lo > 0 else -1):
            return "not supported"
    return "supported" if np.sign(estimate) == expected_sign else "contradicted"


def agrees(p_adj, alpha, ci_lower, ci_upper) -> bool:
    """Do the adjusted test and the interval say the same (both exclude 0, or neither)?"""
    if not np.isfinite(p_adj):
        return True
    excludes = float(ci_lower) > 0 or float(ci_upper) < 0
    return excludes == (p_adj < alpha)


def term_test(vf: ViewFit, terms: list) -> dict:
    """Test ``terms`` = 0 in ``vf``'s model.

    Likelihood ratio (penalised LR under Firth, with the full model's penalty and the tested
    coefficients fixed at 0), or the Wald test with the fit's robust covariance when its SEs are
    robust (clusters or IPCW weights: the LR statistic has no chi-square reference then).
    """
    fit = vf.fit
    if fit.robust:
        stat, df, p = wald_test(fit, terms)
        how = "robust Wald"
    else:
        stat, df, p = lr_test(fit, terms)
        how = "penalised LR" if vf.firth else "LR"
    return {"statistic": stat, "df": df, "p_value": p, "test": how}


def coef_row(vf: ViewFit, term: str, alpha: float) -> dict:
    tab = vf.fit.table(alpha).set_index("term")
    r = tab.loc[term]
    return {
        "estimate": r["estimate"],
        "se": r["se"],
        "ci_lower": r["ci_lower"],
        "ci_upper": r["ci_upper"],
        "ci_method": r["ci_method"],
    }


def method_label(vf: ViewFit, test: str) -> str:
    fit = "Firth-penalised " if vf.firth else ""
    se = (
        f", cluster-robust SE ({vf.fit.n_clusters} clusters)"
        if vf.fit.n_clusters
        else (", robust SE" if vf.fit.robust else "")
    )
    ties = ""
    if vf.outcome == "cox":  # unpenalised: the survival engine (Efron); Firth: Breslow, as coxphf
        ties = ", Breslow ties" if vf.firth else ", Efron ties"
    return f"{fit}{vf.label}; {test} test{se}{ties}"


def standardised_prediction(vf: ViewFit, Xcf: pd.DataFrame):
    """Mean predicted probability of churn by the horizon with the counterfactual design ``Xcf``
    over the whole analysis sample, and its gradient wrt the coefficients (delta method)."""
    fit = vf.fit
    Z = np.column_stack([np.ones(len(Xcf)), Xcf[vf.terms].to_numpy(float)])
    p = 1 / (1 + np.exp(-(Z @ fit.params_)))
    grad = (Z * (p * (1 - p))[:, None]).mean(axis=0)
    return float(p.mean()), grad


def retention_ci(mean_churn, grad, cov, z):
    r = 1 - mean_churn
    se = float(np.sqrt(max(grad @ cov @ grad, 0)))
    lr = np.log(r / (1 - r))
    se_l = se / (r * (1 - r))
    return r, se, 1 / (1 + np.exp(-(lr - z * se_l))), 1 / (1 + np.exp(-(lr + z * se_l)))


def design_at(dd, vf_form, sat_value=None, sc_value=None, interaction=False):
    X, _, _ = build_design(
        dd,
        satisfaction_form=vf_form,
        interaction=interaction,
        sat_override=sat_value,
        sc_override=sc_value,
    )
    return X


def reference_levels(dd: DriverData) -> dict:
    """The reference level of satisfaction (the scale's middle) and of each categorical covariate
    (the first level present, as :func:`workbench.drivers.design.build_design` codes them)."""
    out = {dd.satisfaction_col: dd.ref_level}
    for c in dd.covariates:
        s = dd.frame[c]
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            continue
        levels = dd.categorical.get(c) or (
            list(s.cat.categories)
            if isinstance(s.dtype, pd.CategoricalDtype)
            else sorted(s.astype(str).unique())
        )
        present = [v for v in map(str, levels) if (s.astype(str) == v).any()]
        if present:
            out[c] = present[0]
    return out


def meta_of(dd: DriverData, **fields) -> dict:
    """The result contract's meta (:func:`workbench.results.standard_meta`) for an analysis of ``dd``:
    n, events, alpha, fingerprint, exclusions, reference levels, method, then the analysis' own keys."""
    from ..columns import data_fingerprint
    from ..results import standard_meta

    fields.setdefault("n", dd.n)
    fields.setdefault("events", dd.events)
    fields.setdefault("exclusions", dd.exclusions)
    fields["fingerprint"] = (
        fields.get("fingerprint") or dd.fingerprint or data_fingerprint(dd.frame)
    )
    fields.setdefault("reference_levels", reference_levels(dd))
    return standard_meta(
        None, alpha=fields.pop("alpha", None), method=fields.pop("method"), **fields
    )
