"""Lean regression fitters: logistic (maximum likelihood or Firth) and Cox (through the package's one
Cox engine, maximum partial likelihood or Firth / Heinze-Schemper), with model-based or
cluster-robust covariances and profile-(penalised-)likelihood confidence intervals.

These are the fitters behind :mod:`workbench.drivers`; they work on plain arrays so that simulation
studies can call them in a tight loop. Public wrappers with the result convention are in
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


# =============================================================================== Cox
def fit_cox(
    X,
    time,
    event,
    *,
    firth: bool = False,
    ties: str | None = None,
    names=None,
    clusters=None,
    robust: bool = False,
    weights=None,
    start=None,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> ModelFit:
    """Cox regression of ``time``/``event`` on ``X`` (no intercept) by the package's one Cox engine,
    :func:`workbench.survival.engine.cox_fit`, as a :class:`ModelFit`.

    ``firth=True`` maximises the Firth-type penalised partial likelihood of Heinze & Schemper
    (2001). Ties: Efron unpenalised (R ``coxph``'s default), Breslow under Firth (R ``coxphf``'s,
    the drivers' size study ``docs/drivers-firth-size.md``) unless ``ties`` is given. Lin-Wei
    sandwich with ``clusters`` / ``robust``. The engine's data are kept for profile likelihoods
    (:mod:`workbench.drivers.profile`).
    """
    from ..survival.engine import cox_fit

    X = np.asarray(X, dtype=float)
    n, k = X.shape
    names = list(names) if names is not None else [f"x{j}" for j in range(k)]
    event = np.asarray(event, dtype=float)
    if not np.any(event > 0):
        raise ModelError(
            "the Cox model has no events: every customer is censored; nothing to estimate."
        )
    ties = ties or ("breslow" if firth else "efron")
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
        firth=firth,
        keep_data=True,
    )
    fit = ModelFit(
        "cox",
        names,
        np.asarray(cf.params, float),
        np.asarray(cf.variance, float),
        float(cf.penalised_loglik),
        float(cf.loglik),
        bool(firth),
        bool(cf.converged),
        int(cf.n_iter),
        n,
        float(np.sum(event if weights is None else event * np.asarray(weights, float))),
        robust=bool(cf.robust),
        n_clusters=None if clusters is None else int(len(pd.unique(np.asarray(clusters)))),
    )
    fit._data = {"engine": cf, "ties": ties}
    return fit
