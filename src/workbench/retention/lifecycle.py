"""Churn over the customer lifecycle: an actuarial life table over tenure bands.

Stage ``[0, b1]`` then ``(a, b]``: every customer is at risk in the first stage, including those with
tenure exactly 0 (kept under the spec's ``zero_tenure: keep``), so the life table counts the same
customers as the Kaplan-Meier curve of notebook 02. When tenure is recorded on a coarse grid (e.g.
whole years) the bands follow that grid, and the result says so: a band finer than the grid would
show shapes the data cannot show.

References
----------
Cutler, S. J. & Ederer, F. (1958). Maximum utilization of the life table method in analyzing
survival. *Journal of Chronic Diseases*, 8(6), 699-712.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import MAX_GROUPS, check_alpha
from ..data.units import detect_grid, unit_factor
from ..exceptions import CoarseTenureWarning, ParameterError
from ._common import (
    LifecycleResult,
    from_counts,
    groups_of,
    meta_of,
    poisson_ci,
    resolve_retention,
)

__all__ = ["DEFAULT_STAGES", "lifecycle_rates"]

DEFAULT_STAGES = (0, 3, 6, 12, 18, 24, 36, 48, 72)


def _stages(stages, tenure, unit):
    """The stage boundaries (months), the coarse grid (or None) and a note if the stages were
    replaced by the grid (:func:`workbench.data.units.detect_grid`)."""
    st = np.asarray(list(stages), dtype=float)
    if st.size < 2 or st[0] != 0 or np.any(np.diff(st) <= 0):
        raise ParameterError(
            f"`stages` must be increasing boundaries in months starting at 0, got {list(stages)!r}."
        )
    grid = detect_grid(tenure, unit)
    if grid is None:
        return st, None, None
    step = grid["step"] * unit_factor(unit, "months")
    finite = st[np.isfinite(st)]
    if np.allclose(finite / step, np.round(finite / step)):
        return st, grid, None
    months = tenure * unit_factor(unit, "months")
    edges = np.arange(0.0, max(float(months.max()), step) + step, step)
    note = (
        f"tenure is recorded in {grid['step_name']} ({grid['n_distinct']} distinct values): the "
        f"life-table bands follow that grid ({', '.join(f'{a:g}-{b:g}' for a, b in zip(edges[:-1], edges[1:]))} "
        f"months) instead of the requested stages {[float(x) for x in stages]}; churn within one "
        "step cannot be told apart."
    )
    return edges, grid, note


def lifecycle_rates(
    data,
    *,
    stages=DEFAULT_STAGES,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
    max_groups: int = MAX_GROUPS,
    weights_col: str | None = None,
) -> LifecycleResult:
    """Churn and retention by lifecycle stage (tenure bands, months): an actuarial life table.

    First stage ``[0, b1]``, then ``(a, b]``: ``customers_at_risk`` = tenure >= 0 in the first stage,
    tenure > a after it; ``churned`` / ``censored`` = churned / still active with tenure in the stage;
    ``estimate = churned / (at_risk - censored/2)`` is the stage churn probability (Wald CI, clipped to
    [0, 1]); ``retention_rate = 1 - estimate``; ``monthly_churn_rate = churned / customer-months in
    the stage`` (exact Poisson CI). Customers with tenure 0 are in the first stage (a churner at 0
    churned there); ``meta["zero_tenure"]`` counts them. Tenure on a coarse grid (whole years, ...)
    replaces ``stages`` by the grid, with a :class:`CoarseTenureWarning` and ``meta["tenure_grid"]``.

    Parameters
    ----------
    stages : sequence of float
        Increasing stage boundaries in months starting at 0; the last stage is open-ended above its
        last boundary only if you append ``inf``.
    group_col : str, optional
        One life table per group (e.g. the segment).
    weights_col : str, optional
        Frequency weights: whole numbers of customers per row (the ``count`` of
        :func:`workbench.aggregate.counts`); the table then equals that of the expanded rows.

    References
    ----------
    Cutler, S. J. & Ederer, F. (1958). Maximum utilization of the life table method in analyzing
    survival. *Journal of Chronic Diseases*, 8(6), 699-712.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"tenure": [0.0, 2.0, 5.0, 5.0, 10.0], "churned": [1, 1, 1, 0, 0]})
    >>> r = lifecycle_rates(df, stages=[0, 3, 12], duration_col="tenure", event_col="churned")
    >>> r.summary[["stage", "customers_at_risk", "churned", "censored"]].values.tolist()
    [['0-3', 5, 2, 0], ['3-12', 3, 1, 2]]
    """
    check_alpha(alpha)
    agg = from_counts(
        data,
        "lifecycle_rates",
        duration_col=duration_col,
        event_col=event_col,
        not_from_counts={"weights_col": weights_col},
        stages=stages,
        group_col=group_col,
        tenure_unit=tenure_unit,
        alpha=alpha,
        max_groups=max_groups,
    )
    if agg is not None:
        return agg
    r, cols = resolve_retention(
        data,
        func="lifecycle_rates",
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        tenure_unit=tenure_unit,
        max_groups=max_groups,
        weights_col=weights_col,
    )
    t_all, e_all, w_all = cols["months"], r.event.astype(bool), cols["w"]
    st, grid, grid_note = _stages(stages, r.duration, r.unit)
    warns: list[str] = []
    if grid_note:
        warnings.warn(CoarseTenureWarning(grid_note, grid), stacklevel=2)
        warns.append(grid_note)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for lvl, m in groups_of(r.frame, cols["group"]):
        t, e, w = t_all[m], e_all[m], w_all[m]
        for i, (a, b) in enumerate(zip(st[:-1], st[1:], strict=True)):
            entered = t >= a if i == 0 else t > a
            inside = entered & (t <= b)
            n = int(round(w[entered].sum()))
            k = int(round(w[inside & e].sum()))
            c = int(round(w[inside & ~e].sum()))
            eff = n - c / 2
            q = k / eff if eff > 0 else np.nan
            se = math.sqrt(q * (1 - q) / eff) if eff > 0 else np.nan
            expo = float(w[entered] @ np.clip(t[entered], a, b) - a * n)
            rate = k / expo if expo > 0 else np.nan
            rlo, rhi = poisson_ci(k, expo, alpha) if expo > 0 else (np.nan, np.nan)
            row = {
                "stage": f"{a:g}-{b:g}" if np.isfinite(b) else f"{a:g}+",
                "stage_start": a,
                "stage_end": b,
                "customers_at_risk": n,
                "churned": k,
                "censored": c,
                "estimate": q,
                "ci_lower": max(q - z * se, 0.0) if eff > 0 else np.nan,
                "ci_upper": min(q + z * se, 1.0) if eff > 0 else np.nan,
                "retention_rate": 1 - q if eff > 0 else np.nan,
                "customer_months": expo,
                "monthly_churn_rate": rate,
                "monthly_ci_lower": float(rlo),
                "monthly_ci_upper": float(rhi),
            }
            if cols["group"]:
                row = {"group": lvl, **row}
            rows.append(row)
    beyond = int(round(w_all[t_all > st[-1]].sum()))
    if beyond:
        warns.append(
            f"{beyond:,} customers have tenure beyond the last stage boundary ({st[-1]:g} months); "
            "their time after it is not shown (append inf to `stages` to include it)."
        )
    return LifecycleResult(
        pd.DataFrame(rows),
        meta_of(
            r,
            alpha=alpha,
            method="actuarial life table over tenure (months); first stage includes tenure 0",
            estimand="stage churn probability: churned / (at risk - censored / 2)",
            group_col=cols["group"],
            zero_tenure=int(round(w_all[t_all == 0].sum())),
            zero_tenure_churned=int(round(w_all[(t_all == 0) & e_all].sum())),
            tenure_grid=grid,
            stages=[float(x) for x in st],
        ),
        warnings=warns,
        key="stage",
    )
