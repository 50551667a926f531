"""Propensity models: statsmodels logistic regression, optional splines and interactions.

Multi-arm treatments are handled as one binary model per arm against the control arm, fitted on the
customers of those two arms (each contrast then estimates its effect in the population of the two
arms). This keeps every model a plain logistic regression, whose fit, separation and positivity
problems are easy to read, at the price of contrasts that refer to slightly different populations
(documented in the result's ``meta['population']``).

References
----------
Rosenbaum, P. R. & Rubin, D. B. (1983). The central role of the propensity score in observational
studies for causal effects. Biometrika 70, 41-55.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceWarning, ModelError, SeparationWarning
from ..results import Result


def design_matrix(
    frame: pd.DataFrame,
    confounders: list[str],
    *,
    splines: list[str] | None = None,
    spline_df: int = 4,
    interactions: list | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Model matrix (with intercept) of the confounders: numbers as they are, categories as dummies.

    ``splines`` names numeric confounders entered as B-splines (``patsy.bs``, ``spline_df`` degrees of
    freedom) instead of linearly; ``interactions`` is a list of pairs ``(a, b)`` of confounders whose
    product terms are added.
    """
    import patsy

    splines = list(splines or [])
    terms = []
    data = {}
    for i, c in enumerate(confounders):
        key = f"v{i}"
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(int)
        numeric = pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)
        data[key] = s.to_numpy(dtype=float) if numeric else s.astype(str).to_numpy()
        if numeric and c in splines:
            terms.append(f"bs({key}, df={int(spline_df)})")
        elif numeric:
            terms.append(key)
        else:
            terms.append(f"C({key})")
    names = {f"v{i}": c for i, c in enumerate(confounders)}
    for a, b in interactions or []:
        ia, ib = confounders.index(a), confounders.index(b)
        terms.append(f"{terms[ia]}:{terms[ib]}")
    dm = patsy.dmatrix(
        " + ".join(terms) if terms else "1", pd.DataFrame(data), return_type="dataframe"
    )
    cols = []
    for col in dm.columns:
        for k, v in sorted(names.items(), key=lambda kv: -len(kv[0])):
            col = col.replace(f"C({k})[T.", f"{v}[").replace(f"bs({k}", f"bs({v}").replace(k, v)
        cols.append(col)
    return dm.to_numpy(dtype=float), cols


def fit_logistic_irls(
    X: np.ndarray,
    y: np.ndarray,
    freq: np.ndarray | None = None,
    *,
    start=None,
    max_iter: int = 25,
    tol: float = 1e-8,
) -> np.ndarray:
    """Logistic regression by iteratively reweighted least squares (the bootstrap's fast refit)."""
    n, p = X.shape
    f = np.ones(n) if freq is None else freq
    beta = np.zeros(p) if start is None else np.array(start, dtype=float)
    for _ in range(max_iter):
        eta = np.clip(X @ beta, -30, 30)
        mu = 1.0 / (1.0 + np.exp(-eta))
        wv = f * mu * (1 - mu)
        grad = (f * (y - mu)) @ X
        info = X.T @ (X * wv[:, None])
        try:
            step = np.linalg.solve(info + 1e-10 * np.eye(p), grad)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    return beta


class PropensityResult(Result):
    """Fitted propensity models, one per arm against the control arm.

    ``summary``: arm, term, estimate (log odds ratio), se, ci_lower, ci_upper, p_value.
    ``tables['scores']``: arm, propensity quantiles by observed arm (no customer ids).
    """

    title = "Propensity model"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_overlap

        return plot_overlap(self, ax=ax, **kwargs)


def fit_propensity(
    X: np.ndarray, treated: np.ndarray, names: list[str], *, arm: str, alpha: float = 0.05
):
    """Fit ``P(arm | confounders)`` with statsmodels' GLM (binomial, logit) on the arm-vs-control rows.

    Returns ``(scores, coef_table, beta, caveats)``. Raises :class:`ModelError` when the fit fails.
    """
    import statsmodels.api as sm
    from scipy import stats

    caveats: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.GLM(treated.astype(float), X, family=sm.families.Binomial()).fit()
        except Exception as e:  # perfect separation or singular design
            raise ModelError(
                f"the propensity model for arm '{arm}' could not be fitted ({type(e).__name__}: {e}). "
                "A confounder may separate the arms perfectly (positivity violated); inspect study.check()."
            ) from e
    for w in caught:
        msg = str(w.message)
        if "separation" in msg.lower() or "overflow" in msg.lower():
            caveats.append(f"propensity model for arm '{arm}': {msg}")
            warnings.warn(caveats[-1], SeparationWarning, stacklevel=3)
        elif "converge" in msg.lower():
            caveats.append(f"propensity model for arm '{arm}' did not converge: {msg}")
            warnings.warn(caveats[-1], ConvergenceWarning, stacklevel=3)
    beta = np.asarray(res.params, dtype=float)
    se = np.asarray(res.bse, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    coef = pd.DataFrame(
        {
            "arm": arm,
            "term": names,
            "estimate": beta,
            "se": se,
            "ci_lower": beta - z * se,
            "ci_upper": beta + z * se,
            "p_value": 2 * stats.norm.sf(np.abs(beta / se)),
        }
    )
    scores = np.asarray(res.fittedvalues, dtype=float)
    return scores, coef, beta, caveats
