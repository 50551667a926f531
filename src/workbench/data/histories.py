"""Simulated customer histories that know their truth: surveys, complaints, churn, win-back, second spells.

``simulate_histories(n_customers, seed) -> (CustomerHistories, truth)`` draws what a company's
systems would hold about a contractual customer base over ``history_months`` calendar months:

* customers join uniformly over calendar time and are observed until the analysis date;
* **satisfaction surveys** at random dates (a Poisson process, one at joining) whose scores 1-5
  drift over tenure (each customer has a level and a drift per month, plus noise);
* **complaints** as dated events (a Poisson process whose rate is higher for less satisfied
  customers);
* **churn** (first spell) with hazard on tenure ``t`` (months)
  ``h(t) = h0(t) * exp(b_sat * (S(t) - 3) + b_complaints * C(t) + b_contract * long_contract)``,
  ``S(t)`` the latest survey score at or before ``t`` and ``C(t)`` the number of complaints so far,
  ``h0`` Weibull (shape ``k``, scale ``sigma``): exactly the model a Cox fit on the ``(start, stop]``
  rows of :func:`workbench.data.events.build_intervals` (satisfaction ``"last"``, complaints
  ``"count"``) estimates;
* **win-back**: a random half of churners is contacted (a dated ``winback_contact`` event the day
  after churn); churned customers return at a constant rate ``winback_rate * exp(b_contact *
  contacted)`` per month since churn, within ``winback_window`` months;
* **second spells**: a returning customer starts a new spell whose churn hazard on time since
  return is ``h0(u) * exp(b_second + b_contract * long_contract)``; a second churn is final.

The multi-state view has the states ``active`` -> ``churned`` -> ``reactivated`` ->
``churned_again``. ``truth`` holds the knobs, the log hazard ratios, the transition hazards and,
from a large uncensored simulation with the same knobs (``truth_customers``), the true first-spell
survival and the state-occupation probabilities at ``truth['grid']`` months of tenure.

:func:`snapshot` returns the left-truncated sample a company would export: the customers active at
some time during the last ``window_months`` (those who left before are absent), with ``entry`` =
tenure at the window start (0 for those who joined inside it), ``tenure`` at churn or at the analysis
date, and ``churned`` within the window, as the extended IBM Telco release is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import DAYS_PER_MONTH
from ..exceptions import ParameterError

__all__ = [
    "CustomerHistories",
    "STATES",
    "first_spell_intervals",
    "simulate_histories",
    "snapshot",
]

STATES = ("active", "churned", "reactivated", "churned_again")
ANALYSIS_DATE = "2025-12-31"
DEFAULTS: dict[str, float] = {
    "history_months": 120.0,
    "weibull_shape": 0.8,
    "weibull_scale": 40.0,
    "b_sat": -0.35,
    "b_complaints": 0.25,
    "b_contract": -0.7,
    "p_long_contract": 0.4,
    "survey_rate": 1 / 6,
    "sat_level_mean": 3.6,
    "sat_level_sd": 0.7,
    "sat_drift_mean": -0.01,
    "sat_drift_sd": 0.015,
    "sat_noise_sd": 0.5,
    "complaint_rate": 0.03,
    "complaint_sat_effect": 0.5,
    "winback_rate": 0.04,
    "b_contact": 0.8,
    "winback_window": 12.0,
    "b_second": 0.4,
}
GRID = (3.0, 6.0, 12.0, 24.0, 36.0, 48.0)


@dataclass
class CustomerHistories:
    """What the simulator returns: the tables a company's systems would hold.

    Attributes
    ----------
    customers : DataFrame
        ``customer_id``, ``join_date``, ``long_contract`` (0/1), ``contacted`` (win-back contact, 0/1).
    spells : DataFrame
        ``customer_id``, ``spell`` (1, 2), ``start_date``, ``stop_date`` (missing = active at the
        analysis date), ``churned`` (0/1).
    events : DataFrame
        ``customer_id``, ``date``, ``kind`` (``satisfaction``, ``complaint``, ``winback_contact``),
        ``value`` (the score for surveys, 1 otherwise), sorted by customer and date.
    analysis_date : Timestamp
    """

    customers: pd.DataFrame
    spells: pd.DataFrame
    events: pd.DataFrame
    analysis_date: pd.Timestamp


def _weibull_H(t, k, sigma):
    return (np.asarray(t, float) / sigma) ** k


def _weibull_Hinv(h, k, sigma):
    return sigma * np.asarray(h, float) ** (1.0 / k)


def _first_spells(n: int, horizon: np.ndarray, rng: np.random.Generator, p: dict) -> dict:
    """First spells with time-varying satisfaction and complaints, up to ``horizon`` months each.

    Returns churn time (``inf`` when beyond the horizon) and the survey / complaint logs (times in
    months of tenure, cut at churn or horizon).
    """
    k, sigma = p["weibull_shape"], p["weibull_scale"]
    level = rng.normal(p["sat_level_mean"], p["sat_level_sd"], n)
    drift = rng.normal(p["sat_drift_mean"], p["sat_drift_sd"], n)
    contract = (rng.random(n) < p["p_long_contract"]).astype(np.int8)
    # surveys: one at joining plus a Poisson process on (0, horizon]
    n_s = rng.poisson(p["survey_rate"] * horizon)
    s_id = np.concatenate([np.arange(n), np.repeat(np.arange(n), n_s)])
    s_t = np.concatenate([np.zeros(n), rng.random(int(n_s.sum())) * np.repeat(horizon, n_s)])
    raw = level[s_id] + drift[s_id] * s_t + rng.normal(0.0, p["sat_noise_sd"], len(s_id))
    s_v = np.clip(np.round(raw), 1, 5)
    # complaints: Poisson process, rate higher for less satisfied customers
    c_rate = p["complaint_rate"] * np.exp(p["complaint_sat_effect"] * (3.0 - level))
    n_c = rng.poisson(c_rate * horizon)
    c_id = np.repeat(np.arange(n), n_c)
    c_t = rng.random(int(n_c.sum())) * np.repeat(horizon, n_c)
    # change points per customer, in tenure order (surveys before complaints at equal times)
    ids = np.concatenate([s_id, c_id])
    ts = np.concatenate([s_t, c_t])
    is_c = np.concatenate([np.zeros(len(s_id), bool), np.ones(len(c_id), bool)])
    val = np.concatenate([s_v, np.zeros(len(c_id))])
    o = np.lexsort((is_c, ts, ids))
    ids, ts, is_c, val = ids[o], ts[o], is_c[o], val[o]
    # last survey value carried forward; complaints counted
    pos = np.arange(len(ids))
    last_s = np.where(~is_c, pos, -1)
    last_s = np.maximum.accumulate(last_s)  # first row of each customer is its joining survey
    sat = val[last_s]
    first = np.r_[True, ids[1:] != ids[:-1]]
    cum_c = np.cumsum(is_c)
    base_c = np.repeat(cum_c[first] - is_c[first], np.diff(np.r_[np.flatnonzero(first), len(ids)]))
    ncomp = cum_c - base_c
    lp = p["b_sat"] * (sat - 3.0) + p["b_complaints"] * ncomp + p["b_contract"] * contract[ids]
    # interval (ts, next ts or horizon]
    nxt = np.r_[ts[1:], 0.0]
    last = np.r_[ids[1:] != ids[:-1], True]
    nxt[last] = horizon[ids[last]]
    dH = np.exp(lp) * (_weibull_H(nxt, k, sigma) - _weibull_H(ts, k, sigma))
    cum = np.cumsum(dH)
    start_cum = np.repeat(cum[first] - dH[first], np.diff(np.r_[np.flatnonzero(first), len(ids)]))
    cH = cum - start_cum  # cumulative hazard at each interval's end, per customer
    E = rng.exponential(1.0, n)[ids]
    hit = (cH >= E) & (cH - dH < E)
    churn = np.full(n, np.inf)
    hi = np.flatnonzero(hit)
    inside = _weibull_H(ts[hi], k, sigma) + (E[hi] - (cH[hi] - dH[hi])) / np.exp(lp[hi])
    churn[ids[hi]] = _weibull_Hinv(inside, k, sigma)
    keep_s = s_t <= np.minimum(churn, horizon)[s_id]
    keep_c = c_t < np.minimum(churn, horizon)[c_id]
    return {
        "churn": churn,
        "contract": contract,
        "surveys": (s_id[keep_s], s_t[keep_s], s_v[keep_s]),
        "complaints": (c_id[keep_c], c_t[keep_c]),
    }


def _after_churn(churn: np.ndarray, contract: np.ndarray, rng, p: dict) -> dict:
    """Win-back contact, return time (since churn) and second-spell length for every customer."""
    n = len(churn)
    contacted = (rng.random(n) < 0.5).astype(np.int8)
    rate = p["winback_rate"] * np.exp(p["b_contact"] * contacted)
    back = rng.exponential(1.0, n) / rate
    back[back > p["winback_window"]] = np.inf
    lp2 = p["b_second"] + p["b_contract"] * contract
    second = _weibull_Hinv(
        rng.exponential(1.0, n) / np.exp(lp2), p["weibull_shape"], p["weibull_scale"]
    )
    return {"contacted": contacted, "back": back, "second": second}


def _knobs(knobs: dict) -> dict:
    unknown = sorted(set(knobs) - set(DEFAULTS))
    if unknown:
        raise ParameterError(
            f"simulate_histories: unknown knob(s) {unknown}; known: {sorted(DEFAULTS)}."
        )
    p = {**DEFAULTS, **{k: float(v) for k, v in knobs.items()}}
    if p["history_months"] <= 0 or p["weibull_scale"] <= 0 or p["weibull_shape"] <= 0:
        raise ParameterError("`history_months`, `weibull_shape` and `weibull_scale` must be > 0.")
    return p


def _truth(p: dict, seed: int, n: int) -> dict:
    """True first-spell survival and state-occupation probabilities (uncensored simulation)."""
    rng = np.random.default_rng([seed, 7919])
    grid = np.asarray(GRID)
    horizon = np.full(n, grid.max() + 1e-9)
    fs = _first_spells(n, horizon, rng, p)
    ac = _after_churn(fs["churn"], fs["contract"], rng, p)
    t1 = fs["churn"]
    t2 = t1 + ac["back"]
    t3 = t2 + ac["second"]
    occ = {
        "active": (t1[:, None] > grid).mean(axis=0),
        "churned": ((t1[:, None] <= grid) & (t2[:, None] > grid)).mean(axis=0),
        "reactivated": ((t2[:, None] <= grid) & (t3[:, None] > grid)).mean(axis=0),
        "churned_again": (t3[:, None] <= grid).mean(axis=0),
    }
    return {
        "grid": grid.tolist(),
        "survival": occ["active"].tolist(),
        "survival_mc_se": np.sqrt(occ["active"] * (1 - occ["active"]) / n).tolist(),
        "state_occupation": {s: v.tolist() for s, v in occ.items()},
        "truth_customers": n,
    }


def simulate_histories(
    n_customers: int = 20_000,
    seed: int = 0,
    *,
    analysis_date: str = ANALYSIS_DATE,
    truth_customers: int = 200_000,
    **knobs: Any,
) -> tuple[CustomerHistories, dict]:
    """Simulate customer histories (see the module docstring) and return them with their truth.

    Parameters
    ----------
    n_customers : int
        Customers who joined during the ``history_months`` before ``analysis_date``.
    seed : int
        Seed of the random generator (the same seed gives the same histories).
    analysis_date : str
        Export date: open spells are censored here.
    truth_customers : int
        Size of the uncensored simulation behind ``truth['survival']`` and
        ``truth['state_occupation']`` (Monte Carlo standard error in ``truth['survival_mc_se']``);
        0 skips it.
    **knobs
        Overrides of :data:`DEFAULTS` (hazard ratios, rates, Weibull baseline, window lengths).

    Returns
    -------
    (CustomerHistories, dict)

    Examples
    --------
    >>> h, truth = simulate_histories(500, seed=1, truth_customers=0)
    >>> sorted(h.events["kind"].unique())
    ['complaint', 'satisfaction', 'winback_contact']
    >>> truth["log_hr"]["satisfaction"]
    -0.35
    """
    if not (isinstance(n_customers, (int, np.integer)) and n_customers >= 1):
        raise ParameterError(f"`n_customers` must be a positive integer, got {n_customers!r}.")
    p = _knobs(knobs)
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    H = p["history_months"]
    # calendar months from the start of the history (joining at least a day before the analysis)
    join = rng.random(n) * (H - 1.5 / DAYS_PER_MONTH)
    horizon = H - join  # tenure at the analysis date
    fs = _first_spells(n, horizon, rng, p)
    churn = fs["churn"]
    churned1 = np.isfinite(churn)
    ac = _after_churn(churn, fs["contract"], rng, p)
    t_back = churn + ac["back"]
    returned = churned1 & (t_back < horizon)
    t_end2 = t_back + ac["second"]
    churned2 = returned & (t_end2 <= horizon)

    adate = pd.Timestamp(analysis_date)
    origin = adate - pd.to_timedelta(H * DAYS_PER_MONTH, unit="D")

    def to_date(months_calendar):
        return origin + pd.to_timedelta(np.round(months_calendar * DAYS_PER_MONTH), unit="D")

    def plus(dates, months):
        # whole days, at least one: a spell never has zero length and a return follows the churn
        days = np.maximum(
            1.0, np.round(np.nan_to_num(np.minimum(months, 1e3), nan=1.0) * DAYS_PER_MONTH)
        )
        return pd.DatetimeIndex(dates) + pd.to_timedelta(days, unit="D")

    cid = np.arange(1, n + 1)
    join_date = to_date(join)
    stop1 = plus(join_date, churn)
    churned1 = churned1 & (stop1 <= adate)  # a churn rounded past the analysis date is not seen
    returned = returned & churned1
    churned2 = churned2 & churned1
    customers = pd.DataFrame(
        {
            "customer_id": cid,
            "join_date": join_date,
            "long_contract": fs["contract"].astype(int),
            "contacted": np.where(churned1, ac["contacted"], 0).astype(int),
        }
    )
    sp1 = pd.DataFrame(
        {
            "customer_id": cid,
            "spell": 1,
            "start_date": join_date,
            "stop_date": stop1.where(churned1),
            "churned": churned1.astype(int),
        }
    )
    r = np.flatnonzero(returned)
    start2 = plus(stop1[r], ac["back"][r])
    stop2 = plus(start2, ac["second"][r])
    sp2 = pd.DataFrame(
        {
            "customer_id": cid[r],
            "spell": 2,
            "start_date": start2,
            "stop_date": stop2.where(churned2[r] & (stop2 <= adate)),
            "churned": (churned2[r] & (stop2 <= adate)).astype(int),
        }
    )
    # a return rounded past the analysis date is not observed
    sp2 = sp2[sp2["start_date"] < adate]
    spells = pd.concat([sp1, sp2], ignore_index=True).sort_values(["customer_id", "spell"])
    s_id, s_t, s_v = fs["surveys"]
    c_id, c_t = fs["complaints"]
    k = np.flatnonzero(churned1 & (ac["contacted"] == 1))
    contact_date = stop1[k] + pd.Timedelta(days=1)
    k, contact_date = k[contact_date <= adate], contact_date[contact_date <= adate]
    events = pd.DataFrame(
        {
            "customer_id": np.concatenate([cid[s_id], cid[c_id], cid[k]]),
            "date": np.concatenate(
                [
                    plus(join_date[s_id], s_t).where(s_t > 0, join_date[s_id]).to_numpy(),
                    plus(join_date[c_id], c_t).to_numpy(),
                    contact_date.to_numpy(),
                ]
            ),
            "kind": np.concatenate(
                [
                    np.full(len(s_id), "satisfaction", object),
                    np.full(len(c_id), "complaint", object),
                    np.full(len(k), "winback_contact", object),
                ]
            ),
            "value": np.concatenate([s_v, np.ones(len(c_id)), np.ones(len(k))]),
        }
    )
    events = events[events["date"] <= adate]  # a date rounded past the export is not known
    events = events.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)
    # same-day surveys: keep the later one (one value per customer, kind and day)
    dup = events.duplicated(["customer_id", "date", "kind"], keep="last")
    events = events[~dup | (events["kind"] != "satisfaction")].reset_index(drop=True)
    truth: dict[str, Any] = {
        "knobs": p,
        "log_hr": {
            "satisfaction": p["b_sat"],
            "complaints": p["b_complaints"],
            "long_contract": p["b_contract"],
            "winback_contact": p["b_contact"],
            "second_spell": p["b_second"],
        },
        "baseline": {"family": "weibull", "shape": p["weibull_shape"], "scale": p["weibull_scale"]},
        "transitions": {
            "active->churned": "h0(t) exp(b_sat (S(t)-3) + b_complaints C(t) + b_contract x)",
            "churned->reactivated": f"{p['winback_rate']} exp(b_contact contacted) per month since "
            f"churn, up to {p['winback_window']} months",
            "reactivated->churned_again": "h0(u) exp(b_second + b_contract x), u = months since return",
        },
        "winback_rate": {
            "not_contacted": p["winback_rate"],
            "contacted": p["winback_rate"] * np.exp(p["b_contact"]),
        },
        "unit": "months",
    }
    if truth_customers:
        truth.update(_truth(p, seed, int(truth_customers)))
    return CustomerHistories(customers, spells.reset_index(drop=True), events, adate), truth


def snapshot(histories: CustomerHistories, *, window_months: float = 3.0) -> pd.DataFrame:
    """The left-truncated export: first spells active at some time in the last ``window_months``.

    Parameters
    ----------
    histories : CustomerHistories
    window_months : float
        Length of the observation window ending at the analysis date (3 = a quarter, as Telco).

    Returns
    -------
    DataFrame
        ``customer_id``, ``entry`` (tenure in months at the window start, 0 if joined inside it),
        ``tenure`` (at churn or at the analysis date), ``churned`` (0/1, within the window),
        ``long_contract``. Customers whose first spell ended before the window are absent.

    Examples
    --------
    >>> h, _ = simulate_histories(2_000, seed=1, truth_customers=0)
    >>> snap = snapshot(h)
    >>> bool((snap["entry"] < snap["tenure"]).all())
    True
    """
    if not (window_months > 0):
        raise ParameterError(f"`window_months` must be > 0, got {window_months!r}.")
    sp = histories.spells[histories.spells["spell"] == 1].merge(
        histories.customers[["customer_id", "long_contract"]], on="customer_id"
    )
    adate = histories.analysis_date
    w0 = adate - pd.to_timedelta(window_months * DAYS_PER_MONTH, unit="D")
    stop = sp["stop_date"].fillna(adate)
    active = stop > w0
    sp, stop = sp[active], stop[active]
    months = pd.to_timedelta(1, unit="D") * DAYS_PER_MONTH
    tenure = (stop - sp["start_date"]) / months
    entry = ((w0 - sp["start_date"]) / months).clip(lower=0.0)
    out = pd.DataFrame(
        {
            "customer_id": sp["customer_id"].to_numpy(),
            "entry": entry.to_numpy(float),
            "tenure": tenure.to_numpy(float),
            "churned": sp["churned"].to_numpy(int),
            "long_contract": sp["long_contract"].to_numpy(int),
        }
    )
    return out[out["tenure"] > out["entry"]].reset_index(drop=True)


def first_spell_intervals(histories: CustomerHistories) -> pd.DataFrame:
    """The first spells cut into counting-process ``(start, stop]`` rows at every survey and
    complaint (R ``tmerge``'s rules), ready for a time-varying Cox model.

    Parameters
    ----------
    histories : CustomerHistories

    Returns
    -------
    DataFrame
        :func:`workbench.data.events.build_intervals` rows (``customer_id``, ``start``, ``stop`` in
        months since joining, ``churned`` on the row ending in churn), with ``satisfaction`` (the
        latest survey score before the interval), ``complaint`` (complaints so far) and the
        customer's ``long_contract``. Fit with ``fit_cox(rows, start_col="start",
        stop_col="stop", event_col="churned", id_col="customer_id", covariates=[...])``.

    Examples
    --------
    >>> h, _ = simulate_histories(500, seed=1, truth_customers=0)
    >>> rows = first_spell_intervals(h)
    >>> bool((rows["start"] < rows["stop"]).all()), int(rows.groupby("customer_id")["churned"].max().sum()) > 0
    (True, True)
    """
    from .events import build_intervals

    first = histories.spells[histories.spells["spell"] == 1].merge(
        histories.customers, on="customer_id"
    )
    rows = build_intervals(
        first,
        histories.events,
        id_col="customer_id",
        start_col="start_date",
        stop_col="stop_date",
        event_col="churned",
        time_col="date",
        join_col="join_date",
        rules={"satisfaction": "last", "complaint": "count"},
        analysis_time=histories.analysis_date,
    )
    return rows.merge(histories.customers[["customer_id", "long_contract"]], on="customer_id")
