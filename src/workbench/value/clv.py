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

import math
import warnings

import numpy as np
import pandas as pd

from ..exceptions import (
    DataQualityWarning,
    DataValidationError,
    ExtrapolationWarning,
    ModelError,
    ParameterError,
    RowsExcludedWarning,
)
from ..results import Result
from ..retention import _check_alpha, _frame_and_cols, _to_months_factor
from ..survival.nonparametric import km_estimate, rmst_from_curve

PERIOD_TO_MONTHS = {"day": 1 / 30.4375, "week": 7 / 30.4375, "month": 1.0, "year": 12.0}

__all__ = [
    "CLVResult",
    "CustomerValueResult",
    "clv_by_segment",
    "discounted_area",
    "monthly_discount_rate",
    "predict_clv",
    "resolve_margin",
]


# ------------------------------------------------------------------------------------- units
def monthly_discount_rate(discount_rate_yearly: float) -> float:
    """Convert a yearly discount rate to the equivalent monthly rate: ``(1 + r)^(1/12) - 1``.

    Raises
    ------
    ParameterError
        If the rate is not in (0, 1) (e.g. 10 meant as 10%).

    Examples
    --------
    >>> round(monthly_discount_rate(0.10), 6)
    0.007974
    """
    try:
        r = float(discount_rate_yearly)
    except (TypeError, ValueError):
        raise ParameterError(
            f"`discount_rate_yearly` must be a number in (0, 1), got {discount_rate_yearly!r}."
        ) from None
    if not 0 < r < 1:
        raise ParameterError(
            f"`discount_rate_yearly` must be in (0, 1), e.g. 0.10 for 10% a year, got {discount_rate_yearly!r}. "
            "Write percentages as fractions (10% -> 0.10)."
        )
    return (1.0 + r) ** (1.0 / 12.0) - 1.0


