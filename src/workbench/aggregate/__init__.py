"""Survival from aggregates: the same estimators from a DuckDB or Dask aggregation.

For customer tables that do not fit in memory (Parquet / CSV files, a DuckDB table) or that are
spread over machines (a Dask DataFrame on a ``distributed`` cluster), :func:`counts` computes one
row per cell (group columns x tenure x event) where the data live; the estimators then call the
package's one implementation of each statistic with the cell counts as frequency weights, so the
numbers equal the row-level functions'.

Counting
    :func:`counts` -> :class:`CellCounts`.
Estimators
    :func:`kaplan_meier`, :func:`nelson_aalen`, :func:`rmst`, :func:`logrank_test` (stratified
    too), :func:`fit_cox` (Breslow or Efron ties, categorical covariates); the retention tables
    :func:`period_rates`, :func:`lifecycle_rates` (life table), :func:`cohort_table`,
    :func:`churn_by_cause`, :func:`rates_by_segment`; :func:`cumulative_incidence` by cause.
Not yet
    :data:`NOT_YET` names the analyses whose one home has no frequency-weight argument yet;
    :func:`not_available` refuses them with that reason.
"""

from ._cells import COUNT_COL, CellCounts, counts
from .dataset import AggregatedDataset, is_aggregated, load_aggregated, rows_only
from .estimators import (
    NOT_YET,
    fit_cox,
    kaplan_meier,
    logrank_test,
    nelson_aalen,
    not_available,
    rmst,
)
from .retention import (
    churn_by_cause,
    cohort_table,
    cumulative_incidence,
    lifecycle_rates,
    period_rates,
    rates_by_segment,
)

__all__ = [
    "AggregatedDataset",
    "is_aggregated",
    "load_aggregated",
    "rows_only",
    "COUNT_COL",
    "NOT_YET",
    "CellCounts",
    "churn_by_cause",
    "cohort_table",
    "counts",
    "cumulative_incidence",
    "lifecycle_rates",
    "period_rates",
    "rates_by_segment",
    "fit_cox",
    "kaplan_meier",
    "logrank_test",
    "nelson_aalen",
    "not_available",
    "rmst",
]
