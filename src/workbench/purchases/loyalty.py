"""RFM segments and the seeds' loyalty measures, per customer and per segment.

Per customer (all in the summary's time unit, over the calibration period):

* ``repeat_buyer``: made at least one repeat purchase;
* ``purchase_rate``: repeat purchases per time unit since the first purchase (``x / T``);
* ``interpurchase_time``: mean time between purchases, ``recency / x`` (repeat buyers only);
* ``frequency_trend``: repeat purchases per time unit in the second half of the customer's own
  window minus those in the first half (negative = buying less often; the seeds' "frequency decline");
* ``time_since_last``: ``T - recency``;
* ``sleeping``: no purchase for more than ``k`` typical inter-purchase times. The typical time is the
  customer's own mean inter-purchase time, or for customers without a repeat purchase the median over
  repeat buyers (stated in ``meta``).

RFM scores are quantile groups (1 = lowest, ``n_groups`` = highest) of recency (shorter time since
the last purchase scores higher), frequency and mean spend, ties broken by order of appearance;
``rfm_cell`` is e.g. ``R5F3M2``. The segment table summarises the loyalty measures by R score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..results import Result
from ._mle import complete_meta
from .summary import CustomerSummary

__all__ = ["LoyaltyResult", "loyalty_measures"]


class LoyaltyResult(Result):
    """``summary``: loyalty measures per R-score segment and overall; ``tables['customers']``."""

    title = "RFM segments and loyalty measures"

    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]


def _score(values: np.ndarray, n_groups: int, higher_is_better: bool = True) -> np.ndarray:
    v = (
        np.where(np.isnan(values), -np.inf, values)
        if higher_is_better
        else np.where(np.isnan(values), np.inf, -values)
    )
    ranks = pd.Series(v).rank(method="first").to_numpy()
    return (np.floor((ranks - 1) * n_groups / len(v)) + 1).astype(int)


def loyalty_measures(
    summary: CustomerSummary, *, k: float = 2.0, n_groups: int = 5
) -> LoyaltyResult:
    """Loyalty measures and RFM segments of the calibration cohort.

    Parameters
    ----------
    summary : CustomerSummary
        From :func:`rfm_summary`.
    k : float
        A customer is sleeping after ``k`` typical inter-purchase times without a purchase.
    n_groups : int
        Quantile groups per R, F and M score (5 = quintiles).

    Returns
    -------
    LoyaltyResult

    Raises
    ------
    ParameterError
        ``k`` not positive, ``n_groups`` below 2, or a summary without the half-window counts.
    """
    if not isinstance(summary, CustomerSummary):
        raise ParameterError(
            f"`summary` must be the CustomerSummary from rfm_summary, got {type(summary).__name__}."
        )
    if isinstance(k, bool) or not (isinstance(k, (int, float)) and k > 0):
        raise ParameterError(
            f"`k` (typical inter-purchase times before a customer counts as sleeping) must be > 0, got {k!r}."
        )
    if not isinstance(n_groups, (int, np.integer)) or n_groups < 2:
        raise ParameterError(f"`n_groups` must be an integer >= 2, got {n_groups!r}.")
    c = summary.customers
    if "repeat_first_half" not in c:
        raise ParameterError(
            "the summary lacks the half-window counts; build it with rfm_summary() from a transaction log."
        )
    x, tx, T = (c[n].to_numpy(float) for n in ("frequency", "recency", "T"))
    rep = x > 0
    ipt = np.where(rep, tx / np.maximum(x, 1), np.nan)
    typical_cohort = float(np.nanmedian(ipt)) if rep.any() else np.nan
    typical = np.where(rep, ipt, typical_cohort)
    since = T - tx
    half = np.where(T > 0, T / 2, np.nan)
    trend = (
        c["repeat_second_half"].to_numpy(float) - c["repeat_first_half"].to_numpy(float)
    ) / half
    out = pd.DataFrame(
        {
            "customer_id": c["customer_id"].to_numpy(),
            "repeat_buyer": rep,
            "purchase_rate": np.where(T > 0, x / np.where(T > 0, T, 1), np.nan),
            "interpurchase_time": ipt,
            "frequency_trend": trend,
            "time_since_last": since,
            "sleeping": since > k * typical,
            "R": _score(since, n_groups, higher_is_better=False),
            "F": _score(x, n_groups),
            "M": _score(c["monetary_value"].to_numpy(float), n_groups),
        }
    )
    out["rfm_cell"] = (
        "R" + out["R"].astype(str) + "F" + out["F"].astype(str) + "M" + out["M"].astype(str)
    )

    def agg(df, name):
        return {
            "group": name,
            "n": len(df),
            "repeat_purchase_rate": float(df["repeat_buyer"].mean()),
            "purchase_rate": float(df["purchase_rate"].mean()),
            "interpurchase_time": float(df["interpurchase_time"].mean()),
            "frequency_trend": float(df["frequency_trend"].mean()),
            "sleeping_share": float(df["sleeping"].mean()),
            "estimate": float(df["repeat_buyer"].mean()),
        }

    rows = [agg(g, f"R{r}") for r, g in out.groupby("R")] + [agg(out, "all")]
    unit = summary.meta.get("time_unit")
    meta = {
        "n": len(out),
        "k": k,
        "n_groups": n_groups,
        "time_unit": unit,
        "typical_interpurchase_time_cohort": typical_cohort,
        "sleeping_rule": (
            f"no purchase for more than {k:g} x the customer's mean inter-purchase time (customers without a "
            f"repeat purchase: {k:g} x the repeat buyers' median, {typical_cohort:.3g} {unit or 'periods'})"
        ),
        "method": "calibration-period loyalty measures; R/F/M quantile scores",
        "fingerprint": summary.meta.get("fingerprint"),
    }
    meta = complete_meta(meta, events=int(x.sum()), exclusions=summary.meta.get("exclusions"))
    return LoyaltyResult(pd.DataFrame(rows), meta, tables={"customers": out})
