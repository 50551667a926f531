"""The numerical kernels of nonparametric survival: one home for each statistic.

Plain arrays in, plain arrays out, no checks (callers resolve and check their inputs first), so a
bootstrap loop or another package module can call them many times:

* :func:`km_estimate` - the product-limit (Kaplan-Meier) estimate with Greenwood's cumulative sum;
* :func:`km_robust_log_variance` - the robust (infinitesimal-jackknife) variance of ``log S(t)``;
* :func:`km_confint` - pointwise intervals on the log, log-log or plain scale (R ``survfit``);
* :func:`km_median` - the median of a step curve by R's ``print.survfit`` rule;
* :func:`km_left_limit` - ``S(t-)`` of the product-limit curve at given times;
* :func:`censoring_km` - the Kaplan-Meier estimate of the censoring distribution ``G``;
* :func:`rmst_from_curve` / :func:`rmst_and_variance` - restricted mean survival and its variance;
* :func:`logrank_parts` - observed, expected and covariance of the log-rank / G-rho family.

Every function here reproduces R's ``survival`` package (``survfit``, ``survdiff``,
``print.survfit(rmean=)``); the reference tests live in ``tests/unit/test_survival_reference.py``.
These names are stable: other packages of the workbench (effects, value, drivers) call them.

References
----------
Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete observations. JASA
53, 457-481. Greenwood, M. (1926). The natural duration of cancer. Reports on Public Health and
Medical Subjects 33, 1-26. Harrington, D. P. and Fleming, T. R. (1982). A class of rank test
procedures for censored survival data. Biometrika 69, 553-566.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "censoring_km",
    "distinct_sorted",
    "level_codes",
    "km_confint",
    "km_estimate",
    "km_left_limit",
    "km_median",
    "km_robust_log_variance",
    "logrank_parts",
    "rmst_and_variance",
    "rmst_from_curve",
]

_TOL = np.sqrt(np.finfo(float).eps)


def distinct_sorted(values) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and each row's index into them: ``np.unique(x, return_inverse=True)``
    by hashing instead of sorting every row.

    Tenure in days has a few thousand distinct values among a million customers. Whole numbers in
    a range no wider than ``max(4 n, 65536)`` (days, months, group codes) are counted with
    ``np.bincount`` (O(n + range), no hashing: about 4x faster than ``pd.factorize`` at 1,000,000
    rows); other values go through a hash table (``pd.factorize``, O(n)) plus a sort of the
    distinct values, which replaces the O(n log n) sort of all rows. ``-0.0`` and ``0.0`` are one
    value, as in ``np.unique``. No NaN (callers check their inputs).

    Examples
    --------
    >>> u, inv = distinct_sorted([3.0, 1.0, 3.0, 2.0])
    >>> u.tolist(), inv.tolist()
    ([1.0, 2.0, 3.0], [2, 0, 2, 1])
    """
    v = np.asarray(values)
    if len(v) > 1 and v.dtype.kind == "f" and (v[1:] <= v[:-1]).all():
        # already sorted, descending (e.g. the Cox engine's rows): the runs are the values
        new = np.r_[True, v[1:] != v[:-1]]
        runs = np.cumsum(new) - 1
        return v[new][::-1].copy(), (runs[-1] - runs).astype(np.int64)
    counted = _whole_number_codes(v)
    if counted is not None:
        return counted
    codes, uniques = pd.factorize(v)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.asarray(uniques)[order], rank[codes]


