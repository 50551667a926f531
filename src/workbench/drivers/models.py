"""Lean regression fitters: logistic (maximum likelihood or Firth) and Cox (Breslow; maximum partial
likelihood or Firth / Heinze-Schemper), with model-based or cluster-robust covariances and
profile-(penalised-)likelihood confidence intervals.

These are the numerical engines behind :mod:`workbench.drivers`; they work on plain arrays so that
simulation studies can call them in a tight loop. Public wrappers with the result convention are in
:mod:`workbench.drivers.firth`.

References
----------
Firth, D. (1993). Bias reduction of maximum likelihood estimates. *Biometrika* 80(1), 27-38.
Heinze, G. and Schemper, M. (2002). A solution to the problem of separation in logistic regression.
*Statistics in Medicine* 21, 2409-2419.
Heinze, G. and Schemper, M. (2001). A solution to the problem of monotone likelihood in Cox
regression. *Biometrics* 57, 114-119.
Lin, D. Y. and Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
*JASA* 84, 1074-1078.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ModelError

_MAX_STEP = 5.0


_CONTROLLER = []


def single_thread():
    """Limit BLAS to one thread: these designs are small, and on a shared machine threaded BLAS on
    small matrices is ~50x slower than one thread (oversubscription). The library scan of
    threadpoolctl is done once and cached."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


@dataclass
class ModelFit:
    """A fitted model on arrays: ``params_``, ``cov_``, log-likelihood and how it was obtained."""

    kind: str  # 'logistic' | 'cox'
    names: list
    params_: np.ndarray
    cov_: np.ndarray
    loglik_: float  # penalised log-likelihood when firth
    loglik_unpenalised_: float
    firth: bool
    converged: bool
    n_iter: int
    n: int
    events: float
    robust: bool = False
    n_clusters: int | None = None
    ci_method: dict = field(default_factory=dict)
    ci_: np.ndarray | None = None  # p x 2, filled by confint
    _data: dict = field(default_factory=dict, repr=False)

    @property
    def se_(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov_), 0, None))

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ModelError(f"term {name!r} is not in the model; terms: {self.names}") from None

    def wald_ci(self, alpha: float = 0.05) -> np.ndarray:
        z = stats.norm.ppf(1 - alpha / 2)
        return np.column_stack([self.params_ - z * self.se_, self.params_ + z * self.se_])

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy coefficient table (term, estimate, se, ci_lower, ci_upper, statistic, p_value, ci_method)."""
        ci = self.wald_ci(alpha)
        methods = []
        for j, name in enumerate(self.names):
            if (
                self.ci_ is not None
                and np.all(np.isfinite(self.ci_[j]))
                and self.ci_method.get(name) == "profile"
            ):
                ci[j] = self.ci_[j]
                methods.append("profile")
            else:
                methods.append("wald-robust" if self.robust else "wald")
        z = self.params_ / self.se_
        return pd.DataFrame(
            {
                "term": self.names,
                "estimate": self.params_,
                "se": self.se_,
                "ci_lower": ci[:, 0],
                "ci_upper": ci[:, 1],
                "statistic": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "ci_method": methods,
            }
        )


# =============================================================================== logistic
def _logistic_parts(X, y, w, beta, firth):
    eta = X @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    v = w * p * (1 - p)
    info = (X * v[:, None]).T @ X
    with np.errstate(divide="ignore"):
        ll = float(
            np.sum(
                w
                * (
                    y * np.log(np.where(p > 0, p, 1e-300))
                    + (1 - y) * np.log(np.where(p < 1, 1 - p, 1e-300))
                )
            )
        )
    resid = w * (y - p)
    h = None
    if firth:
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0:
            raise np.linalg.LinAlgError("singular information")
        ll_pen = ll + 0.5 * logdet
        inv = np.linalg.inv(info)
        h = ((X @ inv) * X).sum(axis=1) * v
        resid = resid + h * (0.5 - p)
    else:
        ll_pen = ll
    score = X.T @ resid
    return ll_pen, ll, score, info, p


def fit_logistic(X, y, **kwargs) -> ModelFit:
    """See :func:`_fit_logistic` (run with single-threaded BLAS)."""
    with single_thread():
        return _fit_logistic(X, y, **kwargs)


def _fit_logistic(
    X,
    y,
    *,
    weights=None,
    firth: bool = False,
    names=None,
    clusters=None,
    robust: bool = False,
    fixed: dict | None = None,
    start=None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> ModelFit:
    """Logistic regression by Newton-Raphson (Fisher scoring), optionally Firth-penalised.

    ``X`` must contain the intercept column. ``fixed`` ({column index: value}) holds some
    coefficients fixed (used for profile likelihoods). ``weights`` are prior (case) weights, e.g.
    inverse-probability-of-censoring weights; with ``robust=True`` or ``clusters`` the covariance is
    the sandwich (clustered by ``clusters`` when given).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    beta = np.zeros(k) if start is None else np.array(start, dtype=float)
    fixed = fixed or {}
    for j, v in fixed.items():
        beta[j] = v
    free = np.array([j not in fixed for j in range(k)])
    converged = False
    it = 0
    ll_pen, ll, score, info, p = _logistic_parts(X, y, w, beta, firth)
    for it in range(1, max_iter + 1):  # noqa: B007 (n_iter reported)
        fi = info[np.ix_(free, free)]
        try:
            step = np.linalg.solve(fi, score[free])
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(fi, score[free], rcond=None)[0]
        mx = np.max(np.abs(step)) if step.size else 0.0
        if mx > _MAX_STEP:
            step = step * _MAX_STEP / mx
        t = 1.0
        for _ in range(30):
            nb = beta.copy()
            nb[free] += t * step
            try:
                parts = _logistic_parts(X, y, w, nb, firth)
            except np.linalg.LinAlgError:
                t /= 2
                continue
            if parts[0] >= ll_pen - 1e-12 * max(1.0, abs(ll_pen)) or t < 1e-6:
                break
            t /= 2
        beta = nb
        ll_pen, ll, score, info, p = parts
        if np.max(np.abs(t * step)) < tol or (step.size == 0):
            converged = True
            break
        if np.max(np.abs(score[free])) < tol * 1e-2:
            converged = True
            break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    fit = ModelFit(
        "logistic",
        list(names) if names is not None else [f"x{j}" for j in range(k)],
        beta,
        cov,
        ll_pen,
        ll,
        firth,
        converged,
        it,
        n,
        float(np.sum(w * y)),
    )
    if clusters is not None or robust:
        U = X * (w * (y - p))[:, None]
        fit.cov_, fit.n_clusters = _sandwich(cov, U, clusters)
        fit.robust = True
    fit._data = {"X": X, "y": y, "w": w}
    return fit


