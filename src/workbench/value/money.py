"""Money in months: the discount rate converted once, discounted areas under a survival curve, the
constant-hazard tail beyond follow-up, and each customer's monthly margin with where it came from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..columns import column_name, resolve_frame
from ..exceptions import DataValidationError, ParameterError

PERIOD_TO_MONTHS = {"day": 1 / 30.4375, "week": 7 / 30.4375, "month": 1.0, "year": 12.0}

__all__ = ["discounted_area", "margin_available", "monthly_discount_rate", "resolve_margin"]


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
    frame, spec = resolve_frame(data, func="resolve_margin")
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
    column_name(
        data, col, argument="margin_col" if factor == 1.0 else "revenue_col", func="resolve_margin"
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


def margin_available(data, *, margin_col=None, revenue_col=None) -> str | None:
    """``None`` when a margin can be resolved, else the sentence saying which role would enable it.

    Only the data's roles are consulted: a column named explicitly (``margin_col``, ``revenue_col``)
    is always tried, so a typo there is an error, not a skipped section.

    Examples
    --------
    >>> margin_available(pd.DataFrame({"t": [1.0]}))
    "no revenue or margin column: lifetime value is unavailable; name the customers' revenue per period in the spec's `revenue` role (or their margin in `margin`) to enable it."
    """
    if margin_col is not None or revenue_col is not None:
        return None
    _, spec = resolve_frame(data)
    if spec is not None and (getattr(spec, "margin", None) or getattr(spec, "revenue", None)):
        return None
    return (
        "no revenue or margin column: lifetime value is unavailable; name the customers' revenue per "
        "period in the spec's `revenue` role (or their margin in `margin`) to enable it."
    )


def unavailable_result(result_cls, reason: str, meta: dict, *, key: str | None = None, columns=()):
    """An empty result of ``result_cls`` whose meta and caveats say why (an UnavailableWarning)."""
    import warnings

    from ..exceptions import UnavailableWarning

    warnings.warn(reason, UnavailableWarning, stacklevel=3)
    return result_cls(
        pd.DataFrame(columns=list(columns)),
        {**meta, "available": False, "reason": reason},
        warnings=[reason],
        key=key,
    )