def _whole_number_codes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`distinct_sorted` by counting, for whole numbers in a narrow range; else None."""
    if v.dtype.kind not in "iuf" or len(v) == 0:
        return None
    lo, hi = v.min(), v.max()
    if v.dtype.kind == "u" and hi >= 2**62:
        return None
    if v.dtype.kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    span = int(hi) - int(lo) if v.dtype.kind != "f" else hi - lo
    if span > max(4 * len(v), 65_536):
        return None
    if v.dtype.kind == "f":
        if abs(lo) >= 2.0**53 or abs(hi) >= 2.0**53:
            return None
        iv = v.astype(np.int64)
        if not np.array_equal(iv, v):  # fractions: hash them instead
            return None
    else:
        iv = v.astype(np.int64, copy=False)
    off = iv - int(lo) if lo != 0 else iv
    present = np.flatnonzero(np.bincount(off, minlength=int(span) + 1))
    uniques = (present + int(lo)).astype(v.dtype)
    if len(present) == int(span) + 1:  # every value in the range occurs: the offsets are the codes
        return uniques, off if off is not v else off.copy()
    pos = np.zeros(int(span) + 1, dtype=np.int64)
    pos[present] = np.arange(len(present))
    return uniques, pos[off]


def level_codes(values) -> np.ndarray:
    """Integer codes ``>= 0`` of a column's levels, equal for equal values (for strata keys).

    Categoricals give their codes and whole numbers in ``[0, 65536)`` are their own codes (no
    hashing: strata stored as small integers cost O(n) with a tiny constant); anything else is
    factorised (``pd.factorize(sort=True)``). The codes need not be consecutive. No missing
    values (callers exclude them first).

    Examples
    --------
    >>> level_codes(pd.Series([2.0, 0.0, 2.0])).tolist(), level_codes(pd.Series(["b", "a"])).tolist()
    ([2, 0, 2], [1, 0])
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64)
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf" and len(arr):
        lo, hi = arr.min(), arr.max()
        if (
            lo >= 0
            and hi < 65_536
            and (arr.dtype.kind != "f" or np.array_equal(arr, np.floor(arr)))
        ):
            return arr.astype(np.int64)
    return pd.factorize(arr, sort=True)[0].astype(np.int64)


