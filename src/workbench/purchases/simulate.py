"""Purchase histories with known parameters, for truth-recovery tests and examples.

Customers join uniformly over ``cohort_length`` (in the time unit), are observed to
``calibration_length`` and then over a holdout of ``holdout_length``. Purchasing and drop-out follow
the model's own story exactly:

* BG/NBD: ``lambda ~ Gamma(r, rate alpha)``, ``p ~ Beta(a, b)``; purchases are Poisson(lambda); after
  each repeat purchase the customer drops out with probability ``p``;
* Pareto/NBD: ``lambda ~ Gamma(r, rate alpha)``, lifetime ``~ Exp(mu)``, ``mu ~ Gamma(s, rate beta)``;
* spend (Gamma-Gamma): ``nu ~ Gamma(q, rate gamma)``, each purchase's value ``~ Gamma(p, rate nu)``.

The result is a :class:`CustomerSummary` (``meta['truth']`` holds the parameters) whose
``customers`` table has the calibration summary, the holdout counts and, with spend parameters, the
mean repeat spend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from .summary import CustomerSummary, _describe

__all__ = ["coverage_study", "simulate_bgnbd", "simulate_paretonbd"]


def _check(n, **pos):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"`n_customers` must be a positive integer, got {n!r}.")
    for k, v in pos.items():
        if v is not None and not (np.isfinite(v) and v > 0):
            raise ParameterError(f"`{k}` must be a positive number, got {v!r}.")


def _histories(rng, lam, cap, life, birth, cal, hold):
    """Sorted purchase times (since each customer's first purchase) within her window, ragged."""
    window = np.minimum(cal + hold - birth, life)
    # the Poisson process on the window: N ~ Poisson(lam * window) uniform times; keep the first ``cap``
    total = rng.poisson(lam * window)
    keep_n = np.minimum(total, cap)
    owner = np.repeat(np.arange(lam.size), total)
    times = rng.random(owner.size) * np.repeat(window, total)
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    start = np.concatenate([[0], np.cumsum(total)[:-1]])
    rank = np.arange(owner.size) - np.repeat(start, total)
    keep = rank < np.repeat(keep_n, total)
    return owner[keep], times[keep]


def _summarise(n, owner, times, birth, cal, hold, spend, rng, truth, unit):
    T = cal - birth
    in_cal = times <= T[owner]
    x = np.bincount(owner[in_cal], minlength=n).astype(float)
    tx = np.zeros(n)
    np.maximum.at(tx, owner[in_cal], times[in_cal])
    x_hold = np.bincount(owner[~in_cal], minlength=n).astype(float)
    early = in_cal & (times <= T[owner] / 2)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "first_purchase": birth,
            "frequency": x,
            "recency": tx,
            "T": T,
            "frequency_holdout": x_hold,
            "repeat_first_half": np.bincount(owner[early], minlength=n).astype(float),
            "repeat_second_half": x - np.bincount(owner[early], minlength=n),
        }
    )
    if spend is not None:
        p, q, g = spend
        nu = rng.gamma(q, 1.0 / g, n)
        vals = rng.gamma(p, 1.0 / nu[owner[in_cal]])
        tot = np.bincount(owner[in_cal], weights=vals, minlength=n)
        frame["monetary_value"] = np.where(x > 0, tot / np.maximum(x, 1), np.nan)
        truth = {**truth, "p": p, "q": q, "gamma": g}
    else:
        frame["monetary_value"] = np.nan
    frame["first_amount"] = np.nan
    frame["monetary_holdout"] = np.nan
    # repeat purchases per period since the cohort start (calibration and holdout)
    abs_t = birth[owner] + times
    n_periods = int(np.ceil(cal + hold))
    counts = np.bincount(np.minimum(abs_t.astype(int), n_periods - 1), minlength=n_periods)
    tracking = pd.DataFrame(
        {
            "period": np.arange(n_periods),
            "repeat_purchases": counts.astype(float),
            "period_end": np.minimum(np.arange(1, n_periods + 1), cal + hold),
            "holdout": np.arange(1, n_periods + 1) > cal,
        }
    )
    meta = {
        "n": n,
        "time_unit": unit,
        "calibration_length": cal,
        "holdout_length": hold,
        "method": "simulated",
        "truth": truth,
        "exclusions": [],
        "fingerprint": None,
        "dataset": f"simulated {truth['model']}",
    }
    return CustomerSummary(
        _describe(frame, unit), meta, tables={"customers": frame, "tracking": tracking}
    )