def discounted_area(time, survival, horizon: float, monthly_rate: float) -> float:
    """``integral_0^H S(t) (1 + d)^(-t) dt`` of a right-continuous step curve (exact per step).

    ``time`` / ``survival`` as for :func:`workbench.survival.rmst_from_curve`; with ``monthly_rate``
    0 the two agree.
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(survival, dtype=float)
    keep = t <= horizon
    grid = np.concatenate([[0.0], t[keep], [float(horizon)]])
    level = np.concatenate([[1.0], s[keep]])
    if monthly_rate == 0:
        return float(np.sum(np.diff(grid) * level))
    delta = math.log1p(monthly_rate)
    pieces = (np.exp(-delta * grid[:-1]) - np.exp(-delta * grid[1:])) / delta
    return float(np.sum(level * pieces))


def _tail_area(
    s_tau: float, tau: float, horizon: float, hazard: float, monthly_rate: float
) -> float:
    """``integral_tau^H s_tau exp(-hazard (t - tau)) (1+d)^(-t) dt`` (``H`` may be inf)."""
    delta = math.log1p(monthly_rate)
    k = hazard + delta
    if k <= 0:
        return s_tau * (horizon - tau)
    span = horizon - tau
    frac = 1.0 if not math.isfinite(span) else -math.expm1(-k * span)
    return s_tau * math.exp(-delta * tau) * frac / k


def resolve_margin(
    data, *, margin_col=None, revenue_col=None, margin_rate=None, margin_period=None
) -> tuple:
    """Monthly margin per customer, and a sentence saying where it came from.

    ``margin_col`` (default: spec ``margin``) is used as is; otherwise ``revenue_col`` (default: spec
    ``revenue``) times ``margin_rate`` (a stated assumption, required then). Amounts are per
    ``margin_period`` (default: spec ``value_period``, else 'month') and converted to months.

    Raises
    ------
    DataValidationError
        Missing or non-numeric margin / revenue values.
    ParameterError
        No margin column and no ``margin_rate``; ``margin_rate`` outside (0, 1].
    """
    spec = getattr(data, "spec", None)
    frame = data.frame if spec is not None else data
    period = margin_period or (spec.value_period if spec is not None else "month")
    if period not in PERIOD_TO_MONTHS:
        raise ParameterError(
            f"`margin_period` must be one of {list(PERIOD_TO_MONTHS)}, got {period!r}."
        )
    ignored = ""
    if margin_col is None and revenue_col is None and spec is not None and spec.margin:
        margin_col = spec.margin
        if margin_rate is not None:
            ignored = f" (`margin_rate`={margin_rate!r} not used: the data have a margin column)"
    if margin_col is None:
        revenue_col = revenue_col or (spec.revenue if spec is not None else None)
        if revenue_col is None:
            raise ParameterError(
                "no margin: pass `margin_col`, or `revenue_col` with `margin_rate` "
                "(the data's spec names neither a margin nor a revenue column)."
            )
        if margin_rate is None:
            raise ParameterError(
                f"the data have no margin column; to use revenue '{revenue_col}' pass `margin_rate`, the assumed "
                "share of revenue that is margin (e.g. margin_rate=0.3)."
            )
        if not isinstance(margin_rate, (int, float)) or not 0 < margin_rate <= 1:
            raise ParameterError(f"`margin_rate` must be in (0, 1], e.g. 0.3, got {margin_rate!r}.")
        col, factor = revenue_col, float(margin_rate)
        source = (
            f"margin = {margin_rate:.0%} of '{revenue_col}' per {period} (stated assumption: the data "
            "have no margin column)"
        )
    else:
        col, factor = margin_col, 1.0
        source = f"margin from column '{margin_col}' per {period}{ignored}"
    if col not in frame.columns:
        raise ParameterError(
            f"margin/revenue column '{col}' is not in the data. Columns: {list(frame.columns)[:25]}."
        )
    s = frame[col]
    if not pd.api.types.is_numeric_dtype(s):
        raise DataValidationError(
            f"column '{col}' (margin) must be numeric, got dtype {s.dtype}.",
            column=col,
            rule="numeric margin",
        )
    if s.isna().any():
        n = int(s.isna().sum())
        raise DataValidationError(
            f"column '{col}' (margin) has {n:,} missing value(s) (first rows: "
            f"{np.flatnonzero(s.isna().to_numpy())[:5].tolist()}). Lifetime value needs every customer's margin: "
            "fill them (e.g. from the price plan) or remove those customers explicitly before calling.",
            column=col,
            rule="margin present",
            n_rows=n,
        )
    m = s.to_numpy(dtype=float) * factor / PERIOD_TO_MONTHS[period]
    if period != "month":
        source += f", converted to per month (/ {PERIOD_TO_MONTHS[period]:g})"
    return m, source


# ------------------------------------------------------------------------------------- segment CLV
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
    _check_alpha(alpha)
    monthly_rate = monthly_discount_rate(discount_rate_yearly)
    if not isinstance(horizon_months, (int, float)) or not horizon_months > 0:
        raise ParameterError(
            f"`horizon_months` must be a positive number of months (or inf), got {horizon_months!r}."
        )
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ParameterError(f"`n_boot` must be a whole number >= 0, got {n_boot!r}.")
    spec = getattr(data, "spec", None)
    if group_col is None and spec is not None:
        group_col = spec.segment
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
    )
    m_all, source = resolve_margin(
        data,
        margin_col=margin_col,
        revenue_col=revenue_col,
        margin_rate=margin_rate,
        margin_period=margin_period,
    )
    t_all = f[cols["duration"]].to_numpy(dtype=float) * _to_months_factor(cols["unit"])
    e_all = f[cols["event"]].to_numpy(dtype=float)
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
    meta = {
        "n": len(f),
        "events": int(e_all.sum()),
        "alpha": alpha,
        "group_col": group_col,
        "method": ("margin-weighted Kaplan-Meier" if weighted else "Kaplan-Meier x mean margin")
        + " x discount, constant-hazard tail; bootstrap percentile CIs",
        "margin_source": source,
        "discount_rate_yearly": float(discount_rate_yearly),
        "discount_rate_monthly": monthly_rate,
        "horizon_months": float(horizon_months),
        "n_boot": n_boot,
        "time_unit": "months",
        "seed": seed,
    }
    return CLVResult(
        pd.DataFrame(rows),
        meta,
        tables={"curves": pd.concat(curves, ignore_index=True)} if curves else {},
        warnings=warns,
    )


# ------------------------------------------------------------------------------------- customer CLV
class CustomerValueResult(Result):
    """Per-customer value from a fitted model. ``summary``: per group (customers, mean, total);
    ``tables['customers']``: one row per customer (keep it out of reports: it holds ids);
    ``model_``: the fitted lifelines model."""

    title = "Customer lifetime value from a fitted survival model"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_customer_value

        return plot_customer_value(self, ax=ax, **kwargs)


def _design(frame: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    X = pd.get_dummies(frame[covariates], drop_first=True, dtype=float)
    X = X.loc[:, X.std() > 0]
    return X


def default_covariates(data) -> list[str]:
    """Model covariates from the spec: ``covariates`` plus ``switching_costs`` (never the satisfaction
    score, which separates churners in some data)."""
    spec = getattr(data, "spec", None)
    if spec is None:
        return []
    out = []
    for c in list(spec.covariates) + list(spec.switching_costs):
        if c not in out and c in data.frame.columns:
            out.append(c)
    return out


def predict_clv(
    data,
    *,
    covariates: list[str] | None = None,
    model: str = "weibull",
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    margin_col: str | None = None,
    revenue_col: str | None = None,
    margin_rate: float | None = None,
    margin_period: str | None = None,
    horizon_months: float = 60.0,
    discount_rate_yearly: float = 0.10,
    effect_hr: float | None = None,
    step_months: float = 0.5,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
) -> CustomerValueResult:
    """Per-customer lifetime value from a Weibull AFT or Cox model's predicted survival.

    For every customer: ``value_new`` = value of a customer like her from joining (``S_i`` from 0 to H)
    and, for active customers, ``current_value`` = residual value given her tenure ``a_i``
    (``S_i(a_i + u) / S_i(a_i)``, u from 0 to H). With ``effect_hr`` (hazard ratio of a retention
    strategy, estimated or assumed) also ``value_with_strategy`` = residual value under
    ``(S_i(a_i+u)/S_i(a_i))^effect_hr`` (proportional hazards) and ``growth_potential`` = the difference.
    Predictions beyond the longest observed tenure are extrapolations (``ExtrapolationWarning``).

    Parameters
    ----------
    covariates : list of str, optional
        Default :func:`default_covariates` (spec covariates + switching costs).
    model : {'weibull', 'cox'}
        lifelines ``WeibullAFTFitter`` or ``CoxPHFitter`` (Breslow baseline, flat after the last event).
    effect_hr : float, optional
        Hazard ratio of the retention strategy, in (0, 1] for a strategy that lowers churn.
    step_months : float
        Integration grid step (trapezoid rule).

    References
    ----------
    Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing
    Research*, 41(1), 7-18.
    """
    from lifelines import CoxPHFitter, WeibullAFTFitter

    _check_alpha(alpha)
    monthly_rate = monthly_discount_rate(discount_rate_yearly)
    if model not in ("weibull", "cox"):
        raise ParameterError(f"`model` must be 'weibull' or 'cox', got {model!r}.")
    if effect_hr is not None and (not isinstance(effect_hr, (int, float)) or not effect_hr > 0):
        raise ParameterError(
            f"`effect_hr` must be a positive hazard ratio (e.g. 0.8), got {effect_hr!r}."
        )
    if not horizon_months > 0 or not math.isfinite(horizon_months):
        raise ParameterError(
            f"`horizon_months` must be a positive finite number, got {horizon_months!r}."
        )
    spec = getattr(data, "spec", None)
    if group_col is None and spec is not None:
        group_col = spec.segment
    f, cols = _frame_and_cols(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
    )
    covariates = list(covariates) if covariates is not None else default_covariates(data)
    if not covariates:
        raise ParameterError(
            "`covariates` is empty: name the model's covariates, e.g. covariates=['contract', 'age']."
        )
    missing = [c for c in covariates if c not in f.columns]
    if missing:
        raise ParameterError(f"covariate column(s) {missing} are not in the data.")
    m, source = resolve_margin(
        data,
        margin_col=margin_col,
        revenue_col=revenue_col,
        margin_rate=margin_rate,
        margin_period=margin_period,
    )
    warns: list[str] = []
    na = f[covariates].isna().any(axis=1).to_numpy()
    if na.any():
        msg = f"{int(na.sum()):,} customers with missing covariates are excluded from the customer-level value."
        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
        warns.append(msg)
    keep = ~na
    f = f.loc[keep]
    m = m[keep]
    t = f[cols["duration"]].to_numpy(dtype=float) * _to_months_factor(cols["unit"])
    e = f[cols["event"]].to_numpy(dtype=int)
    X = _design(f, covariates)
    df = X.assign(_T=np.maximum(t, 1e-3), _E=e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitter = WeibullAFTFitter() if model == "weibull" else CoxPHFitter()
            fitter.fit(df, duration_col="_T", event_col="_E")
        except Exception as exc:  # lifelines raises several types
            raise ModelError(
                f"the {model} model could not be fitted: {exc}. Check the covariates "
                f"({covariates}) for constant or collinear columns."
            ) from exc
    grid = np.arange(0.0, horizon_months + 1e-9, step_months)
    disc = (1.0 + monthly_rate) ** (-grid)

    def _value(s):  # s: n x len(grid) survival, trapezoid of S * discount
        y = s * disc[None, :]
        return np.trapezoid(y, grid, axis=1)

    s_new = fitter.predict_survival_function(X, times=grid).to_numpy().T
    value_new = m * _value(s_new)
    active = e == 0
    current = np.full(len(f), np.nan)
    strategy = np.full(len(f), np.nan)
    if active.any():
        s_cur = (
            fitter.predict_survival_function(X.loc[active], times=grid, conditional_after=t[active])
            .to_numpy()
            .T
        )
        s_cur = np.clip(np.nan_to_num(s_cur, nan=0.0), 0.0, 1.0)
        current[active] = m[active] * _value(s_cur)
        if effect_hr is not None:
            strategy[active] = m[active] * _value(s_cur**effect_hr)
    t_max = float(t.max())
    extrap_share = float(np.mean(t[active] + horizon_months > t_max)) if active.any() else 0.0
    if horizon_months > t_max or extrap_share > 0:
        msg = (
            f"predicted survival runs to tenure {t_max + horizon_months:.0f} months but the longest observed "
            f"tenure is {t_max:.0f}: {extrap_share:.0%} of active customers' residual values rely on the "
            f"{model} model's extrapolation."
        )
        warnings.warn(msg, ExtrapolationWarning, stacklevel=2)
        warns.append(msg)
    id_col = spec.id if spec is not None and spec.id in f.columns else None
    cust = pd.DataFrame(
        {
            "customer_id": f[id_col].to_numpy() if id_col else f.index.to_numpy(),
            "group": f[group_col].astype(str).to_numpy() if group_col else "all",
            "tenure_months": t,
            "churned": e,
            "margin_per_month": m,
            "value_new": value_new,
            "current_value": current,
        }
    )
    if effect_hr is not None:
        cust["value_with_strategy"] = strategy
        cust["growth_potential"] = strategy - current
    rows = []
    for label, d in [("all", cust)] + (
        list(cust.groupby("group", sort=False)) if group_col else []
    ):
        a = d[d["churned"] == 0]
        row = {
            "group": label,
            "customers": len(d),
            "active": len(a),
            "value_new_mean": d["value_new"].mean(),
            "current_value_mean": a["current_value"].mean(),
            "current_value_total": a["current_value"].sum(),
        }
        if effect_hr is not None:
            row["growth_potential_total"] = a["growth_potential"].sum()
        rows.append(row)
    meta = {
        "n": len(f),
        "events": int(e.sum()),
        "alpha": alpha,
        "method": f"{model} model predicted survival x margin x discount",
        "covariates": covariates,
        "margin_source": source,
        "discount_rate_yearly": float(discount_rate_yearly),
        "discount_rate_monthly": monthly_rate,
        "horizon_months": float(horizon_months),
        "effect_hr": effect_hr,
        "time_unit": "months",
        "excluded": int(na.sum()),
    }
    res = CustomerValueResult(pd.DataFrame(rows), meta, tables={"customers": cust}, warnings=warns)
    res.model_ = fitter
    return res


class CLTVComparisonResult(Result):
    """Agreement between the workbench's customer values and a lifetime-value column shipped with the data."""

    title = "Customer value against the data's own lifetime-value column"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_cltv_comparison

        return plot_cltv_comparison(self, ax=ax, **kwargs)


