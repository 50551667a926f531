"""Kaplan-Meier pieces the effect estimators need, on the survival kernels (one copy of each).

* :func:`km_curve` / :func:`greenwood_var` / :func:`step_at`: the product-limit curve
  (:func:`workbench.survival.kernels.km_estimate`) evaluated at horizons, with Greenwood's variance
  on the survival scale;
* :func:`logrank`: the two-sample log-rank test (:func:`workbench.survival.kernels.logrank_parts`);
* :func:`pseudo_values`: infinitesimal-jackknife pseudo-values of ``S(h)`` and ``RMST(tau)``, the
  outcomes of the augmented estimators (built on the same kernel's at-risk and event counts).

References
----------
Andersen, P. K., Klein, J. P. & Rosthoj, S. (2003). Generalised linear models for correlated
pseudo-observations, with applications to multi-state models. Biometrika 90, 15-27.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..survival.kernels import km_estimate, logrank_parts, rmst_and_variance, rmst_from_curve

__all__ = [
    "greenwood_var",
    "km_curve",
    "logrank",
    "pseudo_values",
    "rmst_and_variance",
    "rmst_from_curve",
    "step_at",
]


def km_curve(duration, event, weights=None):
    """``(times, S, at_risk, events)`` of a (weighted) Kaplan-Meier curve at its distinct times."""
    r = km_estimate(duration, event, weights)
    return r["time"], r["survival"], r["at_risk"], r["events"], r["greenwood"]


def greenwood_var(surv: np.ndarray, greenwood: np.ndarray) -> np.ndarray:
    """Greenwood variance of ``S`` from the kernel's cumulative sum (0 where the curve is 0)."""
    with np.errstate(invalid="ignore"):
        return np.where(surv > 0, surv**2 * greenwood, 0.0)


def step_at(times: np.ndarray, values: np.ndarray, at, start: float = 1.0) -> np.ndarray:
    """Right-continuous step function (value ``start`` before the first time) evaluated at ``at``."""
    pos = np.searchsorted(times, np.atleast_1d(np.asarray(at, dtype=float)), side="right") - 1
    return np.where(pos >= 0, values[np.clip(pos, 0, None)], start)


def logrank(duration, event, group) -> tuple[float, float]:
    """Two-sample log-rank chi-square statistic (1 df) and p-value (``survival::survdiff``)."""
    g = (np.asarray(group) == 1).astype(np.int64)
    o, e, v, _ = logrank_parts(duration, event, g, 2)
    chi2 = float((o[1] - e[1]) ** 2 / v[1, 1]) if v[1, 1] > 0 else float("nan")
    return chi2, float(stats.chi2.sf(chi2, 1))


def pseudo_values(duration: np.ndarray, event: np.ndarray, horizons, tau: float | None):
    """Infinitesimal-jackknife pseudo-values of the KM survival at ``horizons`` and of RMST(tau).

    ``theta_i = S(t) + n * dS(t)/dw_i`` (Andersen, Klein & Rosthoj 2003; the IJ form used by
    ``survival::pseudo``). Returns ``(P, estimates)`` where ``P`` is n x (len(horizons) [+1]).
    """
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event, dtype=float)
    n = len(duration)
    r = km_estimate(duration, event)
    t, s, y, d = r["time"], r["survival"], r["at_risk"], r["events"]
    own = np.searchsorted(t, duration)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(y - d > 0, 1.0 / (y - d), np.where(y > 0, 1.0 / y, 0.0))
        b_inc = np.where(y - d > 0, d / (y * (y - d)), np.where(y > 0, d / y**2, 0.0))
    b = np.cumsum(b_inc)  # B(t_j) = sum_{t_k <= t_j} d_k / (Y_k (Y_k - d_k))
    horizons = np.atleast_1d(np.asarray(horizons, dtype=float))
    cols, est = [], []
    for h in horizons:
        sh = step_at(t, s, h)[0]
        pos_h = np.searchsorted(t, h, side="right") - 1
        a_i = event * (t[own] <= h) * c[own]
        pos_i = np.minimum(own, pos_h)
        b_i = np.where(pos_i >= 0, b[np.clip(pos_i, 0, None)], 0.0)
        dlog = -(a_i - b_i)  # d log S(h) / d w_i
        cols.append(sh + n * sh * dlog)
        est.append(sh)
    if tau is not None:
        # R(u) = int_0^u S ; Q(u) = int_0^u S(v) B(v) dv ; both piecewise linear between times
        grid = np.concatenate([[0.0], t])
        s_left = np.concatenate([[1.0], s])  # value on [grid_k, grid_{k+1})
        b_left = np.concatenate([[0.0], b])
        r_cum = np.concatenate([[0.0], np.cumsum(s_left[:-1] * np.diff(grid))])
        q_cum = np.concatenate([[0.0], np.cumsum(s_left[:-1] * b_left[:-1] * np.diff(grid))])

        def integ(cum, level, u):
            u = np.asarray(u, dtype=float)
            k = np.searchsorted(grid, u, side="right") - 1
            return cum[k] + level[k] * (u - grid[k])

        r_tau = float(integ(r_cum, s_left, tau))
        ti = t[own]
        m = np.minimum(ti, tau)
        part_a = event * (ti <= tau) * c[own] * (r_tau - integ(r_cum, s_left, m))
        b_own = b[own]
        part_b = integ(q_cum, s_left * b_left, m) + np.where(
            ti < tau, b_own * (r_tau - integ(r_cum, s_left, m)), 0.0
        )
        d_rmst = -(part_a - part_b)
        cols.append(r_tau + n * d_rmst)
        est.append(r_tau)
    return np.column_stack(cols), np.array(est)
