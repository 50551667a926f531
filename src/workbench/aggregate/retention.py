"""Retention tables and competing causes from cell counts, each calling the package's one
implementation with the counts as frequency weights.

:func:`lifecycle_rates` (the actuarial life table over tenure), :func:`period_rates` (calendar
churn / retention rates), :func:`cohort_table` (joining cohorts) and :func:`cumulative_incidence`
(Aalen-Johansen by cause, Gray's variance) give the same numbers as the row-level functions of
:mod:`workbench.retention` and :func:`workbench.survival.cumulative_incidence` on the rows the
cells stand for. Calendar views need the joining date among the ``by`` columns of the counts
(e.g. ``counts(..., by=["plan", "start_month"])``): a date per customer makes as many cells as
there are distinct dates, so count a month or a day, not a timestamp.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import ParameterError
from ._cells import COUNT_COL, CellCounts
from .estimators import _as_counts, _check, _check_by

__all__ = [
    "churn_by_cause",
    "cohort_table",
    "cumulative_incidence",
    "lifecycle_rates",
    "period_rates",
    "rates_by_segment",
]


def _from_counts(cells: Any, func: str, rows_fn, *, by: dict, entry_ok: bool = False, **kwargs):
    """Check the counts, the ``by`` columns named in ``by`` (argument -> column or None) and call
    the row-level ``rows_fn`` on the cells with the counts as frequency weights."""
    cells = _check(cells, func)
    if "weights_col" in kwargs:
        raise ParameterError(
            f"aggregate.{func}: the cell counts are the weights; `weights_col` cannot be set here."
        )
    if not entry_ok and cells.columns["entry_col"] is not None:
        raise ParameterError(
            f"aggregate.{func}: the counts keep a delayed-entry column "
            f"({cells.columns['entry_col']!r}), which {func} does not use; count without entry_col."
        )
    for arg, col in by.items():
        if col is not None:
            _check_by(cells, [col], arg, func)
    c = cells.columns
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        weights_col=COUNT_COL,
        **by,
        **kwargs,
    )
    return _as_counts(res, cells, func)


def lifecycle_rates(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Life table over tenure from cell counts: :func:`workbench.retention.lifecycle_rates`
    weighted by the counts (``stages``, ``tenure_unit``, ``alpha`` as there).

    Examples
    --------
    >>> import duckdb
    >>> from workbench.aggregate import counts
    >>> rel = duckdb.sql("SELECT * FROM (VALUES (0.0, 1), (2.0, 1), (5.0, 1), (5.0, 0), (10.0, 0)) "
    ...                  "t(tenure, churned)")
    >>> r = lifecycle_rates(counts(rel, duration_col="tenure", event_col="churned"), stages=[0, 3, 12])
    >>> r.summary[["stage", "customers_at_risk", "churned", "censored"]].values.tolist()
    [['0-3', 5, 2, 0], ['3-12', 3, 1, 2]]
    """
    from ..retention import lifecycle_rates as rows_fn

    return _from_counts(cells, "lifecycle_rates", rows_fn, by={"group_col": group_col}, **kwargs)


def period_rates(cells: CellCounts, *, start_col: str | None = None, **kwargs) -> Any:
    """Calendar churn / retention rates from cell counts: :func:`workbench.retention.period_rates`
    weighted by the counts (``period``, ``analysis_date``, ``tenure_unit``, ``alpha`` as there).
    The joining date ``start_col`` must be among the ``by`` columns of the counts; without one the
    whole window is one period, as the row-level function says."""
    from ..retention import period_rates as rows_fn

    return _from_counts(cells, "period_rates", rows_fn, by={"start_col": start_col}, **kwargs)


def cohort_table(cells: CellCounts, *, start_col: str | None = None, **kwargs) -> Any:
    """Joining cohort x months since joining from cell counts:
    :func:`workbench.retention.cohort_table` weighted by the counts (``cohort``, ``max_months``,
    ``step``, ``analysis_date``, ``tenure_unit`` as there); ``start_col`` must be among the
    ``by`` columns (without one the table is unavailable and says so)."""
    from ..retention import cohort_table as rows_fn

    return _from_counts(cells, "cohort_table", rows_fn, by={"start_col": start_col}, **kwargs)


def churn_by_cause(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Churn by cause from cell counts: :func:`workbench.retention.churn_by_cause` weighted by
    the counts (the cause is the one kept by ``counts(..., cause_col=...)``; without one the
    result is unavailable and says so)."""
    from ..retention import churn_by_cause as rows_fn

    cause = _check(cells, "churn_by_cause").columns["cause_col"]
    return _from_counts(
        cells, "churn_by_cause", rows_fn, by={"group_col": group_col}, cause_col=cause, **kwargs
    )


def rates_by_segment(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Churn by segment from cell counts: :func:`workbench.retention.rates_by_segment` weighted
    by the counts (``group_col`` among the ``by`` columns; without one the result says it is
    unavailable)."""
    from ..retention import rates_by_segment as rows_fn

    return _from_counts(cells, "rates_by_segment", rows_fn, by={"group_col": group_col}, **kwargs)


def cumulative_incidence(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Cumulative incidence of each churn cause from cell counts:
    :func:`workbench.survival.cumulative_incidence` weighted by the counts (``alpha``, ``times``
    as there). The counts must keep the cause (``counts(..., cause_col=...)``) and no entry
    column (the delayed-entry estimator takes one row per customer)."""
    from ..survival import cumulative_incidence as rows_fn

    cause = _check(cells, "cumulative_incidence").columns["cause_col"]
    if cause is None:
        raise ParameterError(
            "aggregate.cumulative_incidence: the counts keep no churn cause; count with "
            "counts(..., cause_col='<cause column>')."
        )
    return _from_counts(
        cells,
        "cumulative_incidence",
        rows_fn,
        by={"group_col": group_col},
        cause_col=cause,
        **kwargs,
    )