def _sandwich(bread, U, clusters):
    if clusters is not None:
        codes = pd.factorize(np.asarray(clusters))[0]
        G = codes.max() + 1
        Ug = np.zeros((G, U.shape[1]))
        np.add.at(Ug, codes, U)
        adj = 1.0  # as R coxph(cluster=) and sandwich HC0: no small-sample factor
    else:
        Ug, G, adj = U, None, 1.0
    meat = Ug.T @ Ug
    return adj * bread @ meat @ bread, G


# =============================================================================== Cox (Breslow)
class _CoxData:
    """Sorted survival data with the index arithmetic for Breslow risk sets."""

    def __init__(self, X, time, event, weights=None):
        order = np.argsort(time, kind="mergesort")
        self.order = order
        self.X = np.asarray(X, dtype=float)[order]
        self.time = np.asarray(time, dtype=float)[order]
        self.event = np.asarray(event, dtype=float)[order]
        self.w = np.ones(len(order)) if weights is None else np.asarray(weights, dtype=float)[order]
        ev = self.event > 0
        self.utimes, inv = np.unique(self.time[ev], return_inverse=True)
        # weighted number of events and sum of x over events at each unique event time
        self.d = np.bincount(inv, weights=self.w[ev], minlength=len(self.utimes))
        self.start = np.searchsorted(self.time, self.utimes, side="left")  # risk set = start:
        self.xev = (self.X[ev] * self.w[ev][:, None]).sum(axis=0)
        self.ev = ev
        self.n = len(order)
        # index of the last event time whose risk set contains row i (rows are sorted by time)
        self.last_event = np.searchsorted(self.start, np.arange(self.n), side="right") - 1
        self.has_event = (self.last_event >= 0).astype(float)
        self.last_event = np.clip(self.last_event, 0, None)


def _rev_cumsum(a):
    return np.cumsum(a[::-1], axis=0)[::-1]


