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

from ..config import DAYS_PER_MONTH
from ..exceptions import ParameterError
from ..survival.kernels import censoring_km

HORIZON_METHODS = ("ipcw", "known")
_MONTHS_PER_UNIT = {
    "days": 1 / DAYS_PER_MONTH,
    "weeks": 7 / DAYS_PER_MONTH,
    "months": 1.0,
    "years": 12.0,
}


def horizons_in_unit(months, unit: str, time) -> list:
    """Horizons given in months, expressed in the data's tenure ``unit`` and put on its grid.

    When every tenure is a whole number of ``unit`` (e.g. whole years) a horizon inside a grid step
    cannot be told apart from the next grid point, so it is rounded up to it; duplicates are dropped
    (6 and 12 months on yearly data are both "1 year"). Horizons at or beyond the longest tenure
    are dropped (no customer is known to be retained past them).
    """
    if unit not in _MONTHS_PER_UNIT:
        raise ParameterError(f"tenure unit must be one of {tuple(_MONTHS_PER_UNIT)}, got {unit!r}.")
    if isinstance(months, (int, float)):
        months = [months]
    t = np.asarray(time, float)
    grid = bool(len(t)) and bool(np.all(t == np.round(t)))
    out = []
    for m in months:
        h = float(m) / _MONTHS_PER_UNIT[unit]
        if grid:
            h = float(np.ceil(h - 1e-9))
        if 0 < h < t.max() and h not in out:
            out.append(h)
    return out


def censoring_survival(time, event):
    """Kaplan-Meier estimate of the censoring survival ``G(t) = P(C > t)`` as a step function.

    Returns ``G_minus(t)`` evaluating ``P(C >= t)`` (left limit), the weight denominator for an event
    or status observed at ``t``. Ties: events are taken to precede censorings at the same time. The
    estimate is the survival kernels' :func:`~workbench.survival.kernels.censoring_km` (one home).
    """
    times, g = censoring_km(np.asarray(time, float), np.asarray(event, int))
    g_left = np.r_[1.0, g]

    def G_minus(t):
        return g_left[np.searchsorted(times, np.asarray(t, float), side="left")]

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
    time, event, *, period_width: float = 1.0, max_period: int | None = None, zero_based=None
) -> pd.DataFrame:
    """Expand customers into person-period rows for the discrete-time hazard model.

    Customer ``i`` contributes one row for each period ``j = 1, ..., k_i`` (capped at ``max_period``)
    with ``event = 1`` only in the period in which they churned. ``k_i = ceil(T_i / width)`` (at least
    1), except on a grid of whole units that starts at 0 (``zero_based``; auto-detected when None:
    every tenure a whole number and some tenure 0): there ``T`` counts completed units, so a customer
    with tenure 0 churned in period 1 and one with tenure 1 in period 2 (``k_i = T_i + 1``), rather
    than both in period 1. Returns columns ``row`` (position of the customer in the input),
    ``period`` and ``event``.
    """
    t = np.asarray(time, float)
    e = np.asarray(event, int)
    u = t / period_width
    if zero_based is None:
        zero_based = bool(len(u)) and bool(np.all(u == np.round(u))) and bool(u.min() == 0)
    k = (np.round(u) + 1 if zero_based else np.maximum(np.ceil(u - 1e-9), 1)).astype(int)
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


def period_bands(period, event, *, max_bands: int = 8, one_per_period: int = 12) -> pd.DataFrame:
    """Bands of the discrete-time baseline hazard, taken from the data's own grid of periods.

    With at most ``one_per_period`` distinct periods (e.g. tenure in whole years) every period is its
    own band; otherwise the band edges are quantiles of the churners' periods (at most ``max_bands``
    bands, about equal numbers of churn events each). A band in which no one churned (or everyone at
    risk churned) would have an infinite log-odds and make the fit diverge, so such a band is merged
    with its neighbour until every band has both churn events and person-periods without churn.
    Returns indicator columns ``period[lo-hi]`` for every band but the first (the reference).
    """
    period = np.asarray(period, int)
    event = np.asarray(event, int)
    periods = np.unique(period)
    if len(periods) <= one_per_period:
        edges = list(periods)
    else:
        ev = period[event == 1]
        q = np.quantile(ev, np.linspace(0, 1, max_bands + 1)[1:-1]) if len(ev) else []
        edges = sorted({int(periods[0]), *(int(np.floor(v)) + 1 for v in q)})
        edges = [x for x in edges if x <= periods[-1]]
    while len(edges) > 1:
        lab = np.searchsorted(np.asarray(edges), period, side="right") - 1
        n_ev = np.bincount(lab, weights=event, minlength=len(edges))
        n_all = np.bincount(lab, minlength=len(edges))
        bad = np.flatnonzero((n_ev == 0) | (n_ev == n_all))
        if not len(bad):
            break
        j = int(bad[0])
        del edges[j if j > 0 else 1]
    edges_a = np.asarray(edges)
    lab = np.searchsorted(edges_a, period, side="right") - 1
    out = {}
    for b in range(1, len(edges)):
        lo = edges[b]
        hi = edges[b + 1] - 1 if b + 1 < len(edges) else int(periods[-1])
        out[f"period[{lo}-{hi}]" if hi > lo else f"period[{lo}]"] = (lab == b).astype(float)
    return pd.DataFrame(out)
