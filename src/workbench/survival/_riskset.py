"""The risk-set machinery of the Cox engine: the one implementation of the partial likelihood.

:class:`_Problem` holds the data sorted once (by stratum, then tenure descending) and evaluates, for
any coefficient vector, the log partial likelihood, its score and information (Efron or Breslow
ties, weights, strata), and from the same pass the per-row quantities: score residuals, Schoenfeld
residuals, the baseline hazard increments and the time-weighted information sums of R ``cox.zph``.
Everything that needs a risk-set sum of a Cox model calls it (``engine.cox_fit``, ``fit_cox``,
cause-specific Cox, ``EngineCoxPHFitter``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._riskset_compiled import NUMBA_MIN_ROWS, compiled, evaluate_compiled


@dataclass
class CoxBaseline:
    """Baseline cumulative hazard of a Cox fit, per stratum, at the covariate values ``center``.

    ``times[s]`` are the distinct event times of stratum ``strata[s]`` (ascending) and
    ``cumhaz[s]`` the cumulative hazard just after each (Breslow, or Efron's when the fit used
    Efron's ties, as R's ``survfit.coxph``). A customer with covariates ``x`` has cumulative hazard
    ``cumhaz * exp((x - center) @ params)``.
    """

    strata: list
    times: list[np.ndarray]
    cumhaz: list[np.ndarray]
    center: np.ndarray

    def cumulative_hazard_at(self, t: np.ndarray, stratum_index: int = 0) -> np.ndarray:
        """Step-function value of the baseline cumulative hazard at times ``t`` (right-continuous)."""
        times = self.times[stratum_index]
        ch = np.concatenate([[0.0], self.cumhaz[stratum_index]])
        return ch[np.searchsorted(times, np.asarray(t, dtype=float), side="right")]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: ``stratum``, ``time``, ``cumulative_hazard``."""
        parts = [
            pd.DataFrame({"stratum": s, "time": t, "cumulative_hazard": h})
            for s, t, h in zip(self.strata, self.times, self.cumhaz)
        ]
        return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------- preprocessing
def risk_order(time: np.ndarray, strata: np.ndarray | None) -> np.ndarray:
    """Row order by stratum, then tenure descending, ties in row order (``np.lexsort((-time,
    strata))``): one stable sort of the tenures, then a stable sort of the stratum codes.

    Whole-number tenures spanning fewer than 32,768 units (days over 89 years, months) and up to
    32,767 strata are sorted as 16-bit integers, by numpy's O(n) radix sort.
    """
    t = np.asarray(time, dtype=float)
    top = float(t.max()) if len(t) else 0.0
    if len(t) and top - float(t.min()) < 2**15 and np.array_equal(t, np.floor(t)):
        order = np.argsort((top - t).astype(np.int16), kind="stable")
    else:
        order = np.argsort(-t, kind="stable")
    if strata is None:
        return order
    codes = np.asarray(strata)[order]
    if len(codes) and 0 <= codes.min() and codes.max() < 2**15:
        codes = codes.astype(np.int16)
    return order[np.argsort(codes, kind="stable")]


