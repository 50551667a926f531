"""Maximum likelihood shared by every purchase model: one optimiser, one Hessian, one result class.

A model is a small class (see :class:`PurchaseModel`) with parameter names, a per-row log
likelihood on the natural scale, optionally its analytic gradient, and its predictions. Parameters
are estimated on the log scale (all are positive) by L-BFGS-B with the analytic gradient (central
differences of the log likelihood where the model has none); the covariance is the inverse of the
observed information on the log scale, from central differences of the gradient. Standard errors on
the natural scale follow by the delta method (``se = estimate * se_log``); intervals are
``exp(log estimate +- z se_log)``, so they stay positive.

Rows are collapsed to unique data patterns with weights before fitting, so a million customers
with many ties cost as much as their distinct patterns.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..checks import check_alpha
from ..exceptions import ConvergenceWarning, ModelError, WorkbenchWarning
from ..results import Result

__all__ = ["BoundaryWarning", "PurchaseModel", "PurchaseModelResult", "fit_model"]

#: log-parameters beyond this magnitude are treated as a boundary estimate (e^12 ~ 1.6e5)
LOG_BOUND = 12.0
#: above this many rows the optimiser starts from the fit of a random subsample of this size
SUBSAMPLE = 100_000


class BoundaryWarning(WorkbenchWarning):
    """A parameter estimate is at the edge of the parameter space (0 or infinity)."""


class PurchaseModel:
    """Interface of a purchase model (class attributes and static methods only)."""

    name = "model"
    params: tuple[str, ...] = ()
    data_names: tuple[str, ...] = ()
    reference = ""

    @staticmethod
    def loglik(theta: np.ndarray, *data: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    #: ``gradient(theta, *data) -> (n, k)`` per-row derivatives w.r.t. the natural parameters, or None
    gradient = None
    #: ``loglik_gradient(theta, *data) -> (ll, G)``: both in one pass (optional, faster)
    loglik_gradient = None
    #: collapse rows to unique data patterns before fitting (worth it for discrete data only)
    collapse = False

    @staticmethod
    def start(*data: np.ndarray) -> np.ndarray:
        return None


def by_count(fn, base: float, k: np.ndarray) -> np.ndarray:
    """``fn(base + k)`` for whole-number counts ``k`` through a table over ``0..max(k)`` (fast for 1M rows)."""
    ki = k.astype(np.intp)
    return fn(base + np.arange(int(ki.max()) + 1 if ki.size else 1))[ki]


def _collapse(data: tuple[np.ndarray, ...]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    stacked = np.column_stack(data)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    if uniq.shape[0] > 0.7 * stacked.shape[0]:
        return data, np.ones(stacked.shape[0])
    return tuple(uniq[:, j] for j in range(uniq.shape[1])), counts.astype(float)


class PurchaseModelResult(Result):
    """A fitted purchase model: ``params_``, ``cov_log_`` (log scale), ``loglik_`` and the data.

    ``summary`` rows: one per parameter (``term``, ``estimate``, ``se``, ``ci_lower``,
    ``ci_upper``). ``meta``: ``n``, ``alpha``, ``method``, ``loglik``, ``aic``, ``converged``,
    ``time_unit``, ``fingerprint``. The customer arrays the model was fitted on are kept in
    ``data_`` for predictions and validation.
    """

    def __init__(
        self, model: type[PurchaseModel], theta, cov_log, loglik, data, *, alpha, meta, warnings_
    ):
        self.model = model
        self.params_ = pd.Series(np.asarray(theta, float), index=list(model.params))
        self.cov_log_ = np.asarray(cov_log, float)
        self.loglik_ = float(loglik)
        self.data_ = data
        z = stats.norm.ppf(1 - alpha / 2)
        se_log = np.sqrt(np.clip(np.diag(self.cov_log_), 0, None))
        est = self.params_.to_numpy()
        summary = pd.DataFrame(
            {
                "term": list(model.params),
                "estimate": est,
                "se": est * se_log,
                "ci_lower": np.exp(np.log(est) - z * se_log),
                "ci_upper": np.exp(np.log(est) + z * se_log),
            }
        )
        k = len(model.params)
        meta = complete_meta(meta, events=int(np.sum(data[0])), data=data)
        meta.update(
            {
                "alpha": alpha,
                "method": f"{model.name} maximum likelihood (L-BFGS-B on log parameters; Hessian SEs)",
                "loglik": self.loglik_,
                "aic": 2 * k - 2 * self.loglik_,
                "bic": k * math.log(max(meta.get("n", 1), 1)) - 2 * self.loglik_,
                "reference": model.reference,
            }
        )
        super().__init__(summary, meta, warnings=warnings_, title=f"{model.name} fit")

    def __getattr__(self, item):
        params = self.__dict__.get("params_")
        if params is not None and item.endswith("_") and item[:-1] in params.index:
            return float(params[item[:-1]])
        raise AttributeError(item)

    @property
    def theta(self) -> np.ndarray:
        return self.params_.to_numpy()

    def draw_parameters(self, n_draws: int, seed: int = 0) -> np.ndarray:
        """``n_draws`` parameter vectors from the estimate's sampling distribution (normal on the log scale)."""
        rng = np.random.default_rng(seed)
        cov = self.cov_log_
        if not np.all(np.isfinite(cov)):
            raise ModelError(
                f"{self.model.name}: the covariance matrix is not finite (see the fit's warnings), so "
                "parameter draws for intervals are impossible. Refit on more data."
            )
        z = rng.multivariate_normal(np.log(self.theta), cov, size=int(n_draws), method="svd")
        return np.exp(z)


