"""Parametric and flexible survival models of tenure, compared by AIC, with extrapolation labelled.

Models (all fitted by maximum likelihood on the tenure scale, so log-likelihoods and AIC compare):

* ``weibull``, ``lognormal``, ``loglogistic``: accelerated failure time models
  ``log T = x'beta + sigma W`` exactly as R ``survreg`` (same parametrisation: ``coefficients``
  and ``log(scale)``; same log-likelihood);
* ``piecewise_exponential``: a constant churn rate within tenure bands (``cuts``), covariates
  multiplying the hazard;
* ``spline``: the Royston-Parmar flexible model, a natural cubic spline in log tenure for the log
  cumulative hazard, ``log H(t | x) = s(log t; gamma) + x'beta`` (``spline_df = 1`` is the Weibull).

Survival beyond the last follow-up is extrapolation: the curves mark it (``extrapolated``), the
plot draws it dashed on a shaded band and :meth:`ParametricResult.predict_survival` warns
(:class:`~workbench.exceptions.ExtrapolationWarning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..checks import check_alpha
from ..columns import categorical_levels, is_categorical, term_name
from ..exceptions import (
    ConvergenceWarning,
    ExtrapolationWarning,
    ModelError,
    ParameterError,
    RowsExcludedWarning,
)
from ..results import Result
from ._frame import prepare_survival_frame

__all__ = ["MODELS", "ParametricResult", "fit_parametric"]

MODELS = ("weibull", "lognormal", "loglogistic", "piecewise_exponential", "spline")
AFT = ("weibull", "lognormal", "loglogistic")


# ------------------------------------------------------------------------------ design matrix
def _design(
    prep: pd.DataFrame, covariates: Sequence[str], reference: dict | None = None
) -> tuple[np.ndarray, list[str], dict]:
    """Numeric covariates as they are; categorical ones as treatment dummies under the package's
    one reference rule (R's: first level of a Categorical, else first sorted; ``reference=``
    overrides) and term names ``column[level]``. Returns ``(X, names, reference_levels)``."""
    reference = dict(reference or {})
    unknown = [c for c in reference if c not in covariates]
    if unknown:
        raise ParameterError(
            f"fit_parametric: `reference` names column(s) {unknown} that are not in `covariates` "
            f"{list(covariates)}; give reference levels only for categorical covariates you model."
        )
    cols, names, refs = [], [], {}
    for c in covariates:
        s = prep[c]
        if not is_categorical(s):
            if c in reference:
                raise ParameterError(
                    f"fit_parametric: `reference` given for {c!r}, but it is numeric ({s.dtype}); "
                    f"convert it with df[{c!r}].astype('category') to dummy-code it."
                )
            cols.append(s.to_numpy(dtype=float))
            names.append(c)
        else:
            levels = categorical_levels(s, reference=reference.get(c), func="fit_parametric")
            refs[c] = levels[0]
            for lv in levels[1:]:
                cols.append((s == lv).to_numpy(dtype=float))
                names.append(term_name(c, lv))
    X = np.column_stack(cols) if cols else np.zeros((len(prep), 0))
    if X.shape[1]:
        rank = np.linalg.matrix_rank(np.column_stack([np.ones(len(X)), X]))
        if rank < X.shape[1] + 1:
            raise ModelError(
                f"fit_parametric: the covariates {list(covariates)} are constant or collinear (design rank "
                f"{rank} < {X.shape[1] + 1} columns with the intercept). Drop the redundant covariate."
            )
    return X, names, refs


# ------------------------------------------------------------------------------ AFT (survreg)
def _aft_parts(dist: str, z: np.ndarray):
    """log f_W, log S_W and their derivatives in z for the standard error distribution W."""
    if dist == "weibull":
        ez = np.exp(z)
        return z - ez, -ez, 1 - ez, -ez
    if dist == "lognormal":
        logS = special.log_ndtr(-z)
        logpdf = -0.5 * z * z - 0.5 * np.log(2 * np.pi)
        mills = np.exp(logpdf - logS)
        return logpdf, logS, -z, -mills
    # loglogistic
    p = special.expit(z)
    with np.errstate(invalid="ignore"):
        l1p = np.logaddexp(0, z)
    return z - 2 * l1p, -l1p, 1 - 2 * p, -p


def _aft_negll(theta, dist, X1, logt, d, w):
    beta, log_s = theta[:-1], theta[-1]
    if not np.isfinite(theta).all() or abs(log_s) > 50:
        return 1e300, np.zeros_like(theta)
    s = np.exp(log_s)
    z = (logt - X1 @ beta) / s
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lf, lS, gf, gS = _aft_parts(dist, z)
        ll = np.sum(w * np.where(d == 1, lf - log_s - logt, lS))
    if not np.isfinite(ll):
        return 1e300, np.zeros_like(theta)
    g = np.where(d == 1, gf, gS)
    grad_b = X1.T @ (w * g) * (-1 / s)
    grad_ls = np.sum(w * g * (-z)) - np.sum(w * d)
    return -ll, -np.concatenate([grad_b, [grad_ls]])


def _aft_start(X1, logt, d):
    beta = np.linalg.lstsq(X1, logt, rcond=None)[0]
    resid = logt - X1 @ beta
    return np.concatenate([beta, [np.log(max(resid.std(), 0.1))]])


# ------------------------------------------------------------------------------ PH: PE, spline
def _pe_negll(theta, X, t, d, w, cuts):
    J = len(cuts)
    loglam, beta = theta[:J], theta[J:]
    ends = np.append(cuts[1:], np.inf)
    expo = np.clip(np.minimum(t[:, None], ends[None, :]) - cuts[None, :], 0, None)  # n x J
    piece = np.clip(np.searchsorted(cuts, t, side="left") - 1, 0, J - 1)
    eta = X @ beta if X.shape[1] else np.zeros(len(t))
    lam = np.exp(loglam)
    H = np.exp(eta) * (expo @ lam)
    ll = np.sum(w * (d * (loglam[piece] + eta) - H))
    grad_lam = np.bincount(piece, weights=w * d, minlength=J) - (w * np.exp(eta)) @ expo * lam
    grad_b = X.T @ (w * (d - H)) if X.shape[1] else np.zeros(0)
    return -ll, -np.concatenate([grad_lam, grad_b])


def _rp_basis(u: np.ndarray, knots: np.ndarray):
    """Royston-Parmar natural cubic spline basis in log time and its derivative (flexsurv's basis)."""
    kmin, kmax = knots[0], knots[-1]
    B = [np.ones_like(u), u]
    D = [np.zeros_like(u), np.ones_like(u)]
    for kj in knots[1:-1]:
        lam = (kmax - kj) / (kmax - kmin)
        B.append(
            np.clip(u - kj, 0, None) ** 3
            - lam * np.clip(u - kmin, 0, None) ** 3
            - (1 - lam) * np.clip(u - kmax, 0, None) ** 3
        )
        D.append(
            3 * np.clip(u - kj, 0, None) ** 2
            - 3 * lam * np.clip(u - kmin, 0, None) ** 2
            - 3 * (1 - lam) * np.clip(u - kmax, 0, None) ** 2
        )
    return np.column_stack(B), np.column_stack(D)


def _rp_negll(theta, B, D, X, logt, d, w):
    k = B.shape[1]
    gam, beta = theta[:k], theta[k:]
    eta = B @ gam + (X @ beta if X.shape[1] else 0.0)
    ds = D @ gam
    ev = d == 1
    if np.any(ds[ev] <= 0):
        return 1e300, np.zeros_like(theta)
    H = np.exp(eta)
    ll = np.sum(w[ev] * (np.log(ds[ev]) - logt[ev] + eta[ev])) - np.sum(w * H)
    gg = (D[ev] / ds[ev, None]).T @ w[ev] + B[ev].T @ w[ev] - B.T @ (w * H)
    gb = X.T @ (w * (d - H)) if X.shape[1] else np.zeros(0)
    return -ll, -np.concatenate([gg, gb])


# ------------------------------------------------------------------------------ optimiser
def _num_hessian(fun, theta, eps=1e-5):
    k = len(theta)
    H = np.zeros((k, k))
    for i in range(k):
        h = eps * max(1.0, abs(theta[i]))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        H[:, i] = (fun(tp)[1] - fun(tm)[1]) / (2 * h)
    return (H + H.T) / 2


def _maximise(fun, start):
    """Minimise ``fun`` (neg. log-lik, gradient) by BFGS then Newton polishing; return theta, cov, ok."""
    res = optimize.minimize(
        fun, start, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000}
    )
    theta = res.x
    ok = bool(np.isfinite(res.fun))
    for _ in range(25):
        f0, g = fun(theta)
        Hs = _num_hessian(fun, theta)
        try:
            step = np.linalg.solve(Hs, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-4:
            cand = theta - t * step
            if fun(cand)[0] <= f0 + 1e-12:
                break
            t /= 2
        theta = cand
        if np.max(np.abs(step)) < 1e-10:
            break
    f, g = fun(theta)
    Hs = _num_hessian(fun, theta)
    try:
        cov = np.linalg.inv(Hs)
        ok = ok and np.all(np.diag(cov) > 0)
    except np.linalg.LinAlgError:
        cov = np.full_like(Hs, np.nan)
        ok = False
    ok = ok and np.max(np.abs(g)) < 1e-3 * max(1.0, abs(f)) ** 0.5
    return theta, cov, -f, ok


# ------------------------------------------------------------------------------ result
class ParametricResult(Result):
    """Parametric model fits and their comparison (see :func:`fit_parametric`).

    Attributes
    ----------
    summary : DataFrame
        ``model, n_params, loglik, aic, delta_aic, converged`` sorted by AIC.
    coefficients : DataFrame
        ``model, term, estimate, se, ci_lower, ci_upper, p_value`` (AFT models: survreg's
        coefficients and ``log(scale)``; PE: ``log_rate[a-b]``; spline: ``gamma0..``).
    curves : DataFrame
        ``model, time, survival, extrapolated`` averaged over the customers (compare with KM).
    best_model_ : str
    """

    title = "Parametric survival models"
    key = "model"

    def __init__(self, summary, meta, *, coefficients, curves, predictors, warnings=None):
        super().__init__(
            summary,
            meta,
            tables={"coefficients": coefficients, "curves": curves},
            warnings=warnings,
        )
        self.coefficients = coefficients
        self.curves = curves
        self._predictors = predictors
        self.best_model_ = str(summary["model"].iloc[0])

    def predict_survival(self, times, model: str | None = None) -> pd.DataFrame:
        """Mean predicted survival at ``times`` for ``model`` (default: lowest AIC).

        Times beyond the last follow-up are flagged ``extrapolated`` and raise an
        :class:`ExtrapolationWarning`.
        """
        model = model or self.best_model_
        if model not in self._predictors:
            raise ParameterError(f"`model` must be one of {list(self._predictors)}, got {model!r}.")
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if not np.isfinite(t).all() or (t < 0).any():
            raise ParameterError(f"`times` must be finite tenures >= 0, got {times!r}.")
        follow = self.meta["max_followup"]
        beyond = t > follow
        if beyond.any():
            msg = (
                f"survival at {', '.join(f'{x:g}' for x in t[beyond])} is extrapolated beyond the last "
                f"follow-up ({follow:g}) by the {model} model; the data cannot confirm it."
            )
            warnings.warn(msg, ExtrapolationWarning, stacklevel=2)
        return pd.DataFrame(
            {
                "model": model,
                "time": t,
                "survival": self._predictors[model](t),
                "extrapolated": beyond,
            }
        )

    def plot(self, ax=None, km=None, models=None):
        """Fitted curves; beyond the last follow-up dashed on a shaded band labelled extrapolation."""
        from ..plotting.survival import plot_parametric

        return plot_parametric(self, ax=ax, km=km, models=models)


def fit_parametric(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    covariates: Sequence[str] | None = None,
    reference: dict | None = None,
    weights_col: str | None = None,
    models: Sequence[str] = MODELS,
    cuts: Sequence[float] = (0.0, 3.0, 12.0, 24.0),
    spline_df: int = 3,
    horizon: float | None = None,
    alpha: float = 0.05,
) -> ParametricResult:
    """Fit parametric and flexible survival models of tenure and compare them by AIC.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col, weights_col : str, optional
        Weights are case weights (as R ``survreg(weights=)``).
    covariates : list of str, optional
        Numeric columns enter as they are, others as treatment dummies ``column[level]``.
    reference : dict, optional
        ``{column: level}``: the reference level of a categorical covariate. Default R's rule, as
        in :func:`fit_cox`: the first category of a ``category`` column, else the first level in
        sorted order.
    models : sequence of str
        Any of ``weibull, lognormal, loglogistic, piecewise_exponential, spline``.
    cuts : sequence of float
        Band starts of the piecewise-exponential model (first 0).
    spline_df : int
        Degrees of freedom of the Royston-Parmar spline (``df - 1`` interior knots at quantiles of
        the log event times; 1 gives the Weibull).
    horizon : float, optional
        Curves are computed up to this tenure (default 1.5 x the last follow-up); beyond the last
        follow-up they are marked ``extrapolated``.
    alpha : float

    Returns
    -------
    ParametricResult

    Raises
    ------
    ParameterError
        Unknown model, bad cuts or df.
    ModelError
        No events, or constant / collinear covariates.

    Warns
    -----
    RowsExcludedWarning
        Customers with tenure 0 cannot enter a model on the log-tenure scale and are left out.
    ConvergenceWarning
        A model did not converge (its row says so).

    References
    ----------
    Kalbfleisch, J. D. and Prentice, R. L. (2002). The Statistical Analysis of Failure Time Data,
    2nd ed., ch. 2-3. Wiley. Royston, P. and Parmar, M. K. B. (2002). Flexible parametric
    proportional-hazards and proportional-odds models for censored survival data. Statistics in
    Medicine 21, 2175-2197. Akaike, H. (1974). A new look at the statistical model identification.
    IEEE Trans. Automatic Control 19, 716-723.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> fit = fit_parametric(load_dataset("synthetic", n_customers=2_000), models=["weibull", "lognormal"])
    >>> sorted(fit.summary["model"])
    ['lognormal', 'weibull']
    """
    alpha = check_alpha(alpha)
    models = [models] if isinstance(models, str) else list(models)
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ParameterError(
            f"`models` must be a non-empty list drawn from {list(MODELS)}, got {models!r}."
        )
    if (
        isinstance(spline_df, bool)
        or not isinstance(spline_df, (int, np.integer))
        or not 1 <= spline_df <= 10
    ):
        raise ParameterError(f"`spline_df` must be a whole number from 1 to 10, got {spline_df!r}.")
    cuts_a = np.asarray(list(cuts), dtype=float)
    if cuts_a.size < 1 or cuts_a[0] != 0 or (np.diff(cuts_a) <= 0).any():
        raise ParameterError(
            f"`cuts` must be increasing tenure cut points starting at 0, got {list(cuts)!r}."
        )
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    prep, info, messages = prepare_survival_frame(
        data,
        duration_col=duration_col,
        event_col=event_col,
        weights_col=weights_col,
        extra_cols=covariates,
        func="fit_parametric",
        warn_zero_tenure=False,
    )
    zero = prep["duration"].to_numpy() <= 0
    if zero.any():
        msg = (
            f"fit_parametric: {int(zero.sum()):,} customer(s) with tenure 0 ({int(prep['event'][zero].sum()):,} "
            "churned) left out: parametric models live on the log-tenure scale."
        )
        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
        messages.append(msg)
        prep = prep.loc[~zero]
        info["n_zero_tenure_excluded"] = int(zero.sum())
    t = prep["duration"].to_numpy()
    d = prep["event"].to_numpy().astype(float)
    w = prep["weight"].to_numpy()
    if d.sum() == 0:
        raise ModelError(
            f"fit_parametric: no churn events among {len(prep):,} customers (all censored); no survival model "
            "can be fitted. Check `event_col`."
        )
    X, xnames, reference_levels = _design(prep, covariates, reference)
    for j, name in enumerate(xnames):
        col = X[:, j]
        if "[" in name and np.all(np.isin(col, (0.0, 1.0))) and d[col == 1].sum() == 0:
            raise ModelError(
                f"fit_parametric: covariate level {name} has no churn events ({int(col.sum()):,} customers), so "
                "its effect is infinitely protective (monotone likelihood) and no model can estimate it. Merge "
                "that level with a neighbouring one or leave the covariate out."
            )
    logt = np.log(t)
    n_par_x = X.shape[1]
    follow = float(t.max())
    horizon = 1.5 * follow if horizon is None else float(horizon)
    grid = np.linspace(0.0, max(horizon, follow), 241)
    grid = np.unique(np.append(grid, follow))
    z = stats.norm.ppf(1 - alpha / 2)
    rows, coefs, curves, predictors = [], [], [], {}
    X1 = np.column_stack([np.ones(len(t)), X])
    # predictions average over covariate profiles: each distinct profile once, with its total weight
    if n_par_x:
        Xu, inv_u = np.unique(X, axis=0, return_inverse=True)
        wu = np.bincount(inv_u.ravel(), weights=w, minlength=len(Xu))
    else:
        Xu, wu = np.zeros((1, 0)), np.array([w.sum()])
    X1u = np.column_stack([np.ones(len(Xu)), Xu])
    for m in models:
        if m in AFT:

            def fun(th, m=m):
                return _aft_negll(th, m, X1, logt, d, w)

            theta, cov, ll, ok = _maximise(fun, _aft_start(X1, logt, d))
            names = ["(Intercept)", *xnames, "log(scale)"]

            def pred(tt, theta=theta, m=m):
                tt = np.asarray(tt, float)
                with np.errstate(divide="ignore"):
                    zz = (
                        np.log(np.where(tt > 0, tt, np.nan))[None, :] - (X1u @ theta[:-1])[:, None]
                    ) / np.exp(theta[-1])
                S = np.exp(_aft_parts(m, zz)[1])
                S = np.where(np.isnan(S), 1.0, S)
                return np.average(S, axis=0, weights=wu)

        elif m == "piecewise_exponential":
            J = len(cuts_a)

            def fun(th):
                return _pe_negll(th, X, t, d, w, cuts_a)

            ends = np.append(cuts_a[1:], np.inf)
            expo = (
                np.clip(np.minimum(t[:, None], ends[None, :]) - cuts_a[None, :], 0, None)
                * w[:, None]
            ).sum(0)
            piece = np.clip(np.searchsorted(cuts_a, t, side="left") - 1, 0, J - 1)
            dj = np.bincount(piece, weights=w * d, minlength=J)
            if (dj == 0).any() or (expo == 0).any():
                msg = (
                    f"fit_parametric: piecewise_exponential skipped: band(s) "
                    f"{[f'{a:g}+' for a, k in zip(cuts_a, dj, strict=True) if k == 0]} have no churn events; "
                    "use fewer `cuts`."
                )
                warnings.warn(msg, ConvergenceWarning, stacklevel=2)
                messages.append(msg)
                continue
            start = np.concatenate([np.log(dj / expo), np.zeros(n_par_x)])
            theta, cov, ll, ok = _maximise(fun, start)
            names = [
                f"log_rate[{a:g}-{b:g}]" if np.isfinite(b) else f"log_rate[{a:g}+]"
                for a, b in zip(cuts_a, ends, strict=True)
            ]
            names += xnames

            def pred(tt, theta=theta, ends=ends, J=J):
                tt = np.asarray(tt, float)
                ex = np.clip(np.minimum(tt[:, None], ends[None, :]) - cuts_a[None, :], 0, None)
                Hb = ex @ np.exp(theta[:J])
                eta = Xu @ theta[J:]
                return np.average(np.exp(-np.exp(eta)[:, None] * Hb[None, :]), axis=0, weights=wu)

        else:  # spline
            lte = logt[d == 1]
            if np.unique(lte).size < spline_df + 1:
                msg = f"fit_parametric: spline skipped: too few distinct churn times for spline_df={spline_df}."
                warnings.warn(msg, ConvergenceWarning, stacklevel=2)
                messages.append(msg)
                continue
            knots = np.quantile(lte, np.linspace(0, 1, spline_df + 1))
            B, D = _rp_basis(logt, knots)

            def fun(th, B=B, D=D):
                return _rp_negll(th, B, D, X, logt, d, w)

            wb, _, _, _ = _maximise(
                lambda th: _aft_negll(th, "weibull", X1, logt, d, w), _aft_start(X1, logt, d)
            )
            s = np.exp(wb[-1])
            start = np.concatenate([[-wb[0] / s, 1 / s], np.zeros(spline_df - 1), -wb[1:-1] / s])
            theta, cov, ll, ok = _maximise(fun, start)
            names = [f"gamma{i}" for i in range(spline_df + 1)] + xnames
            k_sp = spline_df + 1

            def pred(tt, theta=theta, knots=knots, k_sp=k_sp):
                tt = np.asarray(tt, float)
                pos = tt > 0
                Bt, _ = _rp_basis(np.log(tt[pos]), knots)
                eta = Xu @ theta[k_sp:]
                out = np.ones(len(tt))
                out[pos] = np.average(
                    np.exp(-np.exp(eta[:, None] + (Bt @ theta[:k_sp])[None, :])), axis=0, weights=wu
                )
                return out

        if not np.isfinite(ll) or ll < -1e299:
            msg = f"fit_parametric: the {m} model could not be fitted to these data (no finite likelihood); left out."
            warnings.warn(msg, ConvergenceWarning, stacklevel=2)
            messages.append(msg)
            continue
        if not ok:
            msg = f"fit_parametric: the {m} model did not converge cleanly; treat its estimates with caution."
            warnings.warn(msg, ConvergenceWarning, stacklevel=2)
            messages.append(msg)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            zs = theta / se
        coefs.append(
            pd.DataFrame(
                {
                    "model": m,
                    "term": names,
                    "estimate": theta,
                    "se": se,
                    "ci_lower": theta - z * se,
                    "ci_upper": theta + z * se,
                    "p_value": 2 * stats.norm.sf(np.abs(zs)),
                }
            )
        )
        k = len(theta)
        rows.append(
            {"model": m, "n_params": k, "loglik": ll, "aic": -2 * ll + 2 * k, "converged": ok}
        )
        predictors[m] = pred
        curves.append(
            pd.DataFrame(
                {"model": m, "time": grid, "survival": pred(grid), "extrapolated": grid > follow}
            )
        )
    if not rows:
        raise ModelError(
            "fit_parametric: none of the requested models could be fitted (see the warnings)."
        )
    summary = pd.DataFrame(rows).sort_values("aic", kind="stable").reset_index(drop=True)
    summary.insert(4, "delta_aic", summary["aic"] - summary["aic"].min())
    meta = {
        "n": len(prep),
        "events": int(d.sum()),
        "alpha": alpha,
        "method": "maximum likelihood; AIC comparison",
        "max_followup": follow,
        "horizon": float(grid.max()),
        "covariates": covariates,
        "cuts": cuts_a.tolist(),
        "spline_df": int(spline_df),
        **info,
        "reference_levels": reference_levels,
    }
    return ParametricResult(
        summary,
        meta,
        coefficients=pd.concat(coefs, ignore_index=True),
        curves=pd.concat(curves, ignore_index=True),
        predictors=predictors,
        warnings=messages,
    )
