"""Customer lifetime value from the survival curve: per segment (Kaplan-Meier) and per customer (model).

Units
-----
Everything runs in **months**. Margins are converted to a monthly amount from the spec's
``value_period`` (``margin_period``); the discount rate is given per year and converted once,
``d_month = (1 + d_year)^(1/12) - 1``; tenure is converted from its unit. Margin accrues continuously
while the customer is active, so

``CLV(H) = m * integral_0^H S(t) (1 + d_month)^(-t) dt``

which with ``d = 0`` is margin x RMST(H), the restricted mean lifetime.

Segment CLV (:func:`clv_by_segment`) uses the **margin-weighted** Kaplan-Meier curve (frequency weights =
monthly margin), so ``mean(m) * integral S_w v^t`` estimates ``E[m_i * integral S_i v^t]`` even when
margin and churn are related. The curve is used up to the follow-up of the data (the last month with
``min_at_risk`` customers at risk); beyond it, up to the horizon, the survival curve is extended with
a constant hazard estimated over the last ``tail_window_months`` of follow-up. That part is an
**extrapolation**: it is reported as ``tail_share`` and raises an :class:`ExtrapolationWarning`.
Confidence intervals: customer bootstrap (percentile) within each segment.

Customer CLV (:func:`predict_clv`) uses a fitted Weibull AFT or Cox model (lifelines): each customer's
predicted survival, conditional on her current tenure for active customers (residual value), times her
margin, discounted.

References
----------
Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing Research*,
41(1), 7-18.
Berger, P. D. & Nasr, N. I. (1998). Customer lifetime value: marketing models and applications.
*Journal of Interactive Marketing*, 12(1), 17-30.
Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time. *BMC Medical Research
Methodology*, 13, 152.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..columns import check_alpha, check_grouping, column_name, months_per_unit, resolve
from ..exceptions import (
    DataQualityWarning,
    ExtrapolationWarning,
    ModelError,
    ParameterError,
    RowsExcludedWarning,
)
from ..results import Result, standard_meta
from ..survival.nonparametric import km_estimate, rmst_from_curve
from .money import (
    _tail_area,
    discounted_area,
    margin_available,
    monthly_discount_rate,
    resolve_margin,
    unavailable_result,
)

__all__ = ["CLVResult", "clv_by_segment"]


class CLVResult(Result):
    """Lifetime value per segment: ``summary`` (group, customers, margin_per_month, discounted_lifetime,
    estimate, se, ci_lower, ci_upper, tail_share, followup_months, horizon_months); ``tables['curves']``."""

    title = "Customer lifetime value by segment"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_clv

        return plot_clv(self, ax=ax, **kwargs)


def _segment_clv(
    t, e, m, *, horizon, monthly_rate, min_at_risk, tail_window, followup_cap, weighted
):
    """Point estimate for one segment; returns dict (clv, lifetime, tail area, tau, hazard, curve)."""
    w = m if weighted else None
    km = km_estimate(t, e, w)
    km_u = km_estimate(t, e)
    counts = km_u["at_risk"]
    ok = counts >= min_at_risk
    t_last = float(km_u["time"][ok].max()) if ok.any() else float(km_u["time"].max())
    tau = min(horizon, t_last)
    if followup_cap is not None:
        tau = min(tau, float(followup_cap))
    area = discounted_area(km["time"], km["survival"], tau, monthly_rate)
    idx = np.searchsorted(km["time"], tau, side="right") - 1
    s_tau = float(km["survival"][idx]) if idx >= 0 else 1.0
    tail = 0.0
    hazard = np.nan
    if horizon > tau + 1e-9:
        lo = max(tau - tail_window, 0.0)
        ww = np.ones_like(t) if w is None else w
        in_win = t > lo
        expo = float(np.sum(ww[in_win] * (np.minimum(t[in_win], tau) - lo)))
        ev = float(np.sum(ww[in_win & (t <= tau)] * e[in_win & (t <= tau)]))
        hazard = ev / expo if expo > 0 else np.nan
        if not np.isfinite(hazard):
            raise ModelError(
                "no customer-time in the tail window: cannot extend the survival curve. "
                "Lower `horizon_months` or widen `tail_window_months`."
            )
        tail = _tail_area(s_tau, tau, horizon, hazard, monthly_rate)
    mean_m = float(np.mean(m))
    return {
        "clv": mean_m * (area + tail),
        "lifetime": area + tail,
        "tail": tail,
        "tau": tau,
        "hazard": hazard,
        "km": km,
        "rmst": rmst_from_curve(km_u["time"], km_u["survival"], tau),
    }


def clv_by_segment(
    data,
    *,
    group_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    margin_col: str | None = None,
    revenue_col: str | None = None,
    margin_rate: float | None = None,
    margin_period: str | None = None,
    horizon_months: float = 60.0,
    discount_rate_yearly: float = 0.10,
    tail_window_months: float = 12.0,
    min_at_risk: int = 30,
    followup_months: float | None = None,
    n_boot: int = 200,
    seed: int = 0,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
) -> CLVResult:
    """Expected discounted margin of a new customer over ``horizon_months``, per segment, with CIs.

    Parameters
    ----------
    data : Dataset or DataFrame
    group_col : str, optional
        Segments (default: spec ``segment``; None -> all customers only). An ``all`` row is always added.
    margin_col, revenue_col, margin_rate, margin_period
        See :func:`resolve_margin`.
    horizon_months : float
        Horizon of the value (``inf`` for the whole lifetime, which is all extrapolation beyond follow-up).
    discount_rate_yearly : float
        In (0, 1); converted to a monthly rate.
    tail_window_months : float
        Window at the end of follow-up over which the tail's constant hazard is estimated.
    min_at_risk : int
        The Kaplan-Meier curve is used up to the last time with at least this many customers at risk.
    followup_months : float, optional
        Use the curve only up to this tenure (e.g. to check the tail against known data).
    n_boot : int
        Bootstrap replicates for the CIs (0: no CIs).
    seed : int
    alpha : float

    Returns
    -------
    CLVResult

    Raises
    ------
    ParameterError
        Discount rate outside (0, 1), non-positive horizon, no margin.
    DataValidationError
        Missing margin values.

    References
    ----------
    Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing
    Research*, 41(1), 7-18.
    """
    check_alpha(alpha)
    monthly_rate = monthly_discount_rate(discount_rate_yearly)
    if not isinstance(horizon_months, (int, float)) or not horizon_months > 0:
        raise ParameterError(
            f"`horizon_months` must be a positive number of months (or inf), got {horizon_months!r}."
        )
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ParameterError(f"`n_boot` must be a whole number >= 0, got {n_boot!r}.")
    group_col = column_name(
        data, group_col, argument="group_col", role="segment", required=False, func="clv_by_segment"
    )
    check_grouping(data, group_col, func="clv_by_segment")
    r = resolve(
        data,
        duration_col=duration_col,
        event_col=event_col,
        tenure_unit=tenure_unit,
        covariates=[],
        func="clv_by_segment",
    )
    f = r.frame
    meta = standard_meta(
        r,
        alpha=alpha,
        method="margin-weighted Kaplan-Meier x discount, constant-hazard tail; bootstrap percentile CIs",
        group_col=group_col,
        discount_rate_yearly=float(discount_rate_yearly),
        discount_rate_monthly=monthly_rate,
        horizon_months=float(horizon_months),
        n_boot=n_boot,
        time_unit="months",
        seed=seed,
    )
    reason = margin_available(data, margin_col=margin_col, revenue_col=revenue_col)
    if reason:
        return unavailable_result(CLVResult, reason, meta, key="group")
    m_all, source = resolve_margin(
        data,
        margin_col=margin_col,
        revenue_col=revenue_col,
        margin_rate=margin_rate,
        margin_period=margin_period,
    )
    t_all = r.duration * months_per_unit(r.unit)
    e_all = r.event
    warns: list[str] = []
    weighted = bool(np.all(m_all >= 0))
    if not weighted:
        msg = (
            f"{int((m_all < 0).sum()):,} customers have a negative margin: the survival curve is not margin-"
            "weighted (mean margin x unweighted curve), which ignores any link between margin and churn."
        )
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
        warns.append(msg)
    groups = [("all", np.ones(len(f), bool))]
    n_missing = 0
    if group_col:
        g = f[group_col].astype("object")
        n_missing = int(g.isna().sum())
        levels = (
            list(f[group_col].cat.categories)
            if isinstance(f[group_col].dtype, pd.CategoricalDtype)
            else sorted(pd.unique(g.dropna()), key=str)
        )
        groups += [(str(lvl), (g == lvl).to_numpy()) for lvl in levels if (g == lvl).any()]
        if n_missing:
            msg = f"{n_missing:,} customers have no '{group_col}' and appear only in the 'all' row."
            warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
            warns.append(msg)
    rng = np.random.default_rng(seed)
    kw = {
        "horizon": float(horizon_months),
        "monthly_rate": monthly_rate,
        "min_at_risk": min_at_risk,
        "tail_window": tail_window_months,
        "followup_cap": followup_months,
        "weighted": weighted,
    }
    rows, curves = [], []
    z_lo, z_hi = alpha / 2, 1 - alpha / 2
    extrap = []
    for label, msk in groups:
        t, e, m = t_all[msk], e_all[msk], m_all[msk]
        if msk.sum() < min_at_risk:
            msg = f"segment '{label}' has {int(msk.sum())} customers (< min_at_risk={min_at_risk}); its CLV is not estimated."
            warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
            warns.append(msg)
            continue
        est = _segment_clv(t, e, m, **kw)
        boots = []
        for _ in range(n_boot):
            i = rng.integers(0, t.size, t.size)
            boots.append(_segment_clv(t[i], e[i], m[i], **kw)["clv"])
        boots = np.asarray(boots)
        tail_share = est["tail"] / est["lifetime"] if est["lifetime"] > 0 else 0.0
        if est["tail"] > 0:
            extrap.append(f"{label} ({tail_share:.0%} of value beyond {est['tau']:.0f} months)")
        rows.append(
            {
                "group": label,
                "segment": label,
                "customers": int(msk.sum()),
                "margin_per_month": float(m.mean()),
                "rmst_months": est["rmst"],
                "discounted_lifetime_months": est["lifetime"],
                "estimate": est["clv"],
                "se": float(boots.std(ddof=1)) if n_boot > 1 else np.nan,
                "ci_lower": float(np.quantile(boots, z_lo)) if n_boot > 1 else np.nan,
                "ci_upper": float(np.quantile(boots, z_hi)) if n_boot > 1 else np.nan,
                "tail_share": tail_share,
                "tail_hazard": est["hazard"],
                "followup_months": est["tau"],
                "horizon_months": float(horizon_months),
            }
        )
        curves.append(
            pd.DataFrame(
                {"group": label, "time": est["km"]["time"], "survival": est["km"]["survival"]}
            )
        )
    if extrap:
        msg = (
            "lifetime value beyond the data's follow-up is extrapolated with a constant hazard estimated over "
            f"the last {tail_window_months:g} months: " + "; ".join(extrap) + "."
        )
        warnings.warn(msg, ExtrapolationWarning, stacklevel=2)
        warns.append(msg)
    meta.update(
        margin_source=source,
        method=("margin-weighted Kaplan-Meier" if weighted else "Kaplan-Meier x mean margin")
        + " x discount, constant-hazard tail; bootstrap percentile CIs",
    )
    return CLVResult(
        pd.DataFrame(rows),
        meta,
        tables={"curves": pd.concat(curves, ignore_index=True)} if curves else {},
        warnings=warns,
        key="group",
    )
