"""Harrell's concordance index of a fitted risk score (R ``survival::concordance``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _concordance(
    time: np.ndarray,
    event: np.ndarray,
    lp: np.ndarray,
    strata: np.ndarray | None,
    weights: np.ndarray,
) -> float:
    """Harrell's C (pairs within strata, weighted by ``w_i * w_j``; tied predictions count 1/2).

    A pair is comparable when the shorter tenure ends in churn; a customer censored at the same
    tenure as a churner counts as having stayed longer (R ``concordance``'s convention). Vectorised,
    O(n log^2 n): for each churner, the weight of customers still at risk with a lower / equal risk
    score comes from an offline dominance count (:func:`_earlier_lower_weight`).
    """
    codes = np.zeros(len(time), dtype=int) if strata is None else strata
    conc = tied = pairs = 0.0
    for s in np.unique(codes):
        idx = codes == s
        t, e, x, w = time[idx], event[idx] > 0, lp[idx], weights[idx]
        if not e.any():
            continue
        rank = stats.rankdata(x, method="dense").astype(np.int64)
        te, re, we = t[e], rank[e], w[e]
        # A: weight at risk (T_j >= t_i) with rank_j < rank_i, and with rank_j <= rank_i
        both = _earlier_lower_weight(t, rank, w, np.r_[te, te], np.r_[re, re + 1])
        below, below_eq = both[: len(te)], both[len(te) :]
        # B: the same among the churners at exactly t_i (not comparable with i)
        ev = pd.DataFrame({"t": te, "r": re, "w": we})
        per = ev.groupby(["t", "r"], sort=True)["w"].sum()
        cum = per.groupby(level="t").cumsum()
        b_eq = cum.reindex(pd.MultiIndex.from_arrays([te, re])).to_numpy()
        b_lt = b_eq - per.reindex(pd.MultiIndex.from_arrays([te, re])).to_numpy()
        # total at risk and churner weight at each churn time
        ut, inv = np.unique(t, return_inverse=True)
        w_at = np.bincount(inv, weights=w)
        at_risk = np.cumsum(w_at[::-1])[::-1]
        w_ev = np.bincount(inv, weights=w * e)
        pos = np.searchsorted(ut, te)
        conc += float(we @ (below - b_lt))
        tied += float(we @ ((below_eq - below) - (b_eq - b_lt)))
        pairs += float(we @ (at_risk[pos] - w_ev[pos]))
    return float((conc + 0.5 * tied) / pairs) if pairs else float("nan")


def _earlier_lower_weight(
    t: np.ndarray, y: np.ndarray, w: np.ndarray, tq: np.ndarray, yq: np.ndarray
) -> np.ndarray:
    """For each query ``(tq, yq)``: the summed ``w`` of points with ``t >= tq`` and ``y < yq``.

    Points and queries are put in one sequence (time descending, points before queries at equal
    time); a query then needs the points before it with a smaller ``y``. Level ``L`` of a binary
    split of the sequence pairs each query in a right half-block with the points of the left
    half-block, answered for all blocks at once by one sort and ``searchsorted`` on
    ``(block, y)`` keys; every earlier point is counted at exactly one level.
    """
    n_p, n_q = len(t), len(tq)
    tt = np.r_[t, tq]
    isq = np.r_[np.zeros(n_p, dtype=bool), np.ones(n_q, dtype=bool)]
    order = np.lexsort((isq, -tt))
    yy = np.r_[y, yq].astype(np.int64)[order]
    ww = np.r_[w, np.zeros(n_q)][order]
    qq = isq[order]
    m = len(tt)
    span = int(yy.max()) + 2
    pos = np.arange(m, dtype=np.int64)
    out = np.zeros(m)
    level = 0
    while (1 << level) < m:
        block = pos >> level
        parent = block >> 1
        left = np.flatnonzero(((block & 1) == 0) & ~qq)
        right = np.flatnonzero(((block & 1) == 1) & qq)
        if left.size and right.size:
            # one sort of points and queries by (block, y), queries first at equal keys (strict <)
            ck = np.r_[
                (parent[left] * span + yy[left]) * 2 + 1, (parent[right] * span + yy[right]) * 2
            ]
            o = np.argsort(ck)
            cum = np.cumsum(np.r_[ww[left], np.zeros(right.size)][o])
            at = np.empty(ck.size)
            at[o] = cum
            upto = at[left.size :]  # weight of left points with a smaller (block, y) key
            # minus the weight of left points in earlier parent blocks
            pw = np.cumsum(
                np.bincount(parent[left], weights=ww[left], minlength=int(parent[-1]) + 1)
            )
            pq = parent[right]
            before = np.where(pq > 0, pw[np.maximum(pq - 1, 0)], 0.0)
            out[right] += upto - before
        level += 1
    res = np.empty(m)
    res[order] = out
    return res[n_p:]
