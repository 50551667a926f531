"""Profile (penalised) likelihoods of a Cox fit: refits with coefficients held fixed, profile
confidence intervals and likelihood-ratio tests, and the root finder every profile interval of the
package uses (:func:`profile_limits`, also behind the drivers' logistic fits).

Under Firth every quantity keeps the FULL model's penalty ``0.5 log det I(beta)`` evaluated at the
constrained coefficients (Heinze & Schemper 2001, 2002; R ``coxphf`` / ``logistf``), never the
penalty of a smaller design: the intervals are finite under monotone likelihood and the penalised
likelihood-ratio test holds its size (``docs/drivers-firth-size.md``).

References
----------
Heinze, G. and Schemper, M. (2001). A solution to the problem of monotone likelihood in Cox
regression. Biometrics 57, 114-119.
Venzon, D. J. and Moolgavkar, S. H. (1988). A method for computing profile-likelihood-based
confidence intervals. Applied Statistics 37, 87-94.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize, stats

from ..checks import check_alpha
from ..exceptions import ModelError, ParameterError
from ._newton import newton
from .engine import CoxFit

__all__ = ["cox_lr_test", "cox_profile_ci", "cox_refit_fixed", "profile_limits"]


def profile_limits(
    deviance: Callable[[float], float], estimate: float, scale: float, alpha: float = 0.05
) -> tuple[float, float]:
    """The interval ``{b: deviance(b) <= chi2_1(1 - alpha)}`` around ``estimate``.

    ``deviance(b) = 2 (l(hat) - l_p(b))`` is the profile (penalised) deviance; each side is
    bracketed by steps of ``2 * scale`` growing by 1.6 (up to 40), then solved by Brent's method
    (``xtol = 1e-9``). A side whose deviance never reaches the quantile (or whose refits fail) is
    ``nan``.
    """
    q = stats.chi2.ppf(1 - alpha, 1)
    out = [np.nan, np.nan]
    for col, side in ((0, -1.0), (1, 1.0)):
        step = max(float(scale), 1e-3) * 2.0
        lo, hi, ok = estimate, estimate + side * step, False
        for _ in range(40):
            try:
                val = deviance(hi) - q
            except (np.linalg.LinAlgError, FloatingPointError, ModelError):
                break
            if val > 0:
                ok = True
                break
            lo, hi = hi, hi + side * step
            step *= 1.6
        if ok:
            a, b = (lo, hi) if lo < hi else (hi, lo)
            out[col] = optimize.brentq(lambda x: deviance(x) - q, a, b, xtol=1e-9)
    return out[0], out[1]


def _state(fit: CoxFit):
    if fit._internals is None or fit._profile is None:
        raise ParameterError(
            "this Cox fit kept no data for profile likelihoods; fit it with "
            "cox_fit(..., keep_data=True)."
        )
    return fit._internals, fit._profile


def _position(fit: CoxFit, term) -> int:
    if isinstance(term, (int, np.integer)):
        return int(term)
    try:
        return fit.terms.index(str(term))
    except ValueError:
        raise ParameterError(f"term {term!r} is not in the model; terms: {fit.terms}.") from None


def cox_refit_fixed(fit: CoxFit, fixed: dict, *, max_iter: int = 50, tol: float = 1e-9):
    """Maximise ``fit``'s objective (its penalty included) with the terms in ``fixed``
    (``{term or column position: value}``) held; returns ``(objective, converged, n_iter)``."""
    (prob, _ev, beta_hat, keep), (pen, sd, names, firth) = _state(fit)
    beta = beta_hat.copy()
    free = np.ones(len(keep), dtype=bool)
    for term, value in fixed.items():
        pos = np.flatnonzero(keep == _position(fit, term))
        if len(pos):
            beta[pos[0]] = float(value)
            free[pos[0]] = False
    st = newton(
        prob, beta, pen=pen, firth=firth, free=free, tol=tol, max_iter=max_iter, sd=sd, names=names
    )
    return st.objective, st.converged, st.n_iter


def cox_profile_ci(fit: CoxFit, terms: Sequence | None = None, alpha: float = 0.05) -> np.ndarray:
    """Profile (penalised) likelihood intervals of ``terms`` (default all), ``len(terms) x 2``.

    The set ``{b: 2 (l_p(hat) - max_{others} l_p(b, others)) <= chi2_1(1 - alpha)}`` with ``l_p``
    the fit's objective (Firth: ``l + 0.5 log det I``, as R ``coxphf``'s default intervals).
    """
    alpha = check_alpha(alpha)
    terms = list(fit.terms) if terms is None else list(terms)
    (_prob, _ev, _b, keep), _ = _state(fit)
    se_model = np.sqrt(np.clip(np.diag(fit.naive_variance), 1e-12, None))
    out = np.full((len(terms), 2), np.nan)
    for i, term in enumerate(terms):
        j = _position(fit, term)
        if j not in keep or not np.isfinite(fit.params[j]):
            continue

        def deviance(b, j=j):
            return 2.0 * (fit.penalised_loglik - cox_refit_fixed(fit, {j: b}, tol=1e-10)[0])

        out[i] = profile_limits(deviance, float(fit.params[j]), se_model[j], alpha)
    return out


def cox_lr_test(fit: CoxFit, terms: Sequence) -> dict:
    """(Penalised) likelihood-ratio test of ``terms`` = 0 within ``fit``'s model.

    The restricted fit keeps the full design and holds the tested coefficients at 0, so under
    Firth both sides carry the full model's penalty (Heinze & Schemper 2002; R ``coxphf``'s
    ``coxphftest``). Unpenalised this is the usual LR test against the model without the terms.
    Returns ``statistic``, ``df``, ``p_value``, ``converged`` (of the restricted fit).
    """
    obj, converged, n_iter = cox_refit_fixed(fit, {t: 0.0 for t in terms})
    stat = max(2.0 * (fit.penalised_loglik - obj), 0.0)
    df = len(terms)
    return {
        "statistic": stat,
        "df": df,
        "p_value": float(stats.chi2.sf(stat, df)),
        "converged": bool(converged),
        "n_iter": int(n_iter),
    }


def with_profile_intervals(summary, fit: CoxFit, alpha: float):
    """``summary`` (a :func:`~._design.hazard_ratio_table`) with the interval columns replaced by
    :func:`cox_profile_ci` (log scale) and their exponentials; what ``fit_cox(firth=True)``
    reports, as R ``coxphf`` (Wald intervals are unreliable near separation)."""
    ci = cox_profile_ci(fit, list(summary["term"]), alpha)
    out = summary.copy()
    out["ci_lower"], out["ci_upper"] = ci[:, 0], ci[:, 1]
    out["hr_ci_lower"], out["hr_ci_upper"] = np.exp(ci[:, 0]), np.exp(ci[:, 1])
    return out
