"""Compiled (numba) risk-set sums of the Cox engine: the same quantities as the numpy path of
:meth:`workbench.survival._riskset._Problem.evaluate`, computed in two fused passes over the sorted
rows instead of a dozen ``n x p`` temporaries.

For one stratum, rows sorted by tenure descending:

1. :func:`_block_sums` walks the rows once and reads off, at the last row of each event block, the
   risk-set sums ``S0 = sum r_j`` and ``S1 = sum r_j x_j`` (``r_j = w_j exp(x_j b)``), and the
   deaths' own sums ``D0``, ``D1`` (Efron's correction);
2. :func:`_steps` turns them, per Efron step (one per death; one per block for Breslow), into the
   risk-set mean ``xbar``, the log-likelihood and score terms, the hazard increments ``g`` (summed
   per block in ``A``, ``F``) and the ``- sum m xbar xbar'`` part of the information;
3. :func:`_weighted_outer` adds ``X' diag(r_j h_j) X`` with ``h_j`` the cumulative hazard over
   the event blocks whose risk set holds row ``j`` (one triangular update per row).

The functions are plain Python, compiled by numba on first use (:func:`compiled`); the engine calls
them on large problems only (``NUMBA_MIN_ROWS``), and ``tests/unit/test_riskset_compiled.py`` checks
them against the numpy path (they are also correct, if slow, uncompiled).
"""

from __future__ import annotations

import math

import numpy as np

NUMBA_MIN_ROWS = 20_000  # below this, importing numba costs more than it saves

_KERNELS: list = []


def compiled():
    """``(block_sums, steps, weighted_outer, rowsum)`` compiled by numba, or None without numba."""
    if not _KERNELS:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is a declared dependency
            _KERNELS.append(None)
        else:
            jit = numba.njit(cache=True, nogil=True)
            kernels = (_block_sums, _steps, _weighted_outer, _rowsum)
            _KERNELS.append(tuple(jit(k) for k in kernels))
    return _KERNELS[0]


def _rowsum(values, groups, n_groups):
    """Sums of the rows of ``values`` (m x p) by integer ``groups`` (one pass)."""
    out = np.zeros((n_groups, values.shape[1]))
    for i in range(values.shape[0]):
        g = groups[i]
        for k in range(values.shape[1]):
            out[g, k] += values[i, k]
    return out


def _block_sums(X, r, ev_end, death_rows, death_starts, n_dead):
    """Risk-set sums ``S0``, ``S1`` at the end of each event block, and the deaths' ``D0``, ``D1``.

    ``X`` (rows x p) and ``r`` are one stratum's rows in descending tenure; ``ev_end[b]`` is the
    last row (inclusive) of event block ``b``; block ``b``'s deaths are
    ``death_rows[death_starts[b] : death_starts[b] + n_dead[b]]``.
    """
    p = X.shape[1]
    nb = ev_end.shape[0]
    S0 = np.empty(nb)
    S1 = np.empty((nb, p))
    D0 = np.zeros(nb)
    D1 = np.zeros((nb, p))
    s0 = 0.0
    s1 = np.zeros(p)
    row = 0
    for b in range(nb):
        end = ev_end[b]
        while row <= end:
            rj = r[row]
            s0 += rj
            for k in range(p):
                s1[k] += rj * X[row, k]
            row += 1
        S0[b] = s0
        for k in range(p):
            S1[b, k] = s1[k]
        first = death_starts[b]
        for i in range(first, first + n_dead[b]):
            j = death_rows[i]
            rj = r[j]
            D0[b] += rj
            for k in range(p):
                D1[b, k] += rj * X[j, k]
    return S0, S1, D0, D1


