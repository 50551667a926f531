"""Multi-state models of customer histories: churn, win-back, second churn.

A customer moves between states over tenure (months since first joining):
``active -> churned -> reactivated -> churned_again`` (or any states the data declare). The data are
``(start, stop]`` rows, one per stay in a state, with the state of the stay (``from_col``) and the
state entered at ``stop`` (``to_col``; a censoring label when none), as R's
``Surv(start, stop, to)`` with ``istate = from`` and ``id``. Rows may start late (delayed entry: a
customer first seen in a window enters the risk set of his state at ``start``).

* :func:`aalen_johansen`: state-occupation probabilities ``p_j(t)`` (the Aalen-Johansen product of
  transition matrices), their infinitesimal-jackknife standard errors summed within customer and
  log-scale intervals, the Nelson-Aalen cumulative hazard of each transition, the numbers at risk,
  and the expected time in each state up to a horizon, as R's ``survfit(Surv(start, stop, to) ~ 1,
  id = id, istate = from)`` (checked to 1e-8 in ``tests/reference/histories``).
* :func:`transition_cox`: one Cox model per transition (rows in the transition's origin state,
  event = the transition), fitted by the workbench's one Cox engine with robust SEs by customer,
  as R's multi-state ``coxph``; ``clock='reset'`` measures time since entering the state
  (semi-Markov, e.g. the win-back hazard by months since churn).
* :func:`~workbench.survival.spells.winback_curve` (probability of return by time since churn)
  and :func:`~workbench.survival.spells.spell_comparison` (first vs second spell) are re-exported
  here from :mod:`workbench.survival.spells`.
* :func:`workbench.data.events.state_table` builds the rows from spells (dated or in tenure).

References
----------
Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for non-homogeneous Markov
chains based on censored observations. Scand. J. Statist. 5, 141-150.
Datta, S. and Satten, G. A. (2001). Validity of the Aalen-Johansen estimators of stage occupation
probabilities and Nelson-Aalen estimators of integrated transition hazards for non-Markov models.
Statistics & Probability Letters 55, 403-411.
Therneau, T., Crowson, C. and Atkinson, E. (2024). Multi-state models and competing risks.
Vignette of R package ``survival`` (the infinitesimal-jackknife variance of ``survfit``).
Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and
multi-state models. Statistics in Medicine 26, 2389-2430.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_alpha
from ..data.events import CENSORED, STATES, state_table  # noqa: F401 (re-exported)
from ..exceptions import DataValidationError, ModelError, ParameterError
from ..results import Result, standard_meta
from ._design import hazard_ratio_table
from ._msdata import _frame, _rows, _state_entry

__all__ = [
    "CENSORED",
    "STATES",
    "StateOccupationResult",
    "TransitionCoxResult",
    "aalen_johansen",
    "spell_comparison",
    "SpellComparisonResult",
    "WinbackResult",
    "transition_cox",
    "winback_curve",
]


# ------------------------------------------------------------------------- Aalen-Johansen
class _AJ:
    """The Aalen-Johansen product and the pieces of its influence functions."""

    def __init__(self, start, stop, frm, to, ids, S):
        self.start, self.stop, self.frm, self.to, self.ids, self.S = start, stop, frm, to, ids, S
        ev = to >= 0
        self.times = np.unique(stop[ev])
        T = len(self.times)
        if T == 0:
            raise ModelError("no transitions: every row is censored, so nothing can be estimated.")
        # at risk in state j at event time m: start < t_m <= stop
        self.n = np.zeros((T, S))
        for j in range(S):
            m = frm == j
            a = np.searchsorted(self.times, stop[m], side="right")  # number of times <= stop
            b = np.searchsorted(self.times, start[m], side="right")  # number of times <= start
            diff = np.bincount(b, minlength=T + 1) - np.bincount(a, minlength=T + 1)
            self.n[:, j] = np.cumsum(diff)[:T]
        ti = np.searchsorted(self.times, stop[ev])
        self.d = np.zeros((T, S, S))
        np.add.at(self.d, (ti, frm[ev], to[ev]), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            haz = np.where(self.n[:, :, None] > 0, self.d / self.n[:, :, None], 0.0)
        A = haz.copy()
        idx = np.arange(S)
        A[:, idx, idx] = -haz.sum(axis=2)
        self.A = A
        # initial distribution: states of the rows at risk at the first event time
        first = self.times[0]
        at0 = (start < first) & (stop >= first)
        self.n0 = float(at0.sum())
        self.p0 = np.bincount(frm[at0], minlength=S) / self.n0
        self.at0 = at0
        p = np.empty((T + 1, S))
        p[0] = self.p0
        for m in range(T):
            p[m + 1] = p[m] + p[m] @ A[m]
        self.p = p  # p[m] = p(t_m -), p[m + 1] = p(t_m)
        self.row_a = np.searchsorted(self.times, stop, side="right")
        self.row_b = np.searchsorted(self.times, start, side="right")
        self.n_ids = int(ids.max()) + 1 if len(ids) else 0

    def influence(self, M: np.ndarray) -> np.ndarray:
        """Per-customer influence on ``target = sum_m p-increment(t_m) @ M[m]`` (M: T x S x K).

        ``M[m]`` maps the increment of the state vector at event time ``t_m`` to the target (e.g.
        ``P(t_m+, t)`` for ``p(t)``); rows not contributing have ``M[m] = 0``.
        """
        S = self.S
        K = M.shape[2]
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(self.n > 0, self.p[:-1] / self.n, 0.0)  # T x S
        AM = np.einsum("mjs,msk->mjk", self.A, M)  # T x S x K
        W = scale[:, :, None] * AM
        cumW = np.concatenate([np.zeros((1, S, K)), np.cumsum(W, axis=0)])  # (T+1) x S x K
        j = self.frm
        risk = -(cumW[self.row_a, j] - cumW[self.row_b, j])  # rows x K
        ev = self.to >= 0
        m = self.row_a[ev] - 1
        jj, kk = j[ev], self.to[ev]
        jump = scale[m, jj][:, None] * (M[m, kk] - M[m, jj])
        risk[ev] += jump
        U = np.zeros((self.n_ids, K))
        np.add.at(U, self.ids, risk)
        # initial distribution estimated from the customers at risk at the first time
        M0 = np.einsum("js,sk->jk", np.eye(S) + self.A[0], M[0])
        at0 = np.flatnonzero(self.at0)
        e = np.eye(S)[j[at0]] - self.p0
        np.add.at(U, self.ids[at0], (e @ M0) / self.n0)
        return U

    def transfer(self, target_index: np.ndarray) -> np.ndarray:
        """``M`` for the state vector at event-time indices ``target_index``: T x S x (S * len)."""
        S, T = self.S, len(self.times)
        L = len(target_index)
        M = np.zeros((T, S, S * L))
        eye = np.eye(S)
        for col, tm in enumerate(target_index):
            if tm < 0:
                continue
            cur = eye
            M[tm, :, col * S : (col + 1) * S] = cur
            for m in range(tm - 1, -1, -1):
                cur = (eye + self.A[m + 1]) @ cur
                M[m, :, col * S : (col + 1) * S] = cur
        return M


class StateOccupationResult(Result):
    """State-occupation probabilities (see :func:`aalen_johansen`).

    ``summary``: ``state``, ``time``, ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``n_risk``
    at the requested times. ``tables``: ``curves`` (every event time), ``cumhaz`` (Nelson-Aalen per
    transition), ``expected_time`` (months in each state up to ``tau``, with SE and interval).
    """

    title = "State occupation (Aalen-Johansen)"
    key = "state"

    def plot(self, ax=None, **kwargs):
        from ..plotting.histories import plot_state_occupation

        return plot_state_occupation(self, ax=ax, **kwargs)


def _log_ci(est, se, z):
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(est > 0, np.exp(np.log(est) - z * se / est), np.nan)
        hi = np.where(est > 0, np.minimum(np.exp(np.log(est) + z * se / est), 1.0), np.nan)
    return lo, hi


def aalen_johansen(
    data: Any,
    *,
    id_col: str,
    start_col: str = "start",
    stop_col: str = "stop",
    from_col: str = "from_state",
    to_col: str = "to_state",
    states: Sequence[str] | None = None,
    censored: str = CENSORED,
    times: Sequence[float] | None = None,
    tau: float | None = None,
    alpha: float = 0.05,
    all_times_se: bool | None = None,
) -> StateOccupationResult:
    """Aalen-Johansen state-occupation probabilities with infinitesimal-jackknife SEs.

    Parameters
    ----------
    data : DataFrame
        ``(start, stop]`` rows (see the module docstring; :func:`state_table` builds them).
    id_col, start_col, stop_col, from_col, to_col : str
        Customer id, interval, state during the row, state entered at ``stop`` (or ``censored``).
    states : sequence of str, optional
        State order (default: :data:`STATES` that occur, then others in order of appearance).
    times : sequence of float, optional
        Tenures for ``summary`` (default 3, 6, 12, 24, 48 within the follow-up).
    tau : float, optional
        Horizon for the expected time in each state (default the last event time).
    alpha : float
        ``1 - alpha`` pointwise intervals (log scale, as R's ``survfit`` default).
    all_times_se : bool, optional
        Compute SEs at every event time for ``tables['curves']`` (default when at most 2,000 event
        times; otherwise only at ``times``).

    Returns
    -------
    StateOccupationResult

    Raises
    ------
    DataValidationError
        Missing columns, ``start >= stop``, unknown states, a row moving to its own state.
    ModelError
        No transitions at all.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"id": [1, 1, 2, 3], "start": [0.0, 2.0, 0.0, 0.0],
    ...     "stop": [2.0, 5.0, 3.0, 4.0], "from_state": ["active", "churned", "active", "active"],
    ...     "to_state": ["churned", "censored", "censored", "churned"]})
    >>> aj = aalen_johansen(rows, id_col="id", times=[3])
    >>> aj.summary.set_index("state")["estimate"].round(3).to_dict()
    {'active': 0.667, 'churned': 0.333}

    References
    ----------
    Aalen and Johansen (1978); Datta and Satten (2001); Therneau, Crowson and Atkinson (2024).
    """
    alpha = check_alpha(alpha)
    start, stop, frm, to, ids, states = _rows(
        data, id_col, start_col, stop_col, from_col, to_col, states, censored
    )
    S = len(states)
    aj = _AJ(start, stop, frm, to, ids, S)
    T = len(aj.times)
    z = stats.norm.ppf(1 - alpha / 2)
    if times is None:
        times = [t for t in (3.0, 6.0, 12.0, 24.0, 48.0) if t <= aj.times[-1]] or [aj.times[-1]]
    times = np.asarray(times, dtype=float)
    if all_times_se is None:
        all_times_se = T <= 2000
    # summary times -> index of the last event time <= t (-1: before the first)
    sidx = np.searchsorted(aj.times, times, side="right") - 1
    tgt = np.arange(T) if all_times_se else np.unique(sidx[sidx >= 0])
    U = aj.influence(aj.transfer(tgt))
    se_t = np.sqrt((U**2).sum(axis=0)).reshape(len(tgt), S)
    pos = {int(m): i for i, m in enumerate(tgt)}
    n_risk = aj.n
    curves = []
    for j, s in enumerate(states):
        est = aj.p[1:, j]
        se = np.full(T, np.nan)
        se[tgt] = se_t[:, j]
        lo, hi = _log_ci(est, se, z)
        curves.append(
            pd.DataFrame(
                {
                    "state": s,
                    "time": aj.times,
                    "estimate": est,
                    "se": se,
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "n_risk": n_risk[:, j],
                }
            )
        )
    curves = pd.concat(curves, ignore_index=True)
    rows = []
    for t, m in zip(times, sidx):
        for j, s in enumerate(states):
            if m < 0:
                est, se = aj.p0[j], 0.0
            else:
                est, se = aj.p[m + 1, j], se_t[pos[int(m)], j]
            lo, hi = _log_ci(np.array([est]), np.array([se]), z)
            nr = aj.n[min(max(m + 1, 0), T - 1), j] if t < aj.times[-1] else 0.0
            rows.append(
                {
                    "state": s,
                    "time": float(t),
                    "estimate": est,
                    "se": se,
                    "ci_lower": lo[0],
                    "ci_upper": hi[0],
                    "n_risk": nr,
                }
            )
    summary = pd.DataFrame(rows)
    # Nelson-Aalen cumulative hazard of each observed transition
    haz = []
    for a in range(S):
        for b in range(S):
            if a != b and aj.d[:, a, b].sum() > 0:
                with np.errstate(invalid="ignore", divide="ignore"):
                    inc = np.where(aj.n[:, a] > 0, aj.d[:, a, b] / aj.n[:, a], 0.0)
                haz.append(
                    pd.DataFrame(
                        {
                            "transition": f"{states[a]}->{states[b]}",
                            "time": aj.times,
                            "cumulative_hazard": np.cumsum(inc),
                            "n_risk": aj.n[:, a],
                            "events": aj.d[:, a, b],
                        }
                    )
                )
    cumhaz = pd.concat(haz, ignore_index=True)
    expected = _expected_time(aj, states, tau, z)
    meta = standard_meta(
        data,
        n=int(aj.n_ids),
        events=int((to >= 0).sum()),
        alpha=alpha,
        method="Aalen-Johansen, infinitesimal-jackknife SE by customer (R survfit, id=)",
        rows=int(len(start)),
        states=states,
        tau=float(expected["tau"].iloc[0]),
    )
    return StateOccupationResult(
        summary, meta, tables={"curves": curves, "cumhaz": cumhaz, "expected_time": expected}
    )


def _expected_time(aj: _AJ, states, tau, z) -> pd.DataFrame:
    """Months in each state up to ``tau``: the area under ``p_j`` (R's ``rmean``), with IJ SE."""
    t0 = min(0.0, float(aj.start.min()))
    tau = float(aj.times[-1]) if tau is None else float(tau)
    if not tau > t0:
        raise ParameterError(f"`tau` must be after the start of follow-up ({t0}), got {tau!r}.")
    T, S = len(aj.times), aj.S
    grid = np.concatenate([[t0], aj.times[aj.times < tau], [tau]])
    width = np.diff(grid)  # width[0]: p0 from t0 to t_1, width[m]: p(t_m) up to the next
    k = len(width) - 1  # event times inside (t0, tau)
    est = width[0] * aj.p[0] + (width[1:, None] * aj.p[1 : k + 1]).sum(axis=0)
    # influence: sum over event times m < k of width[m + 1] * P(t_m+, t_m) ... accumulated backwards
    M = np.zeros((T, S, S))
    eye = np.eye(S)
    acc = np.zeros((S, S))
    for m in range(k - 1, -1, -1):
        acc = width[m + 1] * eye + (((eye + aj.A[m + 1]) @ acc) if m + 1 < k else 0.0)
        M[m] = acc
    U = aj.influence(M)
    # the initial distribution's share of the first interval (width[0] * p0) also moves with p0
    at0 = np.flatnonzero(aj.at0)
    e = np.eye(S)[aj.frm[at0]] - aj.p0
    U0 = np.zeros_like(U)
    np.add.at(U0, aj.ids[at0], e * width[0] / aj.n0)
    se = np.sqrt(((U + U0) ** 2).sum(axis=0))
    return pd.DataFrame(
        {
            "state": states,
            "tau": tau,
            "estimate": est,
            "se": se,
            "ci_lower": est - z * se,
            "ci_upper": est + z * se,
        }
    )


# ------------------------------------------------------------------------- transition models
class TransitionCoxResult(Result):
    """Transition-specific Cox models (see :func:`transition_cox`).

    ``summary``: ``transition``, ``term``, ``estimate`` (log hazard ratio), ``se`` (robust, by
    customer), ``hazard_ratio``, ``ci_lower``, ``ci_upper`` (log scale), ``statistic``, ``p_value``;
    ``tables['transitions']``: rows, customers and events per transition.
    """

    title = "Transition-specific Cox models"
    key = "term"


def transition_cox(
    data: Any,
    *,
    id_col: str,
    covariates: Sequence[str] | dict[str, Sequence[str]],
    start_col: str = "start",
    stop_col: str = "stop",
    from_col: str = "from_state",
    to_col: str = "to_state",
    states: Sequence[str] | None = None,
    censored: str = CENSORED,
    clock: str = "forward",
    ties: str = "efron",
    alpha: float = 0.05,
) -> TransitionCoxResult:
    """One Cox model per transition, robust SEs by customer (R's multi-state ``coxph``).

    For transition ``j -> k`` the rows in state ``j`` are at risk; the event is a move to ``k``
    (moves elsewhere censor). Each fit runs on the workbench's Cox engine with ``(start, stop]``
    risk sets, so delayed entry and time-varying covariates work as in R.

    Parameters
    ----------
    data : DataFrame
        Multi-state rows (:func:`state_table`) with the covariate columns.
    id_col : str
        Customer id (robust variance by customer, as R's ``id=``).
    covariates : list of str, or dict ``"from->to" -> list``
        Numeric covariates for every transition, or per transition (transitions not named are
        skipped).
    clock : {'forward', 'reset'}
        Time since joining (R's default, ``'forward'``) or time since entering the state
        (``'reset'``: e.g. months since churn for the win-back hazard).
    ties, alpha
        As :func:`workbench.survival.engine.cox_fit`.

    Returns
    -------
    TransitionCoxResult

    Examples
    --------
    >>> from workbench.data.histories import simulate_histories
    >>> h, _ = simulate_histories(3_000, seed=2, truth_customers=0)
    >>> rows = state_table(h.spells, id_col="customer_id", start_col="start_date",
    ...     stop_col="stop_date", event_col="churned", analysis_time=h.analysis_date)
    >>> rows = rows.merge(h.customers, on="customer_id")
    >>> fit = transition_cox(rows, id_col="customer_id", covariates={"churned->reactivated": ["contacted"]},
    ...                      clock="reset")
    >>> fit.summary["term"].tolist()
    ['contacted']

    References
    ----------
    Putter, Fiocco and Geskus (2007); Therneau, Crowson and Atkinson (2024).
    """
    from .engine import cox_fit

    alpha = check_alpha(alpha)
    if clock not in ("forward", "reset"):
        raise ParameterError(f"`clock` must be 'forward' or 'reset', got {clock!r}.")
    start, stop, frm, to, ids, states = _rows(
        data, id_col, start_col, stop_col, from_col, to_col, states, censored
    )
    df = _frame(data)
    observed = sorted({(a, b) for a, b in zip(frm, to) if b >= 0})
    if isinstance(covariates, dict):
        wanted = {}
        for key, cols in covariates.items():
            a, _, b = str(key).partition("->")
            if a not in states or b not in states:
                raise ParameterError(
                    f"`covariates` key {key!r} is not a transition 'from->to' of states {states}."
                )
            wanted[(states.index(a), states.index(b))] = list(cols)
    else:
        wanted = {tr: list(covariates) for tr in observed}
    parts, info = [], []
    for (a, b), cols in wanted.items():
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataValidationError(
                f"covariate(s) {missing} are not columns of the data; columns received: "
                f"{list(map(str, df.columns))[:20]}.",
                column=missing[0],
                rule="column present",
            )
        m = frm == a
        ev = (to[m] == b).astype(float)
        name = f"{states[a]}->{states[b]}"
        if ev.sum() == 0:
            raise ModelError(f"transition {name} has no events; drop it from `covariates`.")
        s0, s1 = start[m], stop[m]
        if clock == "reset":
            # time since entering the state: a stay split into several rows keeps its entry time
            entered = _state_entry(ids[m], s0, s1)
            s0, s1 = s0 - entered, s1 - entered
        X = df.loc[m, cols].astype(float).reset_index(drop=True)
        fit = cox_fit(X, s1, ev, entry=s0, cluster=ids[m], ties=ties)
        table = hazard_ratio_table(cols, cols, fit.params, fit.se, alpha).drop(columns="covariate")
        table.insert(0, "transition", name)
        table["naive_se"] = np.sqrt(np.diag(fit.naive_variance))
        parts.append(table)
        info.append(
            {
                "transition": name,
                "rows": int(m.sum()),
                "customers": int(len(np.unique(ids[m]))),
                "events": int(ev.sum()),
            }
        )
    summary = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    meta = standard_meta(
        data,
        n=int(ids.max()) + 1,
        events=int((to >= 0).sum()),
        alpha=alpha,
        method=f"transition-specific Cox ({clock} clock), robust SE by customer",
        clock=clock,
        ties=ties,
    )
    return TransitionCoxResult(summary, meta, tables={"transitions": pd.DataFrame(info)})


from .spells import (  # noqa: E402 (re-exported; spells builds on this module)
    SpellComparisonResult,
    WinbackResult,
    spell_comparison,
    winback_curve,
)
