"""Vectorised (weighted) Kaplan-Meier arrays, their infinitesimal-jackknife pseudo-values and RMST.

The fast path of every effect estimate: times are mapped once to the index of their distinct value,
then a (weighted) curve is two ``np.bincount`` calls, a reverse cumulative sum and a cumulative
product, so a bootstrap replicate costs O(n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class KMIndex:
    """Distinct times of a sample and each customer's position among them (precomputed once)."""

    times: np.ndarray  # distinct observed times, ascending
    idx: np.ndarray  # customer -> index into times
    event: np.ndarray  # 0/1 float

    @classmethod
    def build(cls, duration: np.ndarray, event: np.ndarray) -> KMIndex:
        times, idx = np.unique(np.asarray(duration, dtype=float), return_inverse=True)
        return cls(times=times, idx=idx.astype(np.intp), event=np.asarray(event, dtype=float))


def km_arrays(index: KMIndex, weights: np.ndarray | None = None):
    """Weighted KM at the distinct times: ``(S, Y, d)`` where ``S[j]`` is S just after ``times[j]``."""
    k = len(index.times)
    w = np.ones(len(index.idx)) if weights is None else np.asarray(weights, dtype=float)
    d = np.bincount(index.idx, weights=w * index.event, minlength=k)
    leave = np.bincount(index.idx, weights=w, minlength=k)
    y = np.cumsum(leave[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(y > 0, 1.0 - d / y, 1.0)
    s = np.cumprod(np.clip(q, 0.0, 1.0))
    return s, y, d


def step_at(times: np.ndarray, values: np.ndarray, at, start: float = 1.0) -> np.ndarray:
    """Right-continuous step function (value ``start`` before the first time) evaluated at ``at``."""
    pos = np.searchsorted(times, np.atleast_1d(np.asarray(at, dtype=float)), side="right") - 1
    return np.where(pos >= 0, values[np.clip(pos, 0, None)], start)


def rmst_from_steps(times: np.ndarray, surv: np.ndarray, tau: float) -> float:
    """Area under a right-continuous step survival curve from 0 to ``tau``."""
    grid = np.concatenate([[0.0], times[times < tau], [tau]])
    vals = np.concatenate([[1.0], surv[times < tau]])
    return float(np.sum(vals * np.diff(grid)))


def greenwood_var(s: np.ndarray, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Greenwood variance of an unweighted KM at the distinct times."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((y - d) > 0, d / (y * (y - d)), 0.0)
    return s**2 * np.cumsum(term)


def rmst_var(times: np.ndarray, s: np.ndarray, y: np.ndarray, d: np.ndarray, tau: float) -> float:
    """Variance of the KM RMST up to ``tau`` (the formula of ``survival::survfit``'s ``rmean``).

    ``var = sum_j A_j^2 d_j / (Y_j (Y_j - d_j))`` with ``A_j`` the area under the curve from the
    j-th event time to ``tau``.
    """
    keep = times <= tau
    t, sv, yy, dd = times[keep], s[keep], y[keep], d[keep]
    grid = np.concatenate([t, [tau]])
    area = sv * np.diff(grid)  # area from t_j to t_{j+1} at level S(t_j)
    a_from = np.cumsum(area[::-1])[::-1]  # area from t_j to tau
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((yy - dd) > 0, dd / (yy * (yy - dd)), 0.0)
    return float(np.sum(a_from**2 * term))


def pseudo_values(duration: np.ndarray, event: np.ndarray, horizons, tau: float | None):
    """Infinitesimal-jackknife pseudo-values of the KM survival at ``horizons`` and of RMST(tau).

    ``theta_i = S(t) + n * dS(t)/dw_i`` (Andersen, Klein & Rosthoj 2003; the IJ form used by
    ``survival::pseudo``). Returns ``(P, estimates)`` where ``P`` is n x (len(horizons) [+1]).
    """
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event, dtype=float)
    n = len(duration)
    index = KMIndex.build(duration, event)
    s, y, d = km_arrays(index)
    t = index.times
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(y - d > 0, 1.0 / (y - d), np.where(y > 0, 1.0 / y, 0.0))
        b_inc = np.where(y - d > 0, d / (y * (y - d)), np.where(y > 0, d / y**2, 0.0))
    b = np.cumsum(b_inc)  # B(t_j) = sum_{t_k <= t_j} d_k / (Y_k (Y_k - d_k))
    own = index.idx
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