def compare_cltv(
    data,
    values: CustomerValueResult,
    *,
    cltv_col: str | None = None,
    value_col: str = "value_new",
    alpha: float = 0.05,
) -> CLTVComparisonResult:
    """Rank agreement (Spearman, Fisher-z CI) between ``values`` and the data's CLTV column (spec ``cltv``).

    The data's CLTV is usually built by another method and on another scale (e.g. IBM Telco's CLTV), so
    only the ordering of customers is compared. Without a CLTV column the result says it is unavailable.
    """
    from scipy import stats

    from ..retention import UnavailableWarning

    _check_alpha(alpha)
    spec = getattr(data, "spec", None)
    frame = data.frame if spec is not None else data
    cltv_col = cltv_col or (spec.cltv if spec is not None else None)
    cols = ["term", "estimate", "ci_lower", "ci_upper", "n"]
    if cltv_col is None:
        msg = "the data have no lifetime-value column (spec `cltv`): nothing to compare with."
        warnings.warn(msg, UnavailableWarning, stacklevel=2)
        return CLTVComparisonResult(
            pd.DataFrame(columns=cols), {"available": False}, warnings=[msg]
        )
    if cltv_col not in frame.columns:
        raise ParameterError(f"CLTV column '{cltv_col}' (`cltv_col`) is not in the data.")
    cust = values.tables["customers"]
    if value_col not in cust.columns:
        raise ParameterError(f"`value_col` must be one of {list(cust.columns)}, got {value_col!r}.")
    id_col = spec.id if spec is not None else None
    ref = frame.set_index(id_col)[cltv_col] if id_col else frame[cltv_col]
    mine = cust.set_index("customer_id")[value_col]
    both = pd.concat([mine.rename("value"), ref.rename("cltv")], axis=1, join="inner").dropna()
    n = len(both)
    if n < 10:
        raise DataValidationError(
            f"only {n} customers have both values; need at least 10.",
            column=cltv_col,
            rule="enough customers",
        )
    rho = float(stats.spearmanr(both["value"], both["cltv"]).statistic)
    z = stats.norm.ppf(1 - alpha / 2)
    se = 1.0 / math.sqrt(n - 3)
    lo, hi = math.tanh(math.atanh(rho) - z * se), math.tanh(math.atanh(rho) + z * se)
    summary = pd.DataFrame(
        [
            {
                "term": f"Spearman correlation of '{value_col}' with '{cltv_col}'",
                "estimate": rho,
                "ci_lower": lo,
                "ci_upper": hi,
                "n": n,
            }
        ]
    )
    sample = both.sample(min(n, 3000), random_state=0).reset_index(drop=True)
    return CLTVComparisonResult(
        summary,
        {
            "n": n,
            "alpha": alpha,
            "available": True,
            "cltv_col": cltv_col,
            "value_col": value_col,
            "spearman": rho,
            "method": "Spearman rank correlation, Fisher-z CI",
        },
        tables={"points": sample},
    )