def _cox_parts(cd: _CoxData, beta, firth, need_resid=False):
    """Breslow log partial likelihood, (Firth-modified) score and information.

    Risk sets are nested, so every sum over risk sets is a sum over rows with a cumulative weight:
    ``sum_t d_t / S0_t * sum_{i in R_t} f_i = sum_i f_i * c_i`` with ``c_i = sum_{t: i in R_t} d_t / S0_t``.
    This keeps the cost at O(n p^2) without n x p x p arrays.
    """
    X = cd.X
    eta = X @ beta
    eta_max = eta.max()
    r = cd.w * np.exp(eta - eta_max)
    S0 = _rev_cumsum(r)[cd.start]
    S1 = _rev_cumsum(X * r[:, None])[cd.start]
    mu = S1 / S0[:, None]
    d = cd.d
    a = d / S0
    c = np.cumsum(a)[cd.last_event] * cd.has_event  # c_i
    ll = float(np.sum(cd.w[cd.ev] * eta[cd.ev]) - np.sum(d * (np.log(S0) + eta_max)))
    score = cd.xev - (d[:, None] * mu).sum(axis=0)
    rc = r * c
    info = (X * rc[:, None]).T @ X - (mu * d[:, None]).T @ mu
    ll_pen = ll
    if firth:
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0:
            raise np.linalg.LinAlgError("singular information")
        ll_pen = ll + 0.5 * logdet
        A = np.linalg.inv(info)
        s = ((X @ A) * X).sum(axis=1)
        Ss = _rev_cumsum(r * s)[cd.start] / S0  # E_t[s]
        Amu = mu @ A
        cq = np.einsum("tj,tj->t", mu, Amu)  # mu' A mu
        m = (np.cumsum(a[:, None] * Amu, axis=0)[cd.last_event]) * cd.has_event[:, None]
        # sum_t d_t E_t[q (x_r - mu_r)], q = (x - mu)' A (x - mu)
        third = (
            X.T @ (rc * s)
            - (d * Ss) @ mu
            - 2 * X.T @ (r * np.einsum("ij,ij->i", X, m))
            + 2 * (d * cq) @ mu
        )
        score = score + 0.5 * third
    out = {"ll_pen": ll_pen, "ll": ll, "score": score, "info": info}
    if need_resid:
        out.update(eta=eta, eta_max=eta_max, S0=S0, mu=mu, r=r)
    return out


def _cox_score_residuals(cd: _CoxData, parts) -> np.ndarray:
    """Score residuals (Breslow) per subject, in the original row order."""
    X, r = cd.X, parts["r"]
    S0, mu, d = parts["S0"], parts["mu"], cd.d
    # for subject i: sum over event times t_k <= time_i of d_k / S0_k * (x_i - mu_k)
    a = d / S0
    cumA = np.cumsum(a)
    cumB = np.cumsum(a[:, None] * mu, axis=0)
    k = np.searchsorted(cd.utimes, cd.time, side="right") - 1  # last event time <= time_i
    A_i = np.where(k >= 0, cumA[np.clip(k, 0, None)], 0.0)
    B_i = np.where(k[:, None] >= 0, cumB[np.clip(k, 0, None)], 0.0)
    # mu at own event time
    idx_own = np.searchsorted(cd.utimes, cd.time, side="left")
    own_mu = mu[np.clip(idx_own, 0, len(cd.utimes) - 1)]
    resid = (cd.w * cd.ev)[:, None] * (X - own_mu) - r[:, None] * (X * A_i[:, None] - B_i)
    out = np.empty_like(resid)
    out[cd.order] = resid
    return out


def fit_cox(X, time, event, *, firth: bool = False, ties: str = "efron", **kwargs) -> ModelFit:
    """Cox regression of ``time``/``event`` on ``X`` (no intercept).

    Unpenalised fits go through the package's one Cox engine,
    :func:`workbench.survival.engine.cox_fit` (Efron ties by default, as R's ``coxph``; Lin-Wei
    sandwich with ``clusters`` / ``robust``). Firth-penalised fits (``firth=True``) and fits with
    ``fixed`` coefficients use :func:`_fit_cox` below: the Firth-type penalised partial likelihood of
    Heinze & Schemper (2001) with Breslow ties (as R ``coxphf``), the one home of that penalty.
    """
    if not firth and not kwargs.get("fixed") and kwargs.get("_cd") is None:
        return _fit_cox_engine(X, time, event, ties=ties, **kwargs)
    with single_thread():  # Breslow ties: the Firth-type penalised likelihood is defined with them
        return _fit_cox(X, time, event, firth=firth, **kwargs)


