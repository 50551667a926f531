"""Customer-level lifetime value from a fitted survival model, and its agreement with a lifetime-value
column shipped with the data.

Each customer's predicted survival (Weibull AFT or Cox, lifelines), conditional on her current tenure
for active customers (residual value), times her monthly margin, discounted monthly (see
:mod:`workbench.value.money`).

References
----------
Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing Research*,
41(1), 7-18.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..columns import (
    check_alpha,
    check_grouping,
    column_list,
    column_name,
    dummies,
    is_categorical,
    months_per_unit,
    resolve,
    resolve_frame,
)
from ..exceptions import (
    DataValidationError,
    ExtrapolationWarning,
    ModelError,
    ParameterError,
)
from ..results import Result, standard_meta
from .money import margin_available, monthly_discount_rate, resolve_margin, unavailable_result

__all__ = [
    "CLTVComparisonResult",
    "CustomerValueResult",
    "compare_cltv",
    "default_covariates",
    "predict_clv",
]


class CustomerValueResult(Result):
    """Per-customer value from a fitted model. ``summary``: per group (customers, mean, total);
    ``tables['customers']``: one row per customer (keep it out of reports: it holds ids);
    ``model_``: the fitted lifelines model."""

    title = "Customer lifetime value from a fitted survival model"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_customer_value

        return plot_customer_value(self, ax=ax, **kwargs)


def _design(frame: pd.DataFrame, covariates: list[str]) -> tuple[pd.DataFrame, dict]:
    """Numeric covariates as they are, categorical ones as ``name[level]`` indicators against the
    reference level (R's rule, :func:`workbench.columns.categorical_levels`); constant columns dropped."""
    parts, refs = [], {}
    for c in covariates:
        s = frame[c]
        if is_categorical(s):
            X, levels = dummies(s, func="predict_clv")
            refs[c] = levels[0] if levels else None
            parts.append(X)
        else:
            parts.append(s.astype(float).to_frame(c))
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    return X.loc[:, X.std() > 0], refs


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

    check_alpha(alpha)
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
    frame, spec = resolve_frame(data, func="predict_clv")
    group_col = column_name(
        data, group_col, argument="group_col", role="segment", required=False, func="predict_clv"
    )
    check_grouping(data, group_col, func="predict_clv")
    covariates = (
        column_list(data, covariates, argument="covariates", func="predict_clv")
        if covariates is not None
        else default_covariates(data)
    )
    reason = margin_available(data, margin_col=margin_col, revenue_col=revenue_col)
    if reason:
        meta = standard_meta(
            data, alpha=alpha, method=f"{model} model predicted survival x margin x discount"
        )
        return unavailable_result(CustomerValueResult, reason, meta, key="group")
    if not covariates:
        raise ParameterError(
            "predict_clv: `covariates` is empty: name the model's covariates, e.g. "
            "covariates=['contract', 'age'], or declare them in the spec's `covariates` role."
        )
    m, source = resolve_margin(
        data,
        margin_col=margin_col,
        revenue_col=revenue_col,
        margin_rate=margin_rate,
        margin_period=margin_period,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = resolve(
            data,
            duration_col=duration_col,
            event_col=event_col,
            covariates=covariates,
            missing="exclude",
            tenure_unit=tenure_unit,
            func="predict_clv",
        )
    warns: list[str] = []
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
        warns.append(str(w.message))
    keep = frame.index.isin(r.frame.index)
    f = r.frame
    m = m[keep]
    t = r.duration * months_per_unit(r.unit)
    e = r.event.astype(int)
    X, references = _design(f, covariates)
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
    meta = standard_meta(
        r,
        alpha=alpha,
        method=f"{model} model predicted survival x margin x discount",
        reference_levels=references,
        covariates=covariates,
        margin_source=source,
        discount_rate_yearly=float(discount_rate_yearly),
        discount_rate_monthly=monthly_rate,
        horizon_months=float(horizon_months),
        effect_hr=effect_hr,
        time_unit="months",
        excluded=int((~keep).sum()),
    )
    res = CustomerValueResult(
        pd.DataFrame(rows), meta, tables={"customers": cust}, warnings=warns, key="group"
    )
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

    check_alpha(alpha)
    frame, spec = resolve_frame(data, func="compare_cltv")
    cltv_col = column_name(
        data, cltv_col, argument="cltv_col", role="cltv", required=False, func="compare_cltv"
    )
    cols = ["term", "estimate", "ci_lower", "ci_upper", "n"]
    meta = standard_meta(
        data, alpha=alpha, method="Spearman rank correlation, Fisher-z CI", cltv_col=cltv_col
    )
    if cltv_col is None:
        return unavailable_result(
            CLTVComparisonResult,
            "the data have no lifetime-value column to compare with; name it in the spec's `cltv` "
            "role (or pass cltv_col=) to enable the comparison.",
            meta,
            key="term",
            columns=cols,
        )
    if values.meta.get("available") is False:
        return unavailable_result(
            CLTVComparisonResult, values.meta["reason"], meta, key="term", columns=cols
        )
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
    meta.update(n=n, available=True, value_col=value_col, spearman=rho)
    return CLTVComparisonResult(summary, meta, tables={"points": sample}, key="term")