def complete_meta(
    meta: dict, *, alpha=None, events=None, exclusions=None, fingerprint=None, data=None
) -> dict:
    """Fill the result contract's meta keys (:data:`workbench.results.REQUIRED_META`) not yet set.

    ``data`` (arrays or a DataFrame) gives the fingerprint when none is known.
    """
    from ..columns import data_fingerprint

    out = dict(meta)
    if out.get("fingerprint") is None:
        if fingerprint is None and data is not None:
            frame = (
                data
                if isinstance(data, pd.DataFrame)
                else pd.DataFrame({f"v{i}": np.asarray(a) for i, a in enumerate(data)})
            )
            fingerprint = data_fingerprint(frame)
        out["fingerprint"] = fingerprint
    out.setdefault("alpha", alpha)
    out.setdefault("events", events)
    out.setdefault("exclusions", list(exclusions or []))
    out.setdefault("reference_levels", {})
    return out


def _hessian_from_gradient(grad_log, x: np.ndarray) -> np.ndarray:
    k = x.size
    H = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(x[j]))
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (grad_log(x + e) - grad_log(x - e)) / (2 * h)
    return (H + H.T) / 2


def _hessian_from_values(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    k = x.size
    H = np.empty((k, k))
    E = np.eye(k) * h
    for i in range(k):
        for j in range(i, k):
            H[i, j] = H[j, i] = (
                f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j]) + f(x - E[i] - E[j])
            ) / (4 * h * h)
    return H


