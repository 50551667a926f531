"""Tenure units: days, weeks, months, years. Estimation keeps the data's own unit; display converts.

One home for the conversion factors, so that a report printing "median 14 months" for data recorded
in days and a notebook choosing band edges in the data's unit agree. ``DAYS_PER_MONTH`` is the
calendar average (365.25 / 12), the same constant the synthetic data and the aggregations use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import DAYS_PER_MONTH
from ..exceptions import ParameterError

DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": 365.25}
UNITS = tuple(DAYS_PER_UNIT)
SINGULAR = {"days": "day", "weeks": "week", "months": "month", "years": "year"}
#: the longest tenure a customer relationship plausibly has (a century), in days
MAX_PLAUSIBLE_DAYS = 100 * 365.25


def check_unit(unit: Any, name: str = "tenure_unit") -> str:
    """``unit`` if it is one of :data:`UNITS` (singular forms accepted), else a clear error."""
    u = str(unit).strip().lower() if isinstance(unit, str) else unit
    if isinstance(u, str) and u + "s" in DAYS_PER_UNIT:
        u = u + "s"
    if u not in DAYS_PER_UNIT:
        raise ParameterError(f"`{name}` must be one of {UNITS}, got {unit!r}.")
    return u


def unit_factor(from_unit: str, to_unit: str) -> float:
    """Multiply a duration in ``from_unit`` by this to express it in ``to_unit``.

    Examples
    --------
    >>> unit_factor("years", "months")
    12.0
    >>> round(unit_factor("days", "months"), 6)
    0.032854
    """
    return (
        DAYS_PER_UNIT[check_unit(from_unit, "from_unit")]
        / DAYS_PER_UNIT[check_unit(to_unit, "to_unit")]
    )


def convert_tenure(values: Any, from_unit: str, to_unit: str) -> Any:
    """``values`` (a number, array or Series) converted from ``from_unit`` to ``to_unit``.

    For display: analyses estimate in the data's own unit and convert their output with this.

    Examples
    --------
    >>> convert_tenure(730.5, "days", "years")
    2.0
    """
    f = unit_factor(from_unit, to_unit)
    if isinstance(values, (list, tuple)):
        return [v * f for v in values]
    return values * f


def tenure_label(value: float, unit: str, *, digits: int = 3) -> str:
    """``"14.2 months"`` / ``"1 year"``: a tenure with its unit, for sentences and axis labels."""
    from ..results import format_number

    u = check_unit(unit, "unit")
    text = format_number(float(value), digits)
    return f"{text} {SINGULAR[u] if float(value) == 1 else u}"


def timedelta_to_unit(s: pd.Series, unit: str) -> pd.Series:
    """A timedelta Series as a float number of ``unit`` (Parquet durations, pandas Timedelta)."""
    days = s.dt.total_seconds() / 86_400.0
    return (days / DAYS_PER_UNIT[check_unit(unit, "unit")]).astype(float)


def grid_steps(unit: str) -> list[tuple[float, str]]:
    """Coarse grids to look for in tenure recorded in ``unit``, coarsest first: (step, name)."""
    u = check_unit(unit, "unit")
    if u == "days":
        return [(365.0, "whole years of 365 days"), (7.0, "whole weeks"), (1.0, "whole days")]
    if u == "weeks":
        return [(52.0, "whole years of 52 weeks"), (1.0, "whole weeks")]
    if u == "months":
        return [(12.0, "whole years"), (3.0, "whole quarters"), (1.0, "whole months")]
    return [(1.0, "whole years")]


def detect_grid(
    values: Any, unit: str, *, max_levels: int = 30, min_ties: float = 20.0
) -> dict | None:
    """The coarse grid tenure lies on, or ``None`` when tenure is fine-grained.

    Tenure is called coarse when it has at most ``max_levels`` distinct values, every value is a
    whole multiple of one grid step (whole years, quarters, weeks, ... in the declared unit), and
    ties are heavy (on average at least ``min_ties`` customers per distinct value). Whole months on
    six years of follow-up (73 values) is not coarse; whole years is.

    Returns
    -------
    dict or None
        ``step`` (in the declared unit), ``step_name``, ``unit``, ``n_distinct``, ``values`` (the
        distinct values, at most 30), ``mean_ties``.

    Examples
    --------
    >>> g = detect_grid([0, 12, 24, 36] * 30, "months")
    >>> g["step"], g["step_name"]
    (12.0, 'whole years')
    >>> detect_grid(np.linspace(0.1, 70, 500), "months") is None
    True
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    distinct = np.unique(v)
    mean_ties = v.size / distinct.size
    if distinct.size > max_levels or mean_ties < min_ties:
        return None
    for step, name in grid_steps(unit):
        q = distinct / step
        if np.all(np.abs(q - np.round(q)) < 1e-9 * np.maximum(1.0, np.abs(q))):
            return {
                "step": float(step),
                "step_name": name,
                "unit": check_unit(unit, "unit"),
                "n_distinct": int(distinct.size),
                "values": [float(x) for x in distinct[:30]],
                "mean_ties": float(mean_ties),
            }
    return None