# ------------------------------------------------------------------------------ product limit
def km_estimate(durations, events, weights=None, entry=None) -> dict[str, np.ndarray]:
    """Kaplan-Meier estimate on plain arrays (vectorised; no checks, for bootstrap loops).

    Parameters
    ----------
    durations : array-like of float
    events : array-like of 0/1
    weights : array-like of float, optional
        Case weights (counts at risk and events become weighted sums).
    entry : array-like of float, optional
        Delayed entry (left truncation): a customer is at risk on ``(entry, duration]``, so the
        number at risk at ``t`` counts ``entry < t <= duration`` (R ``Surv(entry, time, event)``).

    Returns
    -------
    dict of numpy arrays, one entry per distinct time (event or censoring):
        ``time``, ``at_risk``, ``events``, ``censored`` (weighted when weights are given),
        ``survival`` and ``greenwood`` (cumulative Greenwood sum ``sum d / (n (n - d))``, the
        variance of ``log S``; ``inf`` once the curve reaches 0).

    References
    ----------
    Kaplan and Meier (1958); Greenwood (1926), see the module docstring.

    Examples
    --------
    >>> r = km_estimate([1, 2, 2, 3], [1, 1, 0, 1])
    >>> r["survival"].round(3).tolist()
    [0.75, 0.5, 0.0]
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float)
    times, inv = distinct_sorted(t)
    k = len(times)
    if weights is None:
        d = np.bincount(inv, weights=e, minlength=k)
        tot = np.bincount(inv, minlength=k).astype(float)
    else:
        w = np.asarray(weights, dtype=float)
        d = np.bincount(inv, weights=w * e, minlength=k)
        tot = np.bincount(inv, weights=w, minlength=k)
    n = np.cumsum(tot[::-1])[::-1]
    if entry is not None:
        # remove those not yet entered: entry >= t
        en = np.asarray(entry, dtype=float)
        order = np.argsort(en, kind="stable")
        we = np.ones(len(en)) if weights is None else np.asarray(weights, dtype=float)[order]
        tail = np.concatenate([np.cumsum(we[::-1])[::-1], [0.0]])
        n = n - tail[np.searchsorted(en[order], times, side="left")]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n > 0, d / n, 0.0)
        inc = np.where(d > 0, np.where(n - d > 0, d / (n * (n - d)), np.inf), 0.0)
    surv = np.cumprod(1.0 - q)
    surv[surv < 0] = 0.0
    return {
        "time": times,
        "at_risk": n,
        "events": d,
        "censored": tot - d,
        "survival": surv,
        "greenwood": np.cumsum(inc),
    }


def km_left_limit(durations, events, at=None) -> np.ndarray:
    """``S(t-)`` of the unweighted product-limit curve, at ``at`` (default: at ``durations``).

    Used by R ``cox.zph``'s ``'km'`` time transform (``1 - S(t-)``).

    Examples
    --------
    >>> km_left_limit([1, 2, 3], [1, 1, 0]).round(3).tolist()
    [1.0, 0.667, 0.333]
    """
    r = km_estimate(durations, events)
    t = np.asarray(durations if at is None else at, dtype=float)
    left = np.concatenate([[1.0], r["survival"]])
    return left[np.searchsorted(r["time"], t, side="left")]


def km_robust_log_variance(durations, events, weights, r: dict) -> np.ndarray:
    """Robust (infinitesimal jackknife) variance of ``log S(t)`` at the times of ``r``.

    ``r`` is :func:`km_estimate`'s output on the same data. The influence of customer i on
    ``log S(t)`` is ``C(min(t, T_i)) - delta_i 1(T_i <= t) / (n(T_i) - d(T_i))`` with
    ``C(t) = sum_{t_k <= t} (d_k / n_k) / (n_k - d_k)``; the variance is the weighted sum of squared
    influences, as R ``survfit(..., robust = TRUE)``.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    inv = np.searchsorted(r["time"], t)
    n, d = r["at_risk"], r["events"]
    k = len(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(n - d > 0, n - d, np.inf)
        C = np.cumsum(np.where(n > 0, d / n, 0.0) / gap)
        a = C[inv] - e / gap[inv]
    past = np.cumsum(np.bincount(inv, weights=w**2 * a**2, minlength=k))
    w2 = np.bincount(inv, weights=w**2, minlength=k)
    later = np.cumsum(w2[::-1])[::-1] - w2
    var = past + C**2 * later
    var[(n - d) <= 0] = np.inf
    return var


def km_confint(surv, log_variance, z: float, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval of a survival curve, R ``survfit_confint`` (``ulimit=TRUE``).

    ``log_variance`` is the variance of ``log S`` (Greenwood's sum or the robust one); ``scale`` is
    ``"log"``, ``"log-log"`` or ``"plain"``. NaN where R gives NA.
    """
    se = np.sqrt(log_variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "plain":
            half = z * se * surv
            lo = np.maximum(surv - half, 0.0)
            hi = np.minimum(surv + half, 1.0)
            lo = np.where(np.isfinite(lo), lo, np.nan)
            hi = np.where(np.isfinite(hi), hi, np.nan)
        elif scale == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lo = np.exp(np.log(xx) - z * se)
            hi = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        else:
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se / np.log(xx)
            lo = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            hi = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    return lo, hi


def km_median(time, y) -> float:
    """R's ``minmin`` rule (``print.survfit``): the median of a step curve, midpoint on a flat 0.5.

    Applied to the lower / upper confidence curves it gives the Brookmeyer-Crowley interval.

    Examples
    --------
    >>> km_median([1.0, 2.0, 3.0], [0.8, 0.5, 0.2])
    2.5
    """
    y = np.asarray(y, float)
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return float("nan")
    x = np.asarray(time, float)[keep]
    y = y[keep]
    if abs(y[0] - 0.5) < _TOL and (y < y[0]).any():
        return float((x[0] + x[np.argmax(y < y[0])]) / 2)
    return float(x[0])


def censoring_km(durations, events) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the censoring distribution ``G(t) = P(C > t)``.

    Churn at a tied time is taken to precede censoring (the usual IPCW convention: a customer who
    churned at ``t`` was not at risk of being censored at ``t``). Returns ``(times, G)`` at the
    distinct times of the data; ``G`` is right-continuous, 1 before the first time. ``G(t-)`` at
    ``x`` is ``np.r_[1, G][np.searchsorted(times, x, side="left")]``.

    Examples
    --------
    >>> t, g = censoring_km([1, 2, 2, 3], [1, 0, 1, 0])
    >>> g.round(3).tolist()
    [1.0, 0.5, 0.0]
    """
    r = km_estimate(durations, events)
    n_at = r["at_risk"] - r["events"]
    cens = r["censored"]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(cens > 0, cens / n_at, 0.0)
    return r["time"], np.cumprod(1 - q)


# ------------------------------------------------------------------------------------- RMST
def rmst_from_curve(time, survival, tau: float) -> float:
    """Area under a right-continuous step survival curve from 0 up to ``tau``.

    ``time`` are the (sorted) times where the curve steps to ``survival``; the curve is 1 before
    the first time and keeps its last value after the last time.

    Examples
    --------
    >>> rmst_from_curve([1.0, 2.0], [0.5, 0.25], tau=3.0)
    1.75
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(survival, dtype=float)
    keep = t <= tau
    t = t[keep]
    s = s[keep]
    grid = np.concatenate([[0.0], t, [float(tau)]])
    level = np.concatenate([[1.0], s])
    return float(np.sum(np.diff(grid) * level))


def rmst_and_variance(time, surv, at_risk, events, tau: float) -> tuple[float, float]:
    """Restricted mean up to ``tau`` and its variance, R ``survmean`` (``print.survfit(rmean=)``).

    The variance is ``sum_i A_i^2 d_i / (n_i (n_i - d_i))`` over event times ``t_i <= tau``, with
    ``A_i`` the area under the curve from ``t_i`` to ``tau``. Inputs are :func:`km_estimate`'s
    ``time``, ``survival``, ``at_risk`` and ``events``.

    Examples
    --------
    >>> r = km_estimate([1, 2, 3, 4], [1, 1, 0, 1])
    >>> [round(v, 4) for v in rmst_and_variance(r["time"], r["survival"], r["at_risk"], r["events"], 3.0)]
    [2.25, 0.1719]
    """
    time = np.asarray(time, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(at_risk - events == 0, 0.0, events / (at_risk * (at_risk - events)))
    keep = time <= tau
    if not keep.any():
        return float(tau), 0.0
    tt = np.concatenate([time[keep], [tau]])
    ss = np.concatenate([surv[keep], [surv[keep][-1]]])
    hh = np.concatenate([hh[keep], [0.0]])
    delta = np.diff(np.concatenate([[0.0], tt]))
    rect = delta * np.concatenate([[1.0], ss[:-1]])
    mean = float(rect.sum())
    tail = np.cumsum(rect[1:][::-1])  # area from tt[i] to tau, i = n-2 ... 0
    var = float(np.sum(tail**2 * hh[:-1][::-1]))
    return mean, var


# --------------------------------------------------------------------------------- log-rank
def logrank_parts(
    time, event, group, n_groups: int, stratum=None, rho: float = 0.0, entry=None, weights=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected and covariance of the log-rank / G-rho statistics (R ``survdiff``).

    Parameters
    ----------
    time, event : array-like (n,)
        Tenure and 0/1 churn.
    group : array-like of int (n,)
        Group codes ``0 .. n_groups - 1``.
    n_groups : int
    stratum : array-like of int (n,), optional
        Stratum codes (any integers): the terms are computed within strata and summed. The strata
        are handled together: the ``(stratum, time)`` blocks come from hashing integer keys (no
        sort of the rows, no per-row string keys).
    rho : float
        G-rho weight ``S(t-)^rho`` with ``S`` the pooled Kaplan-Meier curve of the stratum.
    entry : array-like (n,), optional
        Delayed entry: a customer is at risk on ``(entry, time]`` (the log-rank test is then the
        score test of a Breslow Cox model on ``Surv(entry, time, event) ~ group``).
    weights : array-like (n,), optional
        Frequency weights (whole numbers: row i stands for ``weights[i]`` identical customers, as
        the cells of :func:`workbench.aggregate.counts`): every tally (events, at risk, entries,
        group sizes) is a weighted sum, so the result equals the one on the expanded rows,
        including the hypergeometric variance ``d (n - d) / (n - 1)``.

    Returns
    -------
    observed, expected : ndarray (k,)
    covariance : ndarray (k, k)
    sizes : ndarray (k,)
        Customers per group (weighted sums with ``weights``).

    Examples
    --------
    >>> o, e, v, n = logrank_parts([1, 2, 3, 4], [1, 1, 1, 0], [0, 1, 0, 1], 2)
    >>> o.tolist(), e.round(3).tolist()
    ([2.0, 1.0], [1.333, 1.667])
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=float)
    k = int(n_groups)
    # blocks of equal (stratum, time), ordered by stratum then time, found by hashing (no sort of
    # the rows): distinct times, then distinct (stratum, time) keys; strata cost O(n)
    times_u, tcode = distinct_sorted(t)
    n_t = max(len(times_u), 1)
    tallied = None  # (d, tot) when the cells were tallied on the full strata x times grid
    if stratum is None:
        s = np.zeros(len(t), dtype=np.int64)
        blk, m = tcode, len(times_u)
        blk_stratum = np.zeros(m, dtype=np.int64)
        blk_time = times_u
    else:
        s = np.asarray(stratum)
        if not (s.dtype.kind in "iu" and len(s) and s.min() >= 0 and s.max() < 2**40 // n_t):
            s = pd.factorize(s, sort=True)[0]  # codes 0 .. S-1
        s = s.astype(np.int64, copy=False)
        key = s * n_t + tcode
        n_cells = (int(s.max()) + 1) * n_t if len(s) else 0
        if w is None and n_cells * k <= 4 * len(t) + 4096:
            # few strata x times x groups: tally every (stratum, time, group) cell of the grid in
            # one pass, then keep the (stratum, time) cells with customers
            idx = key * k + g
            d_grid = np.bincount(idx, weights=e, minlength=n_cells * k).reshape(n_cells, k)
            tot_grid = np.bincount(idx, minlength=n_cells * k).reshape(n_cells, k)
            keys = np.flatnonzero(tot_grid.any(axis=1))
            tallied = d_grid[keys], tot_grid[keys].astype(float)
        elif n_cells <= 4 * len(t) + 1024:  # few strata x times: count cells on the grid
            keys = np.flatnonzero(np.bincount(key, minlength=n_cells))
            pos = np.zeros(n_cells, dtype=np.int64)
            pos[keys] = np.arange(len(keys))
            blk = pos[key]
        else:  # many strata with many distinct times: hash the keys
            keys, blk = distinct_sorted(key)
        m = len(keys)
        blk_stratum = keys // n_t
        blk_time = times_u[keys % n_t]
    if tallied is not None:
        d, tot = tallied
    else:
        idx = blk * k + g
        d = np.bincount(idx, weights=e if w is None else w * e, minlength=m * k).reshape(m, k)
        if w is None:
            tot = np.bincount(idx, minlength=m * k).reshape(m, k).astype(float)
        else:
            tot = np.bincount(idx, weights=w, minlength=m * k).reshape(m, k)
    # at risk: reverse cumulative sum within each stratum
    rev = np.cumsum(tot[::-1], axis=0)[::-1]
    last_blk = np.r_[np.flatnonzero(np.diff(blk_stratum)), m - 1]  # last block of each stratum
    after = np.vstack([rev[1:], np.zeros((1, k))])[last_blk]  # at risk beyond the stratum
    n = rev - after[np.cumsum(np.r_[0, np.diff(blk_stratum) != 0])]
    if entry is not None:
        en = np.asarray(entry, dtype=float)
        for sv in np.unique(s):
            rows_b = np.flatnonzero(blk_stratum == sv)
            for gv in range(k):
                sel = (s == sv) & (g == gv)
                o = np.argsort(en[sel], kind="stable")
                eg = en[sel][o]
                # customers not yet entered at t (entry >= t): a tail count (weighted sum)
                cw = np.ones(len(eg)) if w is None else w[sel][o]
                tail = np.concatenate([np.cumsum(cw[::-1])[::-1], [0.0]])
                n[rows_b, gv] -= tail[np.searchsorted(eg, blk_time[rows_b], side="left")]
    d_all = d.sum(axis=1)
    n_all = n.sum(axis=1)
    if rho != 0:
        wt = np.empty(m)
        starts = np.r_[0, last_blk[:-1] + 1]
        for lo, hi in zip(starts, last_blk + 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                sv = np.cumprod(1 - np.where(n_all[lo:hi] > 0, d_all[lo:hi] / n_all[lo:hi], 0.0))
            wt[lo:hi] = np.concatenate([[1.0], sv[:-1]]) ** rho
    else:
        wt = np.ones(m)
    keep = d_all > 0
    d, n, d_all, n_all, wt = d[keep], n[keep], d_all[keep], n_all[keep], wt[keep]
    p = n / n_all[:, None]
    obs = (wt[:, None] * d).sum(axis=0)
    exp_ = (wt[:, None] * d_all[:, None] * p).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n_all > 1, wt**2 * d_all * (n_all - d_all) / (n_all - 1), 0.0)
    var = np.diag((a[:, None] * p).sum(axis=0)) - (a[:, None] * p).T @ p
    sizes = tot.sum(axis=0)  # customers per group (weighted sums with weights)
    if w is None:
        sizes = sizes.astype(np.int64)
    return obs, exp_, var, sizes