def _steps(S0, S1, D0, D1, e_block, e_frac, e_wt, n_blocks, second):
    """Per Efron step ``e`` (block ``b``, fraction ``f``, weight ``m``): ``xbar_e``, ``g_e = m / d2``.

    Returns ``(loglik_part, score_part, info_part, xbar, g, A, F)`` where ``loglik_part =
    sum m log d2`` (the caller adds the shift), ``score_part = sum m xbar``, ``info_part =
    sum m xbar xbar'`` (zeros unless ``second``), ``A[b] = sum g``, ``F[b] = sum f g`` per block.
    """
    p = S1.shape[1]
    ne = e_block.shape[0]
    xbar = np.empty((ne, p))
    g = np.empty(ne)
    A = np.zeros(n_blocks)
    F = np.zeros(n_blocks)
    score = np.zeros(p)
    info = np.zeros((p, p))
    ll = 0.0
    for e in range(ne):
        b = e_block[e]
        f = e_frac[e]
        m = e_wt[e]
        d2 = S0[b] - f * D0[b]
        for k in range(p):
            xbar[e, k] = (S1[b, k] - f * D1[b, k]) / d2
        ll += m * math.log(d2)
        ge = m / d2
        g[e] = ge
        A[b] += ge
        F[b] += f * ge
        for k in range(p):
            score[k] += m * xbar[e, k]
        if second:
            for k in range(p):
                mk = m * xbar[e, k]
                for q in range(k + 1):
                    info[k, q] += mk * xbar[e, q]
    for k in range(p):
        for q in range(k):
            info[q, k] = info[k, q]
    return ll, score, info, xbar, g, A, F


def _weighted_outer(X, r, row_idx, death_rows, death_block, A, F):
    """``sum_j r_j h_j x_j x_j'`` and ``h`` (one per row), ``h_j = sum_{b >= row_idx_j} A_b`` minus
    ``F`` of a death's own block (Efron; pass ``F`` of zeros for Breslow)."""
    n, p = X.shape
    nb = A.shape[0]
    RA = np.zeros(nb + 1)
    for b in range(nb - 1, -1, -1):
        RA[b] = RA[b + 1] + A[b]
    h = np.empty(n)
    for j in range(n):
        h[j] = RA[row_idx[j]]
    for i in range(death_rows.shape[0]):
        h[death_rows[i]] -= F[death_block[i]]
    out = np.zeros((p, p))
    for j in range(n):
        c = r[j] * h[j]
        if c == 0.0:
            continue
        for k in range(p):
            ck = c * X[j, k]
            for q in range(k + 1):
                out[k, q] += ck * X[j, q]
    for k in range(p):
        for q in range(k):
            out[q, k] = out[k, q]
    return out, h


def evaluate_compiled(prob, beta: np.ndarray, *, second: bool = True, keep: bool = False):
    """:meth:`_Problem.evaluate` on the compiled kernels (same ``_Eval``, same per-stratum parts)."""
    from ._riskset import _Eval

    block_sums, steps, weighted_outer = compiled()[:3]
    X = prob.X
    p = X.shape[1]
    eta = X @ beta
    shift = float(eta.max()) if len(eta) else 0.0
    r = np.exp(eta - shift)
    if not prob.unit_weights:
        r *= prob.w
    loglik = float(prob.wd @ eta)
    score = prob.wdX.copy()
    info = np.zeros((p, p)) if second else None
    h_all = np.zeros(len(r)) if second or keep else None
    parts = []
    efron = prob.ties == "efron"
    for s in prob.strata:
        lo, hi = s.lo, s.hi
        nb = len(s.ev_end)
        if nb == 0:
            parts.append(None)
            continue
        Xs, rs = X[lo:hi], r[lo:hi]
        n_dead = np.diff(np.append(s.death_starts, len(s.death_rows)))
        S0, S1, D0, D1 = block_sums(Xs, rs, s.ev_end, s.death_rows, s.death_starts, n_dead)
        ll, sc, inf, xbar, g, A, F = steps(S0, S1, D0, D1, s.e_block, s.e_frac, s.e_wt, nb, second)
        loglik -= ll + shift * float(s.e_wt.sum())
        score -= sc
        if h_all is not None:
            outer, h = weighted_outer(Xs, rs, s.row_idx, s.death_rows, s.death_block, A, F)
            h_all[lo:hi] = h
            if second:
                info += outer - inf
        parts.append((xbar, g, s.e_frac, s.e_block, A, F if efron else None, shift))
    coef = h_all * r if keep else None
    return _Eval(loglik, score, info, coef, parts if keep else None)
