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


def _no_weights(kwargs: dict, func: str) -> None:
    if "weights_col" in kwargs:
        raise ParameterError(
            f"aggregate.{func}: the cell counts are the weights; `weights_col` cannot be set here."
        )


def _start(cells: CellCounts, start_col: str | None, func: str) -> str:
    if start_col is None:
        raise ParameterError(
            f"aggregate.{func}: `start_col` is required: name the joining-date column kept in the "
            f"counts (by={cells.columns['by']}), e.g. counts(..., by=['start_month'])."
        )
    _check_by(cells, [start_col], "start_col", func)
    return start_col


def _no_entry(cells: CellCounts, func: str) -> None:
    if cells.columns["entry_col"] is not None:
        raise ParameterError(
            f"aggregate.{func}: the counts keep a delayed-entry column "
            f"({cells.columns['entry_col']!r}), which {func} does not use; count without entry_col."
        )


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

    cells = _check(cells, "lifecycle_rates")
    _no_weights(kwargs, "lifecycle_rates")
    _no_entry(cells, "lifecycle_rates")
    if group_col is not None:
        _check_by(cells, [group_col], "group_col", "lifecycle_rates")
    c = cells.columns
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        **kwargs,
    )
    return _as_counts(res, cells, "lifecycle_rates")


def period_rates(cells: CellCounts, *, start_col: str | None = None, **kwargs) -> Any:
    """Calendar churn / retention rates from cell counts: :func:`workbench.retention.period_rates`
    weighted by the counts (``period``, ``analysis_date``, ``tenure_unit``, ``alpha`` as there);
    the joining date ``start_col`` must be among the ``by`` columns of the counts."""
    from ..retention import period_rates as rows_fn

    cells = _check(cells, "period_rates")
    _no_weights(kwargs, "period_rates")
    _no_entry(cells, "period_rates")
    c = cells.columns
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        start_col=_start(cells, start_col, "period_rates"),
        weights_col=COUNT_COL,
        **kwargs,
    )
    return _as_counts(res, cells, "period_rates")


def cohort_table(cells: CellCounts, *, start_col: str | None = None, **kwargs) -> Any:
    """Joining cohort x months since joining from cell counts:
    :func:`workbench.retention.cohort_table` weighted by the counts (``cohort``, ``max_months``,
    ``step``, ``analysis_date``, ``tenure_unit`` as there); ``start_col`` must be among the
    ``by`` columns of the counts."""
    from ..retention import cohort_table as rows_fn

    cells = _check(cells, "cohort_table")
    _no_weights(kwargs, "cohort_table")
    _no_entry(cells, "cohort_table")
    c = cells.columns
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        start_col=_start(cells, start_col, "cohort_table"),
        weights_col=COUNT_COL,
        **kwargs,
    )
    return _as_counts(res, cells, "cohort_table")


def cumulative_incidence(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Cumulative incidence of each churn cause from cell counts:
    :func:`workbench.survival.cumulative_incidence` weighted by the counts (``alpha``, ``times``
    as there). The counts must keep the cause (``counts(..., cause_col=...)``) and no entry
    column (the delayed-entry estimator takes one row per customer)."""
    from ..survival import cumulative_incidence as rows_fn

    cells = _check(cells, "cumulative_incidence")
    _no_weights(kwargs, "cumulative_incidence")
    c = cells.columns
    if c["cause_col"] is None:
        raise ParameterError(
            "aggregate.cumulative_incidence: the counts keep no churn cause; count with "
            "counts(..., cause_col='<cause column>')."
        )
    _no_entry(cells, "cumulative_incidence")
    if group_col is not None:
        _check_by(cells, [group_col], "group_col", "cumulative_incidence")
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        cause_col=c["cause_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        **kwargs,
    )
    return _as_counts(res, cells, "cumulative_incidence")


def churn_by_cause(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Churn by cause from cell counts: :func:`workbench.retention.churn_by_cause` weighted by
    the counts (the counts must keep the cause: ``counts(..., cause_col=...)``)."""
    from ..retention import churn_by_cause as rows_fn

    cells = _check(cells, "churn_by_cause")
    _no_weights(kwargs, "churn_by_cause")
    _no_entry(cells, "churn_by_cause")
    c = cells.columns
    if group_col is not None:
        _check_by(cells, [group_col], "group_col", "churn_by_cause")
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        cause_col=c["cause_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        **kwargs,
    )
    return _as_counts(res, cells, "churn_by_cause")


def rates_by_segment(cells: CellCounts, *, group_col: str, **kwargs) -> Any:
    """Churn by segment from cell counts: :func:`workbench.retention.rates_by_segment` weighted
    by the counts (``group_col`` among the ``by`` columns)."""
    from ..retention import rates_by_segment as rows_fn

    cells = _check(cells, "rates_by_segment")
    _no_weights(kwargs, "rates_by_segment")
    _no_entry(cells, "rates_by_segment")
    _check_by(cells, [group_col], "group_col", "rates_by_segment")
    c = cells.columns
    res = rows_fn(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        **kwargs,
    )
    return _as_counts(res, cells, "rates_by_segment")