class _Stratum:
    """Block structure of one stratum (rows ``lo:hi`` of the sorted data, tenure descending)."""

    __slots__ = (
        "lo",
        "hi",
        "ev_end",
        "seg_starts",
        "ev_times",
        "row_idx",
        "death_rows",
        "death_starts",
        "death_block",
        "n_dead",
        "wt_dead",
        "e_block",
        "e_frac",
        "e_wt",
        "row_block",
        "row_dead",
        "start_order",
        "start_cnt",
        "start_idx",
    )

    def __init__(
        self,
        lo: int,
        hi: int,
        t: np.ndarray,
        d: np.ndarray,
        w: np.ndarray,
        ties: str,
        entry: np.ndarray | None = None,
        frequency: bool = False,
    ):
        self.lo, self.hi = lo, hi
        # blocks of tied times: ends (exclusive) in the descending order
        change = np.flatnonzero(t[1:] != t[:-1]) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(t)]])
        block_of_row = np.repeat(np.arange(len(starts)), ends - starts)
        death_rows = np.flatnonzero(d)
        dblk = block_of_row[death_rows]  # non-decreasing: the runs are the event blocks
        first = np.flatnonzero(np.r_[True, dblk[1:] != dblk[:-1]]) if len(dblk) else dblk
        ev_blocks = dblk[first]
        n_dead = np.diff(np.r_[first, len(dblk)])
        self.ev_end = ends[ev_blocks] - 1  # last row (inclusive) of each event block
        self.seg_starts = np.concatenate([[0], self.ev_end[:-1] + 1]).astype(np.intp)
        self.ev_times = t[starts[ev_blocks]]
        # death rows grouped by event block (contiguous because rows are sorted)
        self.death_rows = death_rows
        self.death_starts = first
        self.death_block = np.repeat(np.arange(len(ev_blocks)), n_dead)
        self.n_dead = n_dead.astype(float)
        self.wt_dead = np.add.reduceat(w[death_rows], first) if len(death_rows) else np.zeros(0)
        # for each row: number of event blocks strictly later in the order (time > t_row) ...
        # i.e. the first event block with time <= t_row
        is_ev = np.zeros(len(starts), dtype=np.intp)
        is_ev[ev_blocks] = 1
        self.row_idx = (np.cumsum(is_ev) - is_ev)[block_of_row]  # event blocks strictly before
        self.row_dead = d.astype(bool)
        if ties == "efron" and frequency:
            self._efron_frequency_steps()
        elif ties == "efron":
            k = np.arange(len(death_rows)) - np.repeat(first, n_dead)
            self.e_block = self.death_block
            self.e_frac = k / np.repeat(n_dead, n_dead)
            self.e_wt = np.repeat(self.wt_dead / n_dead, n_dead)
        else:
            self.e_block = np.arange(len(ev_blocks))
            self.e_frac = np.zeros(len(ev_blocks))
            self.e_wt = self.wt_dead
        self.row_block = None
        # (entry, t] rows (delayed entry / counting process): a row leaves the risk sets of the
        # event times at or before its entry, i.e. the sums over ``time >= t_e`` lose the rows
        # with ``entry >= t_e`` (rows ordered by entry, descending, counted per event time)
        self.start_order = self.start_cnt = self.start_idx = None
        if entry is not None:
            self.start_order = np.argsort(-entry, kind="stable").astype(np.intp)
            self.start_cnt = np.searchsorted(-entry[self.start_order], -self.ev_times, side="right")
            self.start_idx = np.searchsorted(-self.ev_times, -entry, side="left")

    def _efron_frequency_steps(self) -> None:
        """Efron's steps when the weights are frequency weights (whole numbers of identical rows).

        A block whose death rows carry ``d = sum of their weights`` tied events gets ``d`` steps
        ``log(R - (k / d) E)``, ``k = 0 .. d - 1``, each of weight 1, exactly as the expanded rows
        would (R's weighted Efron instead takes one step per death row with the mean weight). The
        rest of the evaluation is unchanged: it reads the steps through ``e_block, e_frac, e_wt``.
        Memory is one entry per event (not per row), so counts of many events cost that many steps.
        """
        d = np.rint(self.wt_dead).astype(np.int64)
        nb = len(d)
        self.e_block = np.repeat(np.arange(nb), d)
        k = np.arange(int(d.sum())) - np.repeat(np.cumsum(d) - d, d)
        self.e_frac = k / np.repeat(d, d).astype(float)
        self.e_wt = np.ones(len(k))


@dataclass
class _Eval:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    coef: np.ndarray | None = None  # row coefficients a_j (for residuals)
    parts: list | None = None