def _simulate(model, n_customers, params, *, spend, lengths, seed, time_unit) -> CustomerSummary:
    """The one draw of both models: purchase rates ``lambda ~ Gamma(r, rate alpha)``, the model's
    drop-out (BG/NBD: the number of repeat purchases until drop-out, geometric with ``p ~ Beta(a,
    b)``; Pareto/NBD: an exponential lifetime with ``mu ~ Gamma(s, rate beta)``), joining times, the
    Poisson purchases within each customer's window, then the calibration / holdout summary."""
    cohort, cal, hold = lengths
    _check(n_customers, **params, cohort_length=cohort, calibration_length=cal, holdout_length=hold)
    if cohort >= cal:
        raise ParameterError(
            f"`cohort_length` ({cohort}) must be shorter than `calibration_length` ({cal})."
        )
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    if model == "BG/NBD":
        # repeat purchases until (and including) the one after which she drops out
        cap = rng.geometric(rng.beta(params["a"], params["b"], n))
        life = np.full(n, np.inf)
    else:
        life = rng.exponential(1.0 / rng.gamma(params["s"], 1.0 / params["beta"], n))
        cap = np.full(n, np.iinfo(np.int64).max)
    birth = rng.random(n) * cohort
    owner, times = _histories(rng, lam, cap, life, birth, cal, hold)
    truth = {"model": model, **params}
    return _summarise(n, owner, times, birth, cal, hold, spend, rng, truth, time_unit)


def simulate_bgnbd(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    spend: tuple[float, float, float] | None = None,
    cohort_length: float = 12.0,
    calibration_length: float = 39.0,
    holdout_length: float = 39.0,
    seed: int = 0,
    time_unit: str = "weeks",
) -> CustomerSummary:
    """Simulate BG/NBD purchase histories (optionally with Gamma-Gamma spend ``(p, q, gamma)``).

    Examples
    --------
    >>> s = simulate_bgnbd(1000, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=1)
    >>> len(s.customers), s.meta["truth"]["r"]
    (1000, 0.25)
    """
    return _simulate(
        "BG/NBD",
        n_customers,
        {"r": r, "alpha": alpha, "a": a, "b": b},
        spend=spend,
        lengths=(cohort_length, calibration_length, holdout_length),
        seed=seed,
        time_unit=time_unit,
    )


def simulate_paretonbd(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    spend: tuple[float, float, float] | None = None,
    cohort_length: float = 12.0,
    calibration_length: float = 39.0,
    holdout_length: float = 39.0,
    seed: int = 0,
    time_unit: str = "weeks",
) -> CustomerSummary:
    """Simulate Pareto/NBD purchase histories (optionally with Gamma-Gamma spend)."""
    return _simulate(
        "Pareto/NBD",
        n_customers,
        {"r": r, "alpha": alpha, "s": s, "beta": beta},
        spend=spend,
        lengths=(cohort_length, calibration_length, holdout_length),
        seed=seed,
        time_unit=time_unit,
    )


#: the truth used by the coverage study (close to the CDNOW estimates)
COVERAGE_TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 4.0, "gamma": 15.0}


def coverage_study(
    n_reps: int,
    n_customers: int,
    *,
    truth: dict | None = None,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Share of ``n_reps`` simulated data sets whose interval covers each true parameter.

    Each replication simulates BG/NBD histories with Gamma-Gamma spend (``truth``: ``r, alpha, a,
    b, p, q, gamma``), fits :func:`fit_bgnbd` and :func:`fit_gammagamma` and records whether each
    ``1 - alpha`` interval holds the truth. Replications whose fit warns are counted
    (``n_warned``) and kept.

    Returns
    -------
    DataFrame
        One row per parameter: ``term``, ``truth``, ``coverage``, ``n_reps``, ``mean_estimate``,
        ``mean_se``, ``sd_estimate``, ``n_warned``.
    """
    import warnings as _w

    from ..exceptions import WorkbenchWarning
    from .bgnbd import fit_bgnbd
    from .gammagamma import fit_gammagamma

    t = dict(COVERAGE_TRUTH if truth is None else truth)
    rows: dict[str, list] = {k: [] for k in ("r", "alpha", "a", "b", "p", "q", "gamma")}
    warned = 0
    for i in range(int(n_reps)):
        s = simulate_bgnbd(
            n_customers,
            r=t["r"],
            alpha=t["alpha"],
            a=t["a"],
            b=t["b"],
            spend=(t["p"], t["q"], t["gamma"]),
            seed=seed + i,
        )
        with _w.catch_warnings(record=True) as caught:
            _w.simplefilter("always", WorkbenchWarning)
            fits = (fit_bgnbd(s, alpha=alpha), fit_gammagamma(s, alpha=alpha))
        warned += any(issubclass(c.category, WorkbenchWarning) for c in caught)
        for f in fits:
            for _, row in f.summary.iterrows():
                rows[row["term"]].append(
                    (row["estimate"], row["se"], row["ci_lower"], row["ci_upper"])
                )
    out = []
    for k, v in rows.items():
        a = np.array(v, float)
        cover = (a[:, 2] <= t[k]) & (t[k] <= a[:, 3])
        out.append(
            {
                "term": k,
                "truth": t[k],
                "coverage": float(cover.mean()),
                "n_reps": len(a),
                "mean_estimate": float(a[:, 0].mean()),
                "mean_se": float(a[:, 1].mean()),
                "sd_estimate": float(a[:, 0].std(ddof=1)),
                "n_warned": warned,
            }
        )
    return pd.DataFrame(out)
