"""Profile (penalised) likelihoods on a fitted model: refits with coefficients held fixed, profile
confidence intervals, likelihood-ratio and Wald tests.

Under Firth every quantity here uses the FULL model's penalised likelihood with the tested or profiled
coefficients held fixed (Heinze & Schemper 2002; R ``logistf`` / ``coxphf``), never a smaller design
with its own penalty.

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
from scipy import optimize, stats

from ..exceptions import ConvergenceWarning, ModelError
from .models import (
    ModelFit,
    _cox_parts,
    _fit_cox_engine,
    _logistic_parts,
    fit_cox,
    fit_logistic,
    single_thread,
)


def refit_fixed(fit: ModelFit, fixed: dict, *, max_iter: int = 100, tol: float = 1e-9) -> ModelFit:
    """Refit ``fit``'s model on the same data with the coefficients ``fixed`` ({index: value}) held.

    The objective is the full model's: under Firth the penalty ``0.5 log|I(beta)|`` is that of the
    full design evaluated at the constrained ``beta`` (the profile penalised likelihood of Heinze &
    Schemper 2002 / R ``logistf``), not the penalty of a smaller design without the columns.
    """
    start = fit.params_.copy()
    for j, v in fixed.items():
        start[j] = v
    if "engine" in fit._data:  # unpenalised Cox: a coefficient fixed at 0 is a column left out
        if any(v != 0 for v in fixed.values()):
            raise ModelError(
                "profile likelihoods of an unpenalised Cox fit are not available; fit with firth=True."
            )
        e = fit._data["engine"]
        keep = [j for j in range(len(fit.names)) if j not in fixed]
        if not keep:
            return _null_cox(fit, e)
        return _fit_cox_engine(
            e["X"][:, keep],
            e["time"],
            e["event"],
            ties=e["ties"],
            names=[fit.names[j] for j in keep],
            start=start[keep],
            max_iter=max_iter,
            tol=tol,
        )
    if fit.kind == "logistic":
        d = fit._data
        return fit_logistic(
            d["X"],
            d["y"],
            weights=d["w"],
            firth=fit.firth,
            fixed=fixed,
            start=start,
            max_iter=max_iter,
            tol=tol,
        )
    cd = fit._data["cd"]
    return fit_cox(
        cd.X,
        None,
        None,
        firth=fit.firth,
        fixed=fixed,
        start=start,
        max_iter=max_iter,
        tol=tol,
        _cd=cd,
    )


def _null_cox(fit: ModelFit, e: dict) -> ModelFit:
    """The model with every coefficient at 0 (its log partial likelihood is the engine's null one)."""
    from ..survival.engine import cox_fit

    cf = cox_fit(e["X"][:, :1], e["time"], e["event"], ties=e["ties"], max_iter=0)
    return ModelFit(
        "cox",
        [],
        np.zeros(0),
        np.zeros((0, 0)),
        float(cf.loglik_null),
        float(cf.loglik_null),
        False,
        True,
        0,
        fit.n,
        fit.events,
    )


def _refit_fixed(fit: ModelFit, j: int, value: float) -> float:
    return refit_fixed(fit, {j: value}, max_iter=50, tol=1e-8).loglik_


def profile_ci(fit: ModelFit, terms=None, alpha: float = 0.05) -> ModelFit:
    """See :func:`_profile_ci` (run with single-threaded BLAS)."""
    with single_thread():
        return _profile_ci(fit, terms, alpha)


def _profile_ci(fit: ModelFit, terms=None, alpha: float = 0.05) -> ModelFit:
    """Profile-(penalised-)likelihood CIs for ``terms`` (default all): ``{b: 2(l(hat) - l_p(b)) <= q}``.

    For a Firth fit this is the penalised profile likelihood of Heinze & Schemper (2002), finite
    under separation. Fills ``fit.ci_`` and marks ``fit.ci_method[term] = 'profile'``.
    """
    q = stats.chi2.ppf(1 - alpha, 1)
    if fit.ci_ is None:
        fit.ci_ = np.full((len(fit.names), 2), np.nan)
    terms = fit.names if terms is None else [t for t in terms if t in fit.names]
    se_model = np.sqrt(np.clip(np.diag(np.linalg.pinv(_info_of(fit))), 1e-12, None))
    for name in terms:
        j = fit.index(name)
        b0 = fit.params_[j]

        def g(b, j=j):
            return 2 * (fit.loglik_ - _refit_fixed(fit, j, b)) - q

        for side, col in ((-1, 0), (1, 1)):
            step = max(se_model[j], 1e-3) * 2.0
            lo = b0
            hi = b0 + side * step
            ok = False
            for _ in range(40):
                try:
                    val = g(hi)
                except (np.linalg.LinAlgError, FloatingPointError):
                    break
                if val > 0:
                    ok = True
                    break
                lo, hi = hi, hi + side * step
                step *= 1.6
            if ok:
                a, b = (lo, hi) if lo < hi else (hi, lo)
                fit.ci_[j, col] = optimize.brentq(g, a, b, xtol=1e-9)
        fit.ci_method[name] = "profile"
    return fit


def _info_of(fit: ModelFit) -> np.ndarray:
    if "engine" in fit._data:
        return np.linalg.pinv(fit._data["naive_cov"])
    if fit.kind == "logistic":
        d = fit._data
        return _logistic_parts(d["X"], d["y"], d["w"], fit.params_, False)[3]
    return _cox_parts(fit._data["cd"], fit.params_, False)["info"]


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
    restricted = refit_fixed(fit, {j: 0.0 for j in idx})
    if not restricted.converged:
        warnings.warn(
            f"the restricted fit with {list(terms)} fixed at 0 did not converge in "
            f"{restricted.n_iter} iterations ({fit.kind} model): the LR statistic is approximate. "
            "Separation or monotone likelihood is the usual cause; use firth=True.",
            ConvergenceWarning,
            stacklevel=2,
        )
    stat = max(2.0 * (fit.loglik_ - restricted.loglik_), 0.0)
    df = len(idx)
    return stat, df, float(stats.chi2.sf(stat, df))


def wald_test(fit: ModelFit, terms) -> tuple[float, int, float]:
    """Joint Wald chi-square of ``terms`` = 0 using ``fit.cov_`` (robust when the fit is)."""
    idx = [fit.index(t) for t in terms]
    b = fit.params_[idx]
    V = fit.cov_[np.ix_(idx, idx)]
    stat = float(b @ np.linalg.solve(V, b))
    return stat, len(idx), float(stats.chi2.sf(stat, len(idx)))