class _Problem:
    """Sorted, centred data and the per-iteration evaluation of loglik, score and information."""

    def __init__(
        self,
        X,
        time,
        event,
        weights,
        strata_codes,
        ties,
        entry=None,
        frequency=False,
        center=None,
    ):
        n = len(time)
        self.ties = ties
        order = risk_order(time, strata_codes)
        self.order = order
        # one copy of X, row-major: sorted (np.take: several times faster than X[order]), then
        # centred in place
        self.X = np.ascontiguousarray(np.take(X, order, axis=0))
        if center is not None:
            self.X -= center
        self.t = time[order]
        self.d = event[order]
        self.entry = entry[order] if entry is not None else None
        self.w = weights[order] if weights is not None else np.ones(n)
        self.unit_weights = weights is None
        if strata_codes is not None:
            sc = strata_codes[order]
            change = np.flatnonzero(sc[1:] != sc[:-1]) + 1
            bounds = np.concatenate([[0], change, [n]])
        else:
            bounds = np.array([0, n])
        self.strata = [
            _Stratum(
                lo,
                hi,
                self.t[lo:hi],
                self.d[lo:hi],
                self.w[lo:hi],
                ties,
                None if self.entry is None else self.entry[lo:hi],
                frequency,
            )
            for lo, hi in zip(bounds[:-1], bounds[1:])
        ]
        self.wd = self.w * self.d
        self.wdX = self.wd @ self.X
        # the compiled risk-set sums (numba) on large problems without delayed entry
        self.compiled = (
            n >= NUMBA_MIN_ROWS and entry is None and self.X.shape[1] > 0 and compiled() is not None
        )

    def evaluate(self, beta: np.ndarray, *, second: bool = True, keep: bool = False) -> _Eval:
        if self.compiled:
            return evaluate_compiled(self, beta, second=second, keep=keep)
        X = self.X
        eta = X @ beta
        shift = float(eta.max()) if len(eta) else 0.0
        r = np.exp(eta - shift)
        if not self.unit_weights:
            r *= self.w
        rX = X * r[:, None]
        p = X.shape[1]
        loglik = float(self.wd @ eta)
        score = self.wdX.copy()
        xbar_terms = []
        h = np.empty(len(r)) if second or keep else None
        parts = []
        for s in self.strata:
            lo, hi = s.lo, s.hi
            if len(s.ev_end) == 0:
                if h is not None:
                    h[lo:hi] = 0.0
                parts.append(None)
                continue
            # risk-set sums at the event blocks: sums over the segments between consecutive
            # event-block ends, then cumulated (cheaper than a cumulative sum over every row)
            tail = lo + s.ev_end[-1] + 1
            S0 = np.cumsum(np.add.reduceat(r[lo:tail], s.seg_starts))
            S1 = np.cumsum(np.add.reduceat(rX[lo:tail], s.seg_starts, axis=0), axis=0)
            if s.start_order is not None:
                ro = s.start_order + lo
                S0 = S0 - np.concatenate([[0.0], np.cumsum(r[ro])])[s.start_cnt]
                S1 = S1 - np.vstack([np.zeros((1, p)), np.cumsum(rX[ro], axis=0)])[s.start_cnt]
            dr = s.death_rows + lo
            D0 = np.add.reduceat(r[dr], s.death_starts)
            D1 = np.add.reduceat(rX[dr], s.death_starts, axis=0)
            b, f, m = s.e_block, s.e_frac, s.e_wt
            if self.ties == "efron":
                d2 = S0[b] - f * D0[b]
                num = S1[b] - f[:, None] * D1[b]
            else:
                d2 = S0
                num = S1
            xbar = num / d2[:, None]
            loglik -= float(m @ (np.log(d2) + shift))
            score -= m @ xbar
            g = m / d2
            if h is not None:
                nb = len(s.ev_end)
                A = np.bincount(b, g, minlength=nb)
                RA = np.concatenate([np.cumsum(A[::-1])[::-1], [0.0]])
                a = RA[s.row_idx]
                if s.start_idx is not None:
                    a = a - RA[s.start_idx]
                if self.ties == "efron":
                    F = np.bincount(b, f * g, minlength=nb)
                    a[s.death_rows] -= F[s.death_block]
                    parts.append((xbar, g, f, b, A, F, shift))
                else:
                    parts.append((xbar, g, f, b, A, None, shift))
                h[lo:hi] = a
            xbar_terms.append(xbar * np.sqrt(m)[:, None])
        info = None
        if second:
            xb = np.concatenate(xbar_terms) if xbar_terms else np.zeros((0, p))
            coef = h * r if keep else None
            rX *= h[:, None]  # in place: r_j * h_j * x_j, no new n x p array
            info = X.T @ rX - xb.T @ xb
            info = 0.5 * (info + info.T)
        else:
            coef = h * r if keep else None
        return _Eval(loglik, score, info, coef, parts if keep else None)

    def score_residuals(self, beta: np.ndarray, ev: _Eval) -> np.ndarray:
        """Score residuals in sorted order (weighted; columns sum to the score)."""
        X = self.X
        eta = X @ beta
        res = np.zeros_like(X)
        for s, part in zip(self.strata, ev.parts):
            if part is None:
                continue
            lo, hi = s.lo, s.hi
            xbar, shift = part[0], part[6]
            nb = len(s.ev_end)
            r = np.exp(eta[lo:hi] - shift) * self.w[lo:hi]
            # risk part: - r_j * sum_{events e at or before t_j} g_e (x_j - xbar_e) (Efron: deaths
            # of the block itself carry (1 - f_e))
            bx = _step_sums(s, part, xbar)
            a = ev.coef[lo:hi]  # already r_j * (cumulative g - own-block fraction)
            res[lo:hi] = -(X[lo:hi] * a[:, None]) + r[:, None] * bx
            # event part: w_j d_j (x_j - mean over the block's Efron fractions of xbar)
            dr = s.death_rows + lo
            res[dr] += self.w[dr, None] * (X[dr] - _block_mean_xbar(part, nb)[s.death_block])
        return res

    def schoenfeld(self, ev: _Eval) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Schoenfeld residuals of every event: ``x`` minus the (Efron-averaged) risk-set mean.

        Returns ``(rows, times, residuals)``: the events' positions in the caller's row order, their
        times and the ``n_events x p`` residuals (unweighted, as R ``residuals(fit, 'schoenfeld')``).
        """
        rows, times, res = [], [], []
        for s, part in zip(self.strata, ev.parts):
            if part is None:
                continue
            dr = s.death_rows + s.lo
            rows.append(self.order[dr])
            times.append(self.t[dr])
            res.append(self.X[dr] - _block_mean_xbar(part, len(s.ev_end))[s.death_block])
        p = self.X.shape[1]
        if not rows:
            return np.zeros(0, dtype=np.intp), np.zeros(0), np.zeros((0, p))
        return np.concatenate(rows), np.concatenate(times), np.vstack(res)

    def block_values(self, values: np.ndarray) -> list[np.ndarray]:
        """Per stratum, the value of ``values`` (one per row, caller's order) at each event block's
        first death (values that depend on time only, such as a time transform)."""
        v = np.asarray(values)[self.order]
        out = []
        for s in self.strata:
            out.append(v[s.lo + s.death_rows[s.death_starts]] if len(s.ev_end) else np.zeros(0))
        return out

    def block_scores(self, ev: _Eval) -> list[np.ndarray]:
        """Per stratum, each event block's score contribution ``sum_deaths w x - sum_steps m xbar``."""
        out = []
        p = self.X.shape[1]
        for s, part in zip(self.strata, ev.parts):
            if part is None:
                out.append(np.zeros((0, p)))
                continue
            xbar, b = part[0], part[3]
            nb = len(s.ev_end)
            dr = s.death_rows + s.lo
            wx = _rowsum(self.w[dr, None] * self.X[dr], s.death_block, nb)
            out.append(wx - _rowsum(s.e_wt[:, None] * xbar, b, nb))
        return out

    def weighted_information(
        self, beta: np.ndarray, ev: _Eval, block_weights: list[np.ndarray]
    ) -> np.ndarray:
        """``sum_b gw_b * I_b``: the information with each event block's term weighted by ``gw_b``.

        ``block_weights`` holds one array per stratum (one weight per event block); all-ones gives
        the observed information. The sums of R ``cox.zph`` are this with ``g(t)`` and ``g(t)^2``.
        """
        X = self.X
        p = X.shape[1]
        eta = X @ beta
        total = np.zeros((p, p))
        for s, part, gw in zip(self.strata, ev.parts, block_weights):
            if part is None:
                continue
            xbar, g, f, b, _, F, shift = part
            lo, hi, nb = s.lo, s.hi, len(s.ev_end)
            r = np.exp(eta[lo:hi] - shift) * self.w[lo:hi]
            gb = gw[b]
            Aw = np.bincount(b, g * gb, minlength=nb)
            if self.compiled:
                Fw = np.bincount(b, f * g * gb, minlength=nb) if F is not None else np.zeros(nb)
                kernel = compiled()[2]
                outer = kernel(X[lo:hi], r, s.row_idx, s.death_rows, s.death_block, Aw, Fw)[0]
                total += outer - (xbar * (s.e_wt * gb)[:, None]).T @ xbar
                continue
            h = np.concatenate([np.cumsum(Aw[::-1])[::-1], [0.0]])[s.row_idx]
            if F is not None:
                h[s.death_rows] -= np.bincount(b, f * g * gb, minlength=nb)[s.death_block]
            Xs = X[lo:hi]
            total += Xs.T @ (Xs * (r * h)[:, None]) - (xbar * (s.e_wt * gb)[:, None]).T @ xbar
        return 0.5 * (total + total.T)

    def baseline(self, beta: np.ndarray, ev: _Eval, strata_levels: list, center) -> CoxBaseline:
        times, cumhaz = [], []
        for s, part in zip(self.strata, ev.parts):
            if part is None:
                times.append(np.zeros(0))
                cumhaz.append(np.zeros(0))
                continue
            A, shift = part[4], part[6]
            inc = A * math.exp(-shift)
            times.append(s.ev_times[::-1].astype(float))
            cumhaz.append(np.cumsum(inc[::-1]))
        return CoxBaseline(list(strata_levels), times, cumhaz, np.asarray(center, dtype=float))


def _step_sums(s: _Stratum, part, values: np.ndarray) -> np.ndarray:
    """Per row ``j`` of stratum ``s`` (sorted order): ``sum_e g_e c_je values_e`` over the event
    steps ``e`` whose risk set holds ``j`` (``c_je = 1``, or ``1 - f_e`` for the deaths of ``e``'s
    own Efron block); ``values`` has one row per step. ``r_j`` times it is row ``j``'s share of
    ``sum_e m_e E_e[values]`` (the score residuals' risk part, the Firth penalty's score)."""
    g, f, b, F = part[1], part[2], part[3], part[5]
    nb = len(s.ev_end)
    Bm = _rowsum(values * g[:, None], b, nb)
    RB = np.vstack([np.cumsum(Bm[::-1], axis=0)[::-1], np.zeros((1, values.shape[1]))])
    out = RB[s.row_idx]
    if s.start_idx is not None:
        out = out - RB[s.start_idx]
    if F is not None:
        out[s.death_rows] -= _rowsum(values * (f * g)[:, None], b, nb)[s.death_block]
    return out


def _rowsum(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of the rows of ``values`` (m x p) by integer ``groups``: one ``bincount`` per column
    (much faster than ``np.add.at``), or one compiled pass on large inputs."""
    if len(groups) >= NUMBA_MIN_ROWS and compiled() is not None:
        return compiled()[3](np.ascontiguousarray(values, dtype=float), groups, n_groups)
    out = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(groups, weights=values[:, j], minlength=n_groups)
    return out


def _block_mean_xbar(part, nb: int) -> np.ndarray:
    """Each event block's risk-set mean averaged over its Efron steps (the block's ``xbar`` for
    Breslow)."""
    xbar, b = part[0], part[3]
    return _rowsum(xbar, b, nb) / np.bincount(b, minlength=nb)[:, None]
