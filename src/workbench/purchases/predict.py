"""Per-customer predictions with intervals: P(alive), expected purchases, expected spend, discounted CLV.

Point predictions use the maximum-likelihood parameters. Intervals come from a parametric bootstrap
over the parameters' sampling distribution: ``n_draws`` parameter vectors from the normal
approximation on the log scale (the fit's Hessian), for the purchase model and, independently, the
spend model; each customer's quantity is recomputed under every draw and the ``alpha/2`` and
``1 - alpha/2`` quantiles are reported. These intervals carry parameter uncertainty only; a single
customer's realised purchases scatter far more (they are counts).

Discounted CLV over a ``horizon`` (in the summary's time unit) with a ``discount_rate`` per time unit::

    CLV_i = margin * E[spend_i] * sum_k (E[Y_i(t_k)] - E[Y_i(t_{k-1})]) / (1 + d)^(t_k)

with ``t_k = k * step`` (``step`` time units per discounting period, default 1; the last step ends at the
horizon): purchases expected in each period are discounted to its end. With ``discount_rate = 0`` it
is ``margin * E[spend] * E[Y(horizon)]``.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for customer
base analysis. *Journal of Marketing Research*, 42(4), 415-430.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..checks import check_alpha
from ..exceptions import ParameterError
from ..results import Result
from ._mle import PurchaseModelResult, complete_meta
from .gammagamma import GammaGamma, expected_spend

__all__ = ["CustomerPredictionResult", "predict_customers", "clv_weights", "check_discount_rate"]


def check_discount_rate(rate, time_unit: str | None = None) -> float:
    """A discount rate per time unit in [0, 1); refuses 10 meant as 10 %."""
    try:
        d = float(rate)
    except (TypeError, ValueError):
        d = float("nan")
    if isinstance(rate, bool) or not 0 <= d < 1:
        per = f" per {time_unit.rstrip('s')}" if time_unit else " per period"
        raise ParameterError(
            f"`discount_rate` must be a rate{per} in [0, 1), e.g. 0.0018 for about 10% a year on weekly data; "
            f"got {rate!r}. Write 10% as 0.10, not 10."
        )
    return d


def _check_positive(name, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, bool) or not (math.isfinite(v) and v > 0):
        raise ParameterError(f"`{name}` must be a positive number, got {value!r}.")
    return v


def clv_weights(horizon: float, step: float, discount_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """The period ends ``t_k`` and their discount factors ``(1 + d)^(-t_k)``."""
    k = int(math.ceil(horizon / step - 1e-12))
    ends = np.minimum(np.arange(1, k + 1) * step, horizon)
    return ends, (1.0 + discount_rate) ** (-ends)


class CustomerPredictionResult(Result):
    """Per-customer predictions (``tables['customers']``) and their totals (``summary``)."""

    title = "Customer predictions"

    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]

    def plot(self, ax=None, **kwargs):
        from ..plotting.purchases import plot_p_alive_value

        return plot_p_alive_value(self, ax=ax, **kwargs)


def _quantities(model, theta, data, horizon, ends, disc, spend):
    pa = model.p_alive(theta, *data)
    ce_h = model.conditional_expected_purchases(theta, horizon, *data)
    if spend is None:
        return pa, ce_h, None
    prev = np.zeros_like(ce_h)
    dce = np.zeros_like(ce_h)
    for t, f in zip(ends, disc):
        cur = ce_h if t == horizon else model.conditional_expected_purchases(theta, t, *data)
        dce += (cur - prev) * f
        prev = cur
    return pa, ce_h, dce * spend


def predict_customers(
    fit: PurchaseModelResult,
    summary=None,
    *,
    horizon: float,
    spend_fit: PurchaseModelResult | None = None,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    step: float = 1.0,
    alpha: float | None = None,
    n_draws: int = 200,
    seed: int = 0,
) -> CustomerPredictionResult:
    """Predict every customer's P(alive), purchases in the next ``horizon``, spend and CLV.

    Parameters
    ----------
    fit : PurchaseModelResult
        A BG/NBD, Pareto/NBD, MBG/NBD (or BG/BB) fit.
    summary : CustomerSummary, optional
        Customers to predict (default: those the model was fitted on); needs ``customer_id``,
        ``frequency``, ``recency``, ``T`` and, for spend, ``monetary_value``.
    horizon : float
        Prediction horizon in the summary's time unit (e.g. 52 for a year of weeks).
    spend_fit : PurchaseModelResult, optional
        A Gamma-Gamma fit; without it no spend or CLV is predicted.
    discount_rate : float
        Discount rate per time unit, in [0, 1).
    margin : float
        Share of spend that is profit (1 = CLV in revenue).
    step : float
        Length of a discounting period in time units (purchases are discounted to its end).
    alpha : float, optional
        Interval level (default: the fit's).
    n_draws : int
        Parameter draws for the intervals (0 = point predictions only, the fast path).
    seed : int

    Returns
    -------
    CustomerPredictionResult
        ``tables['customers']``: ``customer_id``, ``p_alive``, ``expected_purchases``,
        ``expected_spend``, ``clv``, each with ``*_lower`` / ``*_upper``; ``summary``: totals and
        means with intervals.

    Raises
    ------
    ParameterError
        Horizon, step or margin not positive; discount rate outside [0, 1); n_draws negative.
    """
    if not isinstance(fit, PurchaseModelResult) or not hasattr(fit.model, "p_alive"):
        raise ParameterError(
            f"`fit` must be a purchase-model fit (fit_bgnbd, fit_paretonbd, fit_mbgnbd), got {type(fit).__name__}."
        )
    alpha = check_alpha(fit.meta["alpha"] if alpha is None else alpha)
    horizon = _check_positive("horizon", horizon)
    step = _check_positive("step", step)
    margin = _check_positive("margin", margin)
    unit = fit.meta.get("time_unit")
    d = check_discount_rate(discount_rate, unit)
    if not isinstance(n_draws, (int, np.integer)) or isinstance(n_draws, bool) or n_draws < 0:
        raise ParameterError(f"`n_draws` must be a non-negative integer, got {n_draws!r}.")
    if summary is None:
        data = fit.data_
        ids = np.arange(1, data[0].size + 1)
        mval = None
    else:
        from ._mle import summary_data

        data, _ = summary_data(summary)
        frame = getattr(summary, "customers", summary)
        ids = (
            frame["customer_id"].to_numpy()
            if "customer_id" in frame
            else np.arange(1, data[0].size + 1)
        )
        mval = frame["monetary_value"].to_numpy(float) if "monetary_value" in frame else None
    if spend_fit is not None:
        if spend_fit.model is not GammaGamma:
            raise ParameterError(
                f"`spend_fit` must be a Gamma-Gamma fit, got {spend_fit.model.name}."
            )
        if mval is None:
            raise ParameterError(
                "spend predictions need the summary with `monetary_value`; pass `summary=`."
            )
        if spend_fit.params_["q"] <= 1:
            raise ParameterError(
                f"the Gamma-Gamma fit has q = {spend_fit.params_['q']:.3g} <= 1: the population mean spend is "
                "infinite, so spend and CLV cannot be predicted."
            )
    ends, disc = clv_weights(horizon, step, d)
    x = data[0]

    def spend_at(theta_s):
        return None if spend_fit is None else expected_spend(theta_s, x, mval)

    sp = spend_at(spend_fit.theta if spend_fit is not None else None)
    pa, ce, val = _quantities(fit.model, fit.theta, data, horizon, ends, disc, sp)
    out = {"customer_id": ids, "p_alive": pa, "expected_purchases": ce}
    if sp is not None:
        out["expected_spend"] = sp
        out["clv"] = margin * val
    cols = list(out)[1:]
    totals = {c: [] for c in cols}
    if n_draws:
        draws = fit.draw_parameters(n_draws, seed)
        sdraws = (
            spend_fit.draw_parameters(n_draws, seed + 1)
            if spend_fit is not None
            else [None] * n_draws
        )
        stacks = {c: np.empty((n_draws, x.size)) for c in cols}
        for j in range(n_draws):
            sp_j = spend_at(sdraws[j]) if spend_fit is not None else None
            pa_j, ce_j, val_j = _quantities(fit.model, draws[j], data, horizon, ends, disc, sp_j)
            vals = {"p_alive": pa_j, "expected_purchases": ce_j}
            if sp_j is not None:
                vals.update(expected_spend=sp_j, clv=margin * val_j)
            for c in cols:
                stacks[c][j] = vals[c]
                totals[c].append(
                    vals[c].mean() if c in ("p_alive", "expected_spend") else vals[c].sum()
                )
        for c in cols:
            out[f"{c}_lower"], out[f"{c}_upper"] = np.quantile(
                stacks[c], [alpha / 2, 1 - alpha / 2], axis=0
            )
    customers = pd.DataFrame(out)
    labels = {
        "p_alive": ("mean P(alive)", "mean"),
        "expected_purchases": (
            f"expected purchases in the next {horizon:g} {unit or 'periods'} (all customers)",
            "sum",
        ),
        "expected_spend": ("mean expected spend per purchase", "mean"),
        "clv": (f"discounted CLV over {horizon:g} {unit or 'periods'} (all customers)", "sum"),
    }
    rows = []
    for c in cols:
        term, how = labels[c]
        est = float(getattr(customers[c], how)())
        lo, hi = np.quantile(totals[c], [alpha / 2, 1 - alpha / 2]) if n_draws else (np.nan, np.nan)
        rows.append(
            {
                "term": term,
                "quantity": c,
                "estimate": est,
                "ci_lower": float(lo),
                "ci_upper": float(hi),
            }
        )
    meta = {
        "n": int(x.size),
        "alpha": alpha,
        "method": f"{fit.model.name} predictions; parametric bootstrap over the parameters ({n_draws} draws)",
        "model": fit.model.name,
        "horizon": horizon,
        "time_unit": unit,
        "discount_rate": d,
        "discount_rate_per": unit,
        "step": step,
        "margin": margin,
        "n_draws": int(n_draws),
        "fingerprint": fit.meta.get("fingerprint"),
        "interval": "parameter uncertainty only (parametric bootstrap), not the spread of one customer's purchases",
    }
    meta = complete_meta(meta, events=fit.meta.get("events"), exclusions=fit.meta.get("exclusions"))
    return CustomerPredictionResult(pd.DataFrame(rows), meta, tables={"customers": customers})
