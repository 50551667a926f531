"""Harrell's concordance index of a fitted risk score (R ``survival::concordance``), O(n log n).

For each churner ``i`` the index needs the weight of the customers still at risk at ``t_i`` (in its
stratum) whose risk score is lower, equal or higher. That is a two-dimensional dominance count
(tenure at least ``t_i``, score below ``x_i``), answered for all churners at once by a weighted
wavelet matrix over the scores in tenure order: one stable partition per bit of the score's rank
(``O(n)`` each) and ``O(1)`` work per query and bit, so ``O(n log n)`` in all, in plain numpy.
On large data (``NUMBA_MIN_ROWS`` rows and more) and when numba is installed, the same counts come
from a compiled Fenwick-tree sweep (:func:`_fenwick_counts`, several times faster); the two paths
are tested against each other.

References
----------
Harrell, F. E., Califf, R. M., Pryor, D. B., Lee, K. L. and Rosati, R. A. (1982). Evaluating the
yield of medical tests. JAMA 247(18), 2543-2546. Navarro, G. (2014). Wavelet trees for all. Journal
of Discrete Algorithms 25, 2-20 (the wavelet matrix and its rank queries).
"""

from __future__ import annotations

import numpy as np

NUMBA_MIN_ROWS = 20_000  # below this, importing numba costs more than it saves


def _concordance(
    time: np.ndarray,
    event: np.ndarray,
    lp: np.ndarray,
    strata: np.ndarray | None,
    weights: np.ndarray,
    presorted: bool = False,
) -> float:
    """Harrell's C (pairs within strata, weighted by ``w_i * w_j``; tied predictions count 1/2).

    A pair is comparable when the shorter tenure ends in churn; a customer censored at the same
    tenure as a churner counts as having stayed longer (R ``concordance``'s convention); churners
    at the same tenure are not comparable. A higher ``lp`` (risk) should churn earlier.
    ``presorted``: the rows are already sorted by stratum, then tenure descending (the Cox
    engine's order, ``_riskset.risk_order``), so no sort is needed.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event) > 0
    w = np.asarray(weights, dtype=float)
    s = np.zeros(len(t), dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    if not e.any():
        return float("nan")
    rank = _dense_rank(np.asarray(lp, dtype=float))
    # rows in (stratum ascending, tenure descending) order; a churner's comparison set is the
    # range from its stratum's first row to the last row of its stratum with tenure >= its own
    if presorted:
        ts, ss, rs, ws, es = t, s, rank, w, e
    else:
        order = np.argsort(-t, kind="stable") if strata is None else np.lexsort((-t, s))
        ts, ss, rs, ws, es = t[order], s[order], rank[order], w[order], e[order]
    kernel = _compiled() if len(t) >= NUMBA_MIN_ROWS else None
    if kernel is not None:
        conc, tied, pairs = kernel(ts, ss, rs, ws, es, int(rank.max()) + 1)
        return float((conc + 0.5 * tied) / pairs) if pairs else float("nan")
    qi = np.flatnonzero(es)  # churners, as positions in that order
    hi = _stratum_upper(ts, ss, qi)
    lo = np.searchsorted(ss, ss[qi], side="left")
    rq, wq = rs[qi], ws[qi]
    below = _range_weight_below(rs, ws, lo, hi, np.r_[rq, rq + 1])
    lt, le = below[: len(qi)], below[len(qi) :]
    total = _range_total(ws, lo, hi)
    # the same three sums among the churners at exactly t_i (not comparable with i)
    b_lt, b_le, b_tot = _tied_churners(ss[qi], ts[qi], rq, wq)
    conc = float(wq @ (lt - b_lt))
    tied = float(wq @ ((le - lt) - (b_le - b_lt)))
    pairs = float(wq @ (total - b_tot))
    return float((conc + 0.5 * tied) / pairs) if pairs else float("nan")


def concordance_of_fit(prob, beta: np.ndarray, sorted_strata: np.ndarray | None) -> float:
    """Harrell's C of a Cox fit from the engine's sorted problem (``_riskset._Problem``: rows by
    stratum, tenure descending; ``sorted_strata`` the stratum codes in that order). The linear
    predictor is centred there, which leaves its ranks unchanged."""
    return _concordance(prob.t, prob.d, prob.X @ beta, sorted_strata, prob.w, presorted=True)


def _dense_rank(x: np.ndarray) -> np.ndarray:
    """0-based dense ranks (equal values, equal rank): ``np.unique(x, return_inverse=True)[1]``
    from one unstable argsort (ties need no order here)."""
    o = np.argsort(x)
    xs = x[o]
    rank = np.empty(len(x), dtype=np.int64)
    rank[o] = np.cumsum(np.r_[False, xs[1:] != xs[:-1]]) if len(x) else 0
    return rank


def _stratum_upper(ts: np.ndarray, ss: np.ndarray, qi: np.ndarray) -> np.ndarray:
    """For rows sorted by (stratum, tenure descending): one past the last row of row ``qi``'s
    stratum whose tenure is at least its own."""
    # a composite key that increases along the order: stratum, then -tenure (dense ranks)
    tr = np.unique(-ts, return_inverse=True)[1].astype(np.int64)
    key = ss * (int(tr.max()) + 1) + tr
    return np.searchsorted(key, key[qi], side="right")


def _range_total(w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    cw = np.concatenate([[0.0], np.cumsum(w)])
    return cw[hi] - cw[lo]


def _range_weight_below(
    values: np.ndarray, w: np.ndarray, lo: np.ndarray, hi: np.ndarray, bound: np.ndarray
) -> np.ndarray:
    """For each query ``k``: the summed ``w`` of positions ``lo[k] <= j < hi[k]`` (queries repeat
    ``lo`` / ``hi`` when ``bound`` is longer) with ``values[j] < bound[k]``.

    Weighted wavelet matrix: at each bit (most significant first) the sequence is stably
    partitioned into zeros then ones; a query whose bound has a 1 at that bit gains the weight of
    the zeros in its range and follows the ones, else follows the zeros.
    """
    m = len(bound) // len(lo)
    s = np.tile(lo, m).astype(np.int64)
    e = np.tile(hi, m).astype(np.int64)
    v = np.asarray(bound, dtype=np.int64)
    vals = np.asarray(values, dtype=np.int64)
    ww = np.asarray(w, dtype=float)
    top = int(max(vals.max(initial=0), v.max(initial=0)))
    ans = np.zeros(len(v))
    for bit in range(max(top.bit_length(), 1) - 1, -1, -1):
        z = ((vals >> bit) & 1) == 0
        Z = np.concatenate([[0], np.cumsum(z)])
        W = np.concatenate([[0.0], np.cumsum(np.where(z, ww, 0.0))])
        nz = int(Z[-1])
        one = ((v >> bit) & 1) == 1
        ans += np.where(one, W[e] - W[s], 0.0)
        s = np.where(one, nz + (s - Z[s]), Z[s])
        e = np.where(one, nz + (e - Z[e]), Z[e])
        perm = np.concatenate([np.flatnonzero(z), np.flatnonzero(~z)])
        vals, ww = vals[perm], ww[perm]
    return ans


def _tied_churners(
    s: np.ndarray, t: np.ndarray, r: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Among churners with the same stratum and tenure as churner ``k``: the weight with a lower
    score, with a lower-or-equal score, and in all."""
    o = np.lexsort((r, t, s))
    so, to, ro, wo = s[o], t[o], r[o], w[o]
    new_grp = np.r_[True, (so[1:] != so[:-1]) | (to[1:] != to[:-1])]
    new_val = new_grp | np.r_[True, ro[1:] != ro[:-1]]
    cw = np.cumsum(wo)
    grp_start = np.maximum.accumulate(np.where(new_grp, np.arange(len(o)), 0))
    val_start = np.maximum.accumulate(np.where(new_val, np.arange(len(o)), 0))
    base = np.concatenate([[0.0], cw])
    lt = base[val_start] - base[grp_start]
    # last position of each (group, value) run and of each group
    val_end = np.r_[np.flatnonzero(new_val[1:]), len(o) - 1]
    grp_end = np.r_[np.flatnonzero(new_grp[1:]), len(o) - 1]
    run_of = np.cumsum(new_val) - 1
    grp_of = np.cumsum(new_grp) - 1
    le = cw[val_end[run_of]] - base[grp_start]
    tot = cw[grp_end[grp_of]] - base[grp_start]
    out = [np.empty(len(o)) for _ in range(3)]
    for arr, val in zip(out, (lt, le, tot)):
        arr[o] = val
    return out[0], out[1], out[2]


