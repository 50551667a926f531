"""Profile (penalised) likelihoods on a fitted model: refits with coefficients held fixed, profile
confidence intervals, likelihood-ratio and Wald tests.

Under Firth every quantity here uses the FULL model's penalised likelihood with the tested or profiled
coefficients held fixed (Heinze & Schemper 2002; R ``logistf`` / ``coxphf``), never a smaller design
with its own penalty. Cox models are refitted by the Cox engine (:mod:`workbench.survival.profile`),
logistic ones by :func:`~workbench.drivers.models.fit_logistic`; both share one interval root finder
(:func:`workbench.survival.profile.profile_limits`).

References
----------
Heinze, G. and Schemper, M. (2002). A solution to the problem of separation in logistic regression.
*Statistics in Medicine* 21, 2409-2419.
Venzon, D. J. and Moolgavkar, S. H. (1988). A method for computing profile-likelihood-based confidence
intervals. *Applied Statistics* 37, 87-94.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from ..exceptions import ConvergenceWarning
from ..survival.profile import cox_refit_fixed, profile_limits
from .models import ModelFit, _logistic_parts, fit_logistic, single_thread


def refit_fixed(
    fit: ModelFit, fixed: dict, *, max_iter: int = 100, tol: float = 1e-9
) -> tuple[float, bool, int]:
    """Refit ``fit``'s model on the same data with the coefficients ``fixed`` ({index: value}) held.

    Returns ``(objective, converged, n_iter)``. The objective is the full model's: under Firth the
    penalty ``0.5 log|I(beta)|`` is that of the full design evaluated at the constrained ``beta``
    (the profile penalised likelihood of Heinze & Schemper 2002 / R ``logistf``), not the penalty of a
    smaller design without the columns.
    """
    if fit.kind == "cox":
        return cox_refit_fixed(fit._data["engine"], fixed, max_iter=max_iter, tol=tol)
    start = fit.params_.copy()
    for j, v in fixed.items():
        start[j] = v
    d = fit._data
    r = fit_logistic(
        d["X"],
        d["y"],
        weights=d["w"],
        firth=fit.firth,
        fixed=fixed,
        start=start,
        max_iter=max_iter,
        tol=tol,
    )
    return r.loglik_, r.converged, r.n_iter


def profile_ci(fit: ModelFit, terms=None, alpha: float = 0.05) -> ModelFit:
    """See :func:`_profile_ci` (run with single-threaded BLAS)."""
    with single_thread():
        return _profile_ci(fit, terms, alpha)


def _profile_ci(fit: ModelFit, terms=None, alpha: float = 0.05) -> ModelFit:
    """Profile-(penalised-)likelihood CIs for ``terms`` (default all): ``{b: 2(l(hat) - l_p(b)) <= q}``.

    For a Firth fit this is the penalised profile likelihood of Heinze & Schemper (2002), finite
    under separation. Fills ``fit.ci_`` and marks ``fit.ci_method[term] = 'profile'``.
    """
    if fit.ci_ is None:
        fit.ci_ = np.full((len(fit.names), 2), np.nan)
    terms = fit.names if terms is None else [t for t in terms if t in fit.names]
    se_model = np.sqrt(np.clip(np.diag(np.linalg.pinv(_info_of(fit))), 1e-12, None))
    for name in terms:
        j = fit.index(name)

        def deviance(b, j=j):
            return 2 * (fit.loglik_ - refit_fixed(fit, {j: b}, max_iter=50, tol=1e-8)[0])

        fit.ci_[j] = profile_limits(deviance, float(fit.params_[j]), se_model[j], alpha)
        fit.ci_method[name] = "profile"
    return fit


def _info_of(fit: ModelFit) -> np.ndarray:
    if fit.kind == "cox":
        return np.linalg.pinv(fit._data["engine"].naive_variance)
    d = fit._data
    return _logistic_parts(d["X"], d["y"], d["w"], fit.params_, False)[3]


def lr_test(fit: ModelFit, terms) -> tuple[float, int, float]:
    """Likelihood-ratio test of ``terms`` = 0 within ``fit``'s model: ``2 (l(hat) - l(hat | terms = 0))``.

    The restricted fit keeps the full design and holds the tested coefficients at 0
    (:func:`refit_fixed`), so under Firth both log-likelihoods carry the full model's penalty: the
    penalised likelihood-ratio test of Heinze & Schemper (2002), as R ``logistf`` / ``coxphf`` compute
    it. (Refitting a smaller design instead would drop that design's share of ``0.5 log|I|`` and
    inflate the statistic.) Unpenalised, this equals the usual LR test against the model without the
    columns. Returns ``(statistic, df, p_value)``.
    """
    idx = [fit.index(t) for t in terms]
    objective, converged, n_iter = refit_fixed(fit, {j: 0.0 for j in idx})
    if not converged:
        warnings.warn(
            f"the restricted fit with {list(terms)} fixed at 0 did not converge in "
            f"{n_iter} iterations ({fit.kind} model): the LR statistic is approximate. "
            "Separation or monotone likelihood is the usual cause; use firth=True.",
            ConvergenceWarning,
            stacklevel=2,
        )
    stat = max(2.0 * (fit.loglik_ - objective), 0.0)
    df = len(idx)
    return stat, df, float(stats.chi2.sf(stat, df))


def wald_test(fit: ModelFit, terms) -> tuple[float, int, float]:
    """Joint Wald chi-square of ``terms`` = 0 using ``fit.cov_`` (robust when the fit is)."""
    idx = [fit.index(t) for t in terms]
    b = fit.params_[idx]
    V = fit.cov_[np.ix_(idx, idx)]
    stat = float(b @ np.linalg.solve(V, b))
    return stat, len(idx), float(stats.chi2.sf(stat, len(idx)))
