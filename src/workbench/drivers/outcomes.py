"""Censoring-aware outcome views.

* **Time to churn** (:func:`person_period` for the discrete-time logistic hazard model; the Cox
  model uses duration and event directly).
* **Retained at a horizon** (:func:`horizon_outcome`): a customer's status at ``horizon`` is known
  when they churned before it or were observed up to it; customers censored earlier have unknown
  status. ``method='known'`` keeps only the known; ``method='ipcw'`` (default) weights each known
  customer by the inverse probability of remaining uncensored up to ``min(T, horizon)``, estimated by
  the Kaplan-Meier estimator of the censoring distribution. A plain "churned yes/no" regression that
  ignores follow-up is never offered.

References
----------
Allison, P. D. (1982). Discrete-time methods for the analysis of event histories. *Sociological
Methodology* 13, 61-98.
Robins, J. M. and Finkelstein, D. M. (2000). Correcting for noncompliance and dependent censoring
in an AIDS clinical trial with inverse probability of censoring weighted (IPCW) log-rank tests.
*Biometrics* 56, 779-788.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError

HORIZON_METHODS = ("ipcw", "known")


def censoring_survival(time, event):
    """Kaplan-Meier estimate of the censoring survival ``G(t) = P(C > t)`` as a step function.

    Returns ``G_minus(t)`` evaluating ``P(C >= t)`` (left limit), the weight denominator for an event
    or status observed at ``t``. Ties: events are taken to precede censorings at the same time.
    """
    time = np.asarray(time, float)
    cens = 1 - np.asarray(event, int)
    ut = np.unique(time[cens == 1])
    ts = np.sort(time)
    te = np.sort(time[cens == 0])
    tc = np.sort(time[cens == 1])
    at_risk = len(time) - np.searchsorted(ts, ut, side="left")
    # events at t precede censorings at t: they are not at risk of censoring at t
    ev_at = np.searchsorted(te, ut, side="right") - np.searchsorted(te, ut, side="left")
    d = np.searchsorted(tc, ut, side="right") - np.searchsorted(tc, ut, side="left")
    surv = np.cumprod(1 - d / np.maximum(at_risk - ev_at, 1))

    def G_minus(t):
        t = np.asarray(t, float)
        k = np.searchsorted(ut, t, side="left") - 1  # censoring times strictly before t
        return np.where(k >= 0, surv[np.clip(k, 0, None)], 1.0)

    return G_minus


def horizon_outcome(time, event, horizon: float, method: str = "ipcw") -> pd.DataFrame:
    """Retained-at-``horizon`` outcome with its known-status flag and weight.

    Returns a DataFrame (same order as the input) with ``retained`` (1 stayed past the horizon, 0
    churned at or before it, NaN unknown), ``known`` (bool) and ``weight`` (0 for unknown; 1 for
    ``known``; ``1 / G(min(T, horizon)-)`` for ``ipcw``).
    """
    if method not in HORIZON_METHODS:
        raise ParameterError(f"`horizon_method` must be one of {HORIZON_METHODS}, got {method!r}.")
    if not np.isfinite(horizon) or horizon <= 0:
        raise ParameterError(f"`horizon` must be a positive number of time units, got {horizon!r}.")
    t = np.asarray(time, float)
    e = np.asarray(event, int)
    churned = (e == 1) & (t <= horizon)
    stayed = t > horizon
    stayed |= (t == horizon) & (e == 0)
    known = churned | stayed
    retained = np.where(churned, 0.0, np.where(stayed, 1.0, np.nan))
    if method == "known":
        w = known.astype(float)
    else:
        G = censoring_survival(t, e)
        at = np.minimum(t, horizon)
        g = G(at)
        w = np.where(known, 1.0 / np.maximum(g, 1e-12), 0.0)
    return pd.DataFrame({"retained": retained, "known": known, "weight": w})


def person_period(
    time, event, *, period_width: float = 1.0, max_period: int | None = None
) -> pd.DataFrame:
    """Expand customers into person-period rows for the discrete-time hazard model.

    Customer ``i`` contributes one row for each period ``j = 1, ..., ceil(T_i / width)`` (capped at
    ``max_period``) with ``event = 1`` only in the period in which they churned. Returns columns
    ``row`` (position of the customer in the input), ``period`` and ``event``.
    """
    t = np.asarray(time, float)
    e = np.asarray(event, int)
    k = np.maximum(np.ceil(t / period_width - 1e-9), 1).astype(int)
    ev = e.copy()
    if max_period is not None:
        ev = np.where(k > max_period, 0, ev)
        k = np.minimum(k, max_period)
    rows = np.repeat(np.arange(len(t)), k)
    starts = np.cumsum(k) - k
    period = np.arange(k.sum()) - np.repeat(starts, k) + 1
    last = np.zeros(k.sum(), dtype=int)
    last[np.cumsum(k) - 1] = ev
    return pd.DataFrame({"row": rows, "period": period, "event": last})


def period_bins(period: np.ndarray, edges=(1, 4, 7, 13, 19, 25, 37)) -> pd.DataFrame:
    """Indicator columns of the baseline hazard in discrete time: piecewise constant on ``edges``."""
    period = np.asarray(period)
    labels = np.searchsorted(np.asarray(edges), period, side="right") - 1
    present = np.unique(labels)
    out = {}
    for lab in present[1:]:
        lo = edges[lab]
        hi = edges[lab + 1] - 1 if lab + 1 < len(edges) else None
        out[f"period[{lo}-{hi if hi is not None else ''}]"] = (labels == lab).astype(float)
    return pd.DataFrame(out)