def _fit_cox_engine(
    X,
    time,
    event,
    *,
    ties: str = "efron",
    names=None,
    clusters=None,
    robust: bool = False,
    weights=None,
    start=None,
    max_iter: int = 100,
    tol: float = 1e-9,
    fixed=None,
) -> ModelFit:
    """An unpenalised Cox fit by :func:`workbench.survival.engine.cox_fit`, as a :class:`ModelFit`."""
    from ..survival.engine import cox_fit

    X = np.asarray(X, dtype=float)
    n, k = X.shape
    names = list(names) if names is not None else [f"x{j}" for j in range(k)]
    event = np.asarray(event, dtype=float)
    if not np.any(event > 0):
        raise ModelError(
            "the Cox model has no events: every customer is censored; nothing to estimate."
        )
    cf = cox_fit(
        pd.DataFrame(X, columns=names),
        np.asarray(time, dtype=float),
        event,
        weights=weights,
        ties=ties,
        init=start,
        tol=tol,
        max_iter=max_iter,
        robust=robust and clusters is None,
        cluster=None if clusters is None else np.asarray(clusters),
    )
    fit = ModelFit(
        "cox",
        names,
        np.asarray(cf.params, float),
        np.asarray(cf.variance, float),
        float(cf.loglik),
        float(cf.loglik),
        False,
        bool(cf.converged),
        int(cf.n_iter),
        n,
        float(np.sum(event if weights is None else event * np.asarray(weights, float))),
        robust=bool(cf.robust),
        n_clusters=None if clusters is None else int(len(pd.unique(np.asarray(clusters)))),
    )
    fit._data = {
        "engine": {"X": X, "time": np.asarray(time, float), "event": event, "ties": ties},
        "naive_cov": np.asarray(cf.naive_variance, float),
    }
    return fit


def _fit_cox(
    X,
    time,
    event,
    *,
    firth: bool = False,
    names=None,
    clusters=None,
    robust: bool = False,
    weights=None,
    fixed: dict | None = None,
    start=None,
    max_iter: int = 100,
    tol: float = 1e-9,
    _cd: _CoxData | None = None,
) -> ModelFit:
    """Cox proportional-hazards regression (Breslow ties), optionally Firth-penalised.

    ``X`` has no intercept. With ``firth=True`` the penalised partial likelihood
    ``l(beta) + 0.5 log|I(beta)|`` of Heinze & Schemper (2001) is maximised; the estimate is finite
    under monotone likelihood. ``clusters`` / ``robust`` give the Lin-Wei sandwich covariance.
    """
    X = np.asarray(X, dtype=float)
    n, k = X.shape
    cd = _cd if _cd is not None else _CoxData(X, time, event, weights)
    if len(cd.utimes) == 0:
        raise ModelError(
            "the Cox model has no events: every customer is censored; nothing to estimate."
        )
    beta = np.zeros(k) if start is None else np.array(start, dtype=float)
    fixed = fixed or {}
    for j, v in fixed.items():
        beta[j] = v
    free = np.array([j not in fixed for j in range(k)])
    parts = _cox_parts(cd, beta, firth)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (n_iter reported)
        fi = parts["info"][np.ix_(free, free)]
        try:
            step = np.linalg.solve(fi, parts["score"][free])
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(fi, parts["score"][free], rcond=None)[0]
        mx = np.max(np.abs(step)) if step.size else 0.0
        if mx > _MAX_STEP:
            step = step * _MAX_STEP / mx
        t = 1.0
        for _ in range(30):
            nb = beta.copy()
            nb[free] += t * step
            try:
                newp = _cox_parts(cd, nb, firth)
            except np.linalg.LinAlgError:
                t /= 2
                continue
            if (
                newp["ll_pen"] >= parts["ll_pen"] - 1e-12 * max(1.0, abs(parts["ll_pen"]))
                or t < 1e-6
            ):
                break
            t /= 2
        beta, parts = nb, newp
        if step.size == 0 or np.max(np.abs(t * step)) < tol:
            converged = True
            break
    info = parts["info"]
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    fit = ModelFit(
        "cox",
        list(names) if names is not None else [f"x{j}" for j in range(k)],
        beta,
        cov,
        parts["ll_pen"],
        parts["ll"],
        firth,
        converged,
        it,
        n,
        float(cd.d.sum()),
    )
    if clusters is not None or robust:
        full = _cox_parts(cd, beta, False, need_resid=True)
        U = _cox_score_residuals(cd, full)
        fit.cov_, fit.n_clusters = _sandwich(cov, U, clusters)
        fit.robust = True
    fit._data = {"cd": cd}
    return fit


def null_loglik_cox(time, event) -> float:
    """Partial log-likelihood of the Cox model with no covariates (Breslow)."""
    cd = _CoxData(np.zeros((len(time), 1)), time, event)
    return float(-np.sum(cd.d * np.log(_rev_cumsum(cd.w)[cd.start])))


# =============================================================================== profile likelihood