_KERNEL: list = []


def _compiled():
    """The numba-compiled :func:`_fenwick_counts`, or None when numba is not installed."""
    if not _KERNEL:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is a declared dependency
            _KERNEL.append(None)
        else:
            _KERNEL.append(numba.njit(cache=True, nogil=True)(_fenwick_counts))
    return _KERNEL[0]


def _fenwick_counts(ts, ss, rank, w, event, n_ranks):
    """Concordant, tied and comparable weight sums by one sweep with two Fenwick trees.

    Rows are sorted by (stratum, tenure descending). At each block of equal (stratum, tenure) the
    block's rows enter the tree of everyone at risk and its churners a second tree; every churner
    then reads the at-risk weight with a lower / equal score minus that of its fellow churners at
    the same tenure (not comparable with it). Written for numba (plain loops); correct, if slow,
    as plain Python.
    """
    n = len(ts)
    tree = np.zeros(n_ranks + 1)
    tie_tree = np.zeros(n_ranks + 1)
    conc = 0.0
    tied = 0.0
    pairs = 0.0
    total = 0.0
    start = 0
    i = 0
    while i < n:
        if i > 0 and ss[i] != ss[i - 1]:  # a new stratum: take the previous one out of the tree
            for k in range(start, i):
                j = rank[k] + 1
                while j <= n_ranks:
                    tree[j] -= w[k]
                    j += j & (-j)
            total = 0.0
            start = i
        end = i
        while end < n and ss[end] == ss[i] and ts[end] == ts[i]:
            end += 1
        d_total = 0.0
        for k in range(i, end):
            j = rank[k] + 1
            while j <= n_ranks:
                tree[j] += w[k]
                if event[k]:
                    tie_tree[j] += w[k]
                j += j & (-j)
            total += w[k]
            if event[k]:
                d_total += w[k]
        for k in range(i, end):
            if event[k]:
                lt = 0.0
                lt_d = 0.0
                j = rank[k]
                while j > 0:
                    lt += tree[j]
                    lt_d += tie_tree[j]
                    j -= j & (-j)
                le = 0.0
                le_d = 0.0
                j = rank[k] + 1
                while j > 0:
                    le += tree[j]
                    le_d += tie_tree[j]
                    j -= j & (-j)
                conc += w[k] * (lt - lt_d)
                tied += w[k] * ((le - lt) - (le_d - lt_d))
                pairs += w[k] * (total - d_total)
        for k in range(i, end):  # the block's churners leave the second tree
            if event[k]:
                j = rank[k] + 1
                while j <= n_ranks:
                    tie_tree[j] -= w[k]
                    j += j & (-j)
        i = end
    return conc, tied, pairs
