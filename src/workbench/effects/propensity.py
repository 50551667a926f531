"""Propensity models: logistic regression on the specification's design (statsmodels GLM), or
gradient boosting (scikit-learn) with cross-fitted scores.

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

from ..exceptions import ConvergenceWarning, ModelError, PositivityWarning, SeparationWarning
from ..results import Result


def fit_logistic_irls(
    X: np.ndarray,
    y: np.ndarray,
    freq: np.ndarray | None = None,
    *,
    start=None,
    max_iter: int = 25,
    tol: float = 1e-8,
    return_info: bool = False,
):
    """Logistic regression by iteratively reweighted least squares (the bootstrap's fast refit).

    Memory ``O(n p)``. With ``return_info`` returns ``(beta, information, converged)``.
    """
    n, p = X.shape
    f = np.ones(n) if freq is None else freq
    beta = np.zeros(p) if start is None else np.array(start, dtype=float)
    converged, info = False, np.eye(p)
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
            converged = True
            break
    if return_info:
        return beta, info, converged
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

    Beyond 100,000 customers the package's IRLS fits the same model in ``O(n p)`` memory
    (statsmodels' pseudo-inverse holds several ``n x p`` copies).

    Returns ``(scores, coef_table, beta, caveats)``. Raises :class:`ModelError` when the fit fails.
    """
    import statsmodels.api as sm

    caveats: list[str] = []
    if len(treated) > LARGE:
        return _fit_propensity_large(X, treated, names, arm=arm, alpha=alpha)
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
    coef = _coef_table(arm, names, beta, se, alpha)
    scores = np.asarray(res.fittedvalues, dtype=float)
    return scores, coef, beta, caveats


LARGE = 100_000


def _coef_table(arm, names, beta, se, alpha) -> pd.DataFrame:
    """Log odds ratios with Wald intervals and p-values on their own (log-odds) scale."""
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(beta / se))
    return pd.DataFrame(
        {
            "arm": arm,
            "term": names,
            "estimate": beta,
            "se": se,
            "ci_lower": beta - z * se,
            "ci_upper": beta + z * se,
            "p_value": p,
        }
    )


def _fit_propensity_large(X, treated, names, *, arm: str, alpha: float):

    t = np.asarray(treated, dtype=float)
    beta, info, converged = fit_logistic_irls(X, t, max_iter=50, tol=1e-9, return_info=True)
    caveats: list[str] = []
    if not converged:
        caveats.append(f"propensity model for arm '{arm}' did not converge in 50 IRLS iterations.")
        warnings.warn(caveats[-1], ConvergenceWarning, stacklevel=4)
    try:
        se = np.sqrt(np.diag(np.linalg.inv(info)))
    except np.linalg.LinAlgError:
        se = np.full(len(beta), np.nan)
    coef = _coef_table(arm, names, beta, se, alpha)
    scores = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -30, 30)))
    return scores, coef, beta, caveats


def fit_propensity_gbm(
    frame: pd.DataFrame,
    confounders: list[str],
    treated: np.ndarray,
    *,
    arm: str,
    n_folds: int = 5,
    seed: int = 0,
):
    """Cross-fitted gradient-boosting propensity ``P(arm | confounders)``.

    scikit-learn's ``HistGradientBoostingClassifier`` (categories as native categorical features,
    early stopping on an internal validation split) is fitted on ``n_folds - 1`` folds and predicts
    the held-out fold, so no customer's score comes from a model that saw that customer (the
    cross-fitting that keeps AIPW's influence-function intervals valid with a flexible learner).

    Returns ``(scores, folds, caveats)``.

    References
    ----------
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural
    parameters. The Econometrics Journal 21, C1-C68.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    cols, cat = [], []
    for c in confounders:
        s = frame[c]
        if (
            pd.api.types.is_bool_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype)
            or not pd.api.types.is_numeric_dtype(s)
        ):
            cols.append(pd.Categorical(s.astype(str)).codes.astype(float))
            cat.append(True)
        else:
            cols.append(s.to_numpy(dtype=float))
            cat.append(False)
    X = np.column_stack(cols)
    y = np.asarray(treated, dtype=int)
    rng = np.random.default_rng(seed)
    folds = rng.permutation(np.arange(len(y)) % n_folds)
    scores = np.empty(len(y))
    for k in range(n_folds):
        test = folds == k
        model = HistGradientBoostingClassifier(
            categorical_features=np.array(cat) if any(cat) else None,
            learning_rate=0.1,
            max_iter=300,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            early_stopping=True,
            validation_fraction=0.2,
            n_iter_no_change=15,
            random_state=seed + k,
        )
        model.fit(X[~test], y[~test])
        scores[test] = model.predict_proba(X[test])[:, 1]
    caveats: list[str] = []
    tiny = (scores < 1e-4) | (scores > 1 - 1e-4)
    if tiny.any():
        caveats.append(
            f"gradient-boosting propensity for arm '{arm}': {int(tiny.sum()):,} customers have a cross-fitted "
            "score within 1e-4 of 0 or 1 (scores truncated there); positivity is doubtful for them."
        )
        warnings.warn(caveats[-1], PositivityWarning, stacklevel=3)
    return np.clip(scores, 1e-4, 1 - 1e-4), folds, caveats