def fit_model(
    model: type[PurchaseModel],
    data: tuple[np.ndarray, ...],
    *,
    alpha: float = 0.05,
    start=None,
    meta: dict | None = None,
    hessian: bool = True,
) -> PurchaseModelResult:
    """Maximise ``model.loglik`` over the data; return the result with Hessian SEs.

    Raises
    ------
    ModelError
        The log likelihood is not finite at the start values or anywhere the optimiser went.

    Warns
    -----
    ConvergenceWarning
        The optimiser stopped without meeting its tolerances, or the gradient at the optimum is not
        near zero, or the observed information is not positive definite.
    BoundaryWarning
        A parameter ran to 0 or infinity (|log parameter| > 12).
    """
    alpha = check_alpha(alpha)
    full = tuple(np.asarray(d, float) for d in data)
    cdata, w = _collapse(full) if model.collapse else (full, np.ones(full[0].size))
    n = int(full[0].size)
    W = w.sum()

    def nll(z):
        with np.errstate(all="ignore"):
            v = -np.dot(w, model.loglik(np.exp(z), *cdata)) / W
        return v if np.isfinite(v) else 1e100

    cache: dict = {}

    def both(z):
        key = z.tobytes()
        if key not in cache:
            th = np.exp(z)
            with np.errstate(all="ignore"):
                ll, G = model.loglik_gradient(th, *cdata)
                v = -np.dot(w, ll) / W
                g = -(w @ G) * th / W
            cache.clear()
            cache[key] = (v if np.isfinite(v) else 1e100, g)
        return cache[key]

    if model.loglik_gradient is not None:

        def nll(z):  # noqa: F811 - the one-pass version
            return both(z)[0]

        def grad(z):
            return both(z)[1]

    elif model.gradient is not None:

        def grad(z):
            th = np.exp(z)
            with np.errstate(all="ignore"):
                g = -(w @ model.gradient(th, *cdata)) * th / W
            return g

    else:

        def grad(z):
            g = np.empty(z.size)
            for j in range(z.size):
                h = 1e-6 * max(1.0, abs(z[j]))
                e = np.zeros(z.size)
                e[j] = h
                g[j] = (nll(z + e) - nll(z - e)) / (2 * h)
            return g

    if start is None and not model.collapse and w.size > SUBSAMPLE:
        # start from the fit of a fixed random subsample: the full data then need a few iterations
        idx = np.random.default_rng(0).choice(w.size, SUBSAMPLE, replace=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WorkbenchWarning)
            pre = fit_model(model, tuple(d[idx] for d in cdata), alpha=alpha, hessian=False)
        start = pre.theta
    x0 = np.log(np.asarray(start if start is not None else model.start(*cdata), float))
    if not np.isfinite(nll(x0)) or nll(x0) >= 1e99:
        raise ModelError(
            f"{model.name}: the log likelihood is not finite at the start values {np.exp(x0).round(4).tolist()}; "
            "check the summary (frequency <= recency-consistent, T >= recency, no negative values)."
        )
    warns: list[str] = []
    bounds = [(-30.0, 30.0)] * x0.size
    res = optimize.minimize(
        nll,
        x0,
        jac=grad,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-7, "maxcor": 20},  # Newton polishes
    )
    analytic = model.gradient is not None or model.loglik_gradient is not None

    def hess(z):
        return _hessian_from_gradient(grad, z) if analytic else _hessian_from_values(nll, z)

    x = res.x
    if not hessian:  # a start value only (subsample pre-fit)
        return PurchaseModelResult(
            model,
            np.exp(x),
            np.full((x.size, x.size), np.nan),
            -nll(x) * W,
            full,
            alpha=alpha,
            meta={"n": n},
            warnings_=[],
        )
    # Newton polish on the log scale with the numerical Hessian of the (analytic) gradient, kept
    # fixed over the steps (the optimum is close); recomputed at the end if the steps moved far
    H = hess(x)
    moved = 0.0
    for _ in range(8):
        g = grad(x)
        if np.max(np.abs(g)) < 1e-11:
            break
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        x_new = x - step
        if not np.all(np.abs(x_new) < 30) or nll(x_new) > nll(x) + 1e-12:
            break
        moved += float(np.max(np.abs(step)))
        x = x_new
    g = grad(x)
    if moved > 1e-4:
        H = hess(x)
    label = f"{model.name} fit"
    converged = bool(np.all(np.isfinite(g)) and np.max(np.abs(g)) < 1e-5)
    try:
        cov = np.linalg.inv(H * W)
        if np.any(np.diag(cov) <= 0) or not np.all(np.isfinite(cov)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full((x.size, x.size), np.nan)
        converged = False
    if not converged:
        msg = (
            f"{label} did not converge to an interior maximum (max |gradient| {np.max(np.abs(g)):.2g} on the "
            f"log scale; optimiser: {res.message}). Estimates and SEs are not to be trusted: check the "
            "summary's time unit and the number of repeat buyers."
        )
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        warns.append(msg)
    at_edge = [p for p, v in zip(model.params, x) if abs(v) > LOG_BOUND]
    if at_edge:
        msg = (
            f"{label}: parameter(s) {at_edge} at the boundary of the parameter space "
            f"({', '.join(f'{p}={math.exp(v):.3g}' for p, v in zip(model.params, x) if abs(v) > LOG_BOUND)}): "
            "the data do not identify them (e.g. no heterogeneity, or no drop-out); a simpler model fits as well."
        )
        warnings.warn(msg, BoundaryWarning, stacklevel=3)
        warns.append(msg)
    m = {
        "n": n,
        "converged": converged,
        "iterations": int(res.nit),
        "max_abs_gradient": float(np.max(np.abs(g))),
    }
    m.update(meta or {})
    return PurchaseModelResult(
        model, np.exp(x), cov, -nll(x) * W, full, alpha=alpha, meta=m, warnings_=warns
    )


def summary_data(
    summary, names=("frequency", "recency", "T")
) -> tuple[tuple[np.ndarray, ...], dict]:
    """The model arrays and meta carried over from a :class:`CustomerSummary` (or a DataFrame)."""
    from .summary import CustomerSummary

    if isinstance(summary, CustomerSummary):
        frame, meta = summary.customers, summary.meta
    elif isinstance(summary, pd.DataFrame):
        frame, meta = summary, {}
    else:
        raise ModelError(
            f"expected a CustomerSummary (from rfm_summary) or a DataFrame with columns {list(names)}, "
            f"got {type(summary).__name__}."
        )
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ModelError(
            f"the summary lacks column(s) {missing} (has {list(frame.columns)}); build it with rfm_summary()."
        )
    arrays = tuple(frame[c].to_numpy(float) for c in names)
    if any(not np.all(np.isfinite(a)) for a in arrays):
        bad = [c for c, a in zip(names, arrays) if not np.all(np.isfinite(a))]
        raise ModelError(
            f"summary column(s) {bad} hold missing or infinite values; the model needs finite values."
        )
    carried = {
        k: meta.get(k)
        for k in ("time_unit", "fingerprint", "calibration_end", "dataset", "exclusions")
        if k in meta
    }
    return arrays, carried
