"""Decisions: a retention / win-back priority list by value tier, with pseudonymised customer ids.

Value tiers (the seeds' key / ordinary / small customers) are cut on the customers' expected value
*if still alive* (``CLV / P(alive)``): the top ``key_share`` are key customers, the next
``ordinary_share`` ordinary, the rest small. Each customer's value at risk is the value she would
bring if alive times the probability she is already lost, ``(1 - P(alive)) * value if alive``:
that is what a successful retention or win-back contact could recover. Status bands on P(alive):
``active`` (>= ``active_above``), ``hesitating`` (between; the window in which to act), ``lapsed``
(< ``lapsed_below``).

The budget per customer is a share of her value if alive that depends on the tier
(``invest_share``): fight hardest for key customers, spend little on small ones. The list is ranked
by value at risk within tier (key first). Customer ids are replaced by keyed pseudonyms
(:mod:`workbench.privacy`) unless ``pseudonymise=False`` is asked for internal use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..privacy import pseudonymise_ids
from ..results import Result
from ._mle import complete_meta
from .predict import CustomerPredictionResult

__all__ = ["PriorityListResult", "priority_list", "TIERS"]

TIERS = ("key", "ordinary", "small")
ACTIONS = {
    ("key", "hesitating"): "retain now: personal contact within the hesitation window",
    ("key", "lapsed"): "win back: personal contact, learn the reason, targeted remedy",
    ("key", "active"): "maintain: regular (monthly) contact",
    ("ordinary", "hesitating"): "retain: targeted offer",
    ("ordinary", "lapsed"): "win back: low-cost reactivation offer",
    ("ordinary", "active"): "maintain: quarterly contact",
    ("small", "hesitating"): "standard reminder only",
    ("small", "lapsed"): "no spend: let go",
    ("small", "active"): "standard communication",
}


class PriorityListResult(Result):
    """``tables['customers']``: the ranked list; ``summary``: one row per tier x status."""

    title = "Retention and win-back priorities"

    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]

    def plot(self, ax=None, **kwargs):
        from ..plotting.purchases import plot_priority

        return plot_priority(self, ax=ax, **kwargs)


def _share(name, v, lo=0.0, hi=1.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        f = float("nan")
    if isinstance(v, bool) or not lo < f < hi:
        raise ParameterError(f"`{name}` must be a number in ({lo:g}, {hi:g}), got {v!r}.")
    return f


def priority_list(
    predictions: CustomerPredictionResult,
    *,
    key_share: float = 0.2,
    ordinary_share: float = 0.5,
    active_above: float = 0.7,
    lapsed_below: float = 0.3,
    invest_share: dict | None = None,
    pseudonymise: bool = True,
    key: str | bytes | None = None,
) -> PriorityListResult:
    """Rank customers for retention and win-back by value tier and value at risk.

    Parameters
    ----------
    predictions : CustomerPredictionResult
        From :func:`predict_customers` with a spend model (needs ``clv``).
    key_share, ordinary_share : float
        Shares of customers (by value if alive) in the key and ordinary tiers; the rest are small.
    active_above, lapsed_below : float
        P(alive) bands: active, hesitating in between, lapsed.
    invest_share : dict, optional
        Share of the value if alive worth spending per tier (default key 0.3, ordinary 0.15, small 0.03).
    pseudonymise : bool
        Replace customer ids with keyed pseudonyms (default; reports never show real ids).
    key : str or bytes, optional
        Pseudonym key (see :mod:`workbench.privacy`).

    Returns
    -------
    PriorityListResult

    Raises
    ------
    ParameterError
        Predictions without CLV; shares or bands outside (0, 1) or inconsistent.
    """
    if not isinstance(predictions, CustomerPredictionResult) or "clv" not in predictions.customers:
        raise ParameterError(
            "priority_list needs customer predictions with CLV: predict_customers(fit, summary, horizon=..., "
            "spend_fit=fit_gammagamma(summary))."
        )
    ks, os_ = _share("key_share", key_share), _share("ordinary_share", ordinary_share)
    if ks + os_ >= 1:
        raise ParameterError(
            f"key_share + ordinary_share must be below 1 (the rest are small customers), got {ks + os_:g}."
        )
    hi, lo = _share("active_above", active_above), _share("lapsed_below", lapsed_below)
    if not lo < hi:
        raise ParameterError(f"`lapsed_below` ({lo}) must be below `active_above` ({hi}).")
    inv = {"key": 0.3, "ordinary": 0.15, "small": 0.03}
    if invest_share is not None:
        unknown = set(invest_share) - set(TIERS)
        if unknown:
            raise ParameterError(
                f"invest_share has unknown tier(s) {sorted(unknown)}; tiers are {list(TIERS)}."
            )
        inv.update(
            {
                k: _share(f"invest_share[{k!r}]", v, 0.0, 1.0 + 1e-12)
                for k, v in invest_share.items()
            }
        )
    c = predictions.customers
    pa = c["p_alive"].to_numpy(float)
    clv = c["clv"].to_numpy(float)
    value_alive = np.where(pa > 0, clv / np.maximum(pa, 1e-12), 0.0)
    rank = pd.Series(value_alive).rank(ascending=False, method="first").to_numpy()
    n = len(c)
    tier = np.where(rank <= ks * n, "key", np.where(rank <= (ks + os_) * n, "ordinary", "small"))
    status = np.where(pa >= hi, "active", np.where(pa < lo, "lapsed", "hesitating"))
    at_risk = (1 - pa) * value_alive
    out = pd.DataFrame(
        {
            "customer_id": c["customer_id"].to_numpy(),
            "tier": pd.Categorical(tier, categories=list(TIERS), ordered=True),
            "status": status,
            "p_alive": pa,
            "clv": clv,
            "value_if_alive": value_alive,
            "value_at_risk": at_risk,
            "budget": value_alive * np.array([inv[t] for t in tier]),
            "action": [ACTIONS[(t, s)] for t, s in zip(tier, status)],
        }
    )
    out = out.sort_values(
        ["tier", "value_at_risk"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
    out.insert(0, "priority", np.arange(1, n + 1))
    if pseudonymise:
        out = pseudonymise_ids(out, "customer_id", key=key)
    grp = out.groupby(["tier", "status"], observed=True)
    summary = grp.agg(
        n=("priority", "size"),
        mean_p_alive=("p_alive", "mean"),
        value_at_risk=("value_at_risk", "sum"),
        budget=("budget", "sum"),
        clv=("clv", "sum"),
    ).reset_index()
    summary.insert(0, "group", summary["tier"].astype(str) + " / " + summary["status"])
    summary["estimate"] = summary["value_at_risk"]
    summary["action"] = [ACTIONS[(t, s)] for t, s in zip(summary["tier"], summary["status"])]
    meta = {
        "n": n,
        "method": "value tiers by value if alive; value at risk = (1 - P(alive)) x value if alive",
        "key_share": ks,
        "ordinary_share": os_,
        "bands": {"active_above": hi, "lapsed_below": lo},
        "invest_share": inv,
        "pseudonymised": bool(pseudonymise),
        "horizon": predictions.meta.get("horizon"),
        "time_unit": predictions.meta.get("time_unit"),
        "fingerprint": predictions.meta.get("fingerprint"),
        "alpha": predictions.meta.get("alpha"),
    }
    meta = complete_meta(
        meta, events=predictions.meta.get("events"), exclusions=predictions.meta.get("exclusions")
    )
    return PriorityListResult(summary, meta, tables={"customers": out})
