"""Survival estimators from per-cell counts, each calling the package's one implementation.

The cell table of :func:`~workbench.aggregate.counts` is passed to the existing function with the
cell counts as frequency (whole-number case) weights; nothing here re-implements a statistic. With
whole-number weights the existing functions give exactly the row-level answer: the weighted
numbers at risk and of events are the row counts, and the variance rule picks the
frequency-weight (Greenwood / model-based) variance as R does.

Available: :func:`kaplan_meier` (curves, Greenwood SE, median and its CI), :func:`nelson_aalen`,
:func:`rmst`, :func:`logrank_test` (stratified, G-rho, delayed entry) and :func:`fit_cox` with
categorical covariates and Breslow or Efron ties (Efron through the engine's frequency-weight
mode). What still needs a frequency-weight argument in its one home is listed in :data:`NOT_YET`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import MethodNotAvailableError, ParameterError
from ._cells import COUNT_COL, CellCounts

__all__ = [
    "NOT_YET",
    "fit_cox",
    "kaplan_meier",
    "logrank_test",
    "nelson_aalen",
    "not_available",
    "rmst",
]

#: analyses that cannot yet run from counts, with what their one home lacks
NOT_YET: dict[str, str] = {
    "referral_rate": "workbench.retention.referral_rate reads a per-customer referral column and has "
    "no weights_col",
    "gray_test": "workbench.survival.gray_test (the cmprsk crstm port) has no weights argument",
    "trend_test": "workbench.survival.trend_test has no weights_col",
}


def not_available(analysis: str) -> None:
    """Refuse an analysis that cannot yet be computed from counts, naming what is missing."""
    why = NOT_YET.get(analysis)
    if why is None:
        raise ParameterError(
            f"not_available: unknown analysis {analysis!r}; known: {list(NOT_YET)}."
        )
    raise MethodNotAvailableError(
        f"{analysis} is not available from aggregated counts yet: {why}. Run it on the rows "
        "(a DataFrame) instead, or on a sample that fits in memory."
    )


def _check(cells: Any, func: str) -> CellCounts:
    if not isinstance(cells, CellCounts):
        raise ParameterError(
            f"aggregate.{func}: `cells` must be the result of workbench.aggregate.counts(...), got "
            f"{type(cells).__name__}; call counts(source, duration_col=..., event_col=..., by=...) first."
        )
    return cells


def _check_by(cells: CellCounts, cols: list[str], arg: str, func: str) -> None:
    missing = [c for c in cols if c not in cells.columns["by"]]
    if missing:
        raise ParameterError(
            f"aggregate.{func}: `{arg}` column(s) {missing} were not kept in the counts (by="
            f"{cells.columns['by']}); pass them in counts(..., by=[...])."
        )


def _as_counts(res, cells: CellCounts, func: str) -> Any:
    """Restate counts in the result as whole numbers of customers and record the aggregation."""
    res.meta["n"] = cells.n
    res.meta["events"] = cells.events
    res.meta["cells"] = len(cells.cells)
    res.meta["fingerprint"] = cells.fingerprint
    res.meta["aggregated"] = f"{cells.engine} cell counts ({len(cells.cells):,} cells)"
    res.meta["exclusions"] = res.meta.get("exclusions") or {}
    if cells.excluded:
        res.meta["rows_excluded_at_source"] = cells.excluded
    res.meta["method"] = f"{res.meta.get('method', func)}; from aggregated counts ({cells.engine})"
    return res


def kaplan_meier(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Kaplan-Meier curves from cell counts: :func:`workbench.survival.kaplan_meier` weighted by
    the counts.

    Parameters
    ----------
    cells : CellCounts
        From :func:`~workbench.aggregate.counts`; ``group_col`` must be among its ``by`` columns.
    group_col : str, optional
    **kwargs
        Passed on (``alpha``, ``ci_scale``, ``times``, ``min_at_risk``); ``entry_col`` is taken
        from the counts.

    Returns
    -------
    KaplanMeierResult
        As the row-level function; ``at_risk, events, censored`` are whole customer counts and
        ``meta["n"], meta["events"]`` count customers.

    Examples
    --------
    >>> import duckdb
    >>> from workbench.aggregate import counts
    >>> rel = duckdb.sql("SELECT * FROM (VALUES (1.0, 1), (1.0, 1), (2.0, 0), (3.0, 1)) t(t, e)")
    >>> kaplan_meier(counts(rel, duration_col="t", event_col="e")).curves["survival"].round(3).tolist()
    [0.5, 0.5, 0.0]
    """
    from ..survival import kaplan_meier as km_rows

    cells = _check(cells, "kaplan_meier")
    if "weights_col" in kwargs or "variance" in kwargs:
        raise ParameterError(
            "aggregate.kaplan_meier: the cell counts are the weights (Greenwood variance); "
            "`weights_col` / `variance` cannot be set here."
        )
    if group_col is not None:
        _check_by(cells, [group_col], "group_col", "kaplan_meier")
    c = cells.columns
    res = km_rows(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        entry_col=c["entry_col"],
        **kwargs,
    )
    cur = res.curves
    for col in ("at_risk", "events", "censored"):
        cur[col] = np.rint(cur[col].to_numpy()).astype(np.int64)
    res.curves = cur.drop(columns=["n_at_risk", "n_events"], errors="ignore")
    res.tables["curves"] = res.curves
    if "at_times" in res.tables:
        at = res.tables["at_times"].drop(columns=["n_at_risk"], errors="ignore")
        at["at_risk"] = np.rint(at["at_risk"].to_numpy()).astype(np.int64)
        res.tables["at_times"] = at
    res.summary["n"] = np.rint(res.summary["n"].to_numpy()).astype(np.int64)
    res.summary["events"] = np.rint(res.summary["events"].to_numpy()).astype(np.int64)
    return _as_counts(res, cells, "kaplan_meier")


def _events_by_group(cells: CellCounts, group_col: str | None) -> dict:
    cl, ev = cells.cells, cells.columns["event_col"]
    if group_col is None:
        return {"all": (int(cl[COUNT_COL].sum()), int((cl[COUNT_COL] * cl[ev]).sum()))}
    g = cl[group_col].astype(str)
    n = cl[COUNT_COL].groupby(g).sum()
    d = (cl[COUNT_COL] * cl[ev]).groupby(g).sum()
    return {str(k): (int(n[k]), int(d[k])) for k in n.index}


def nelson_aalen(cells: CellCounts, *, group_col: str | None = None, **kwargs) -> Any:
    """Nelson-Aalen cumulative hazard from cell counts: :func:`workbench.survival.nelson_aalen`
    weighted by the counts (``at_risk``, ``events`` and the summary count customers)."""
    from ..survival import nelson_aalen as na_rows

    cells = _check(cells, "nelson_aalen")
    if group_col is not None:
        _check_by(cells, [group_col], "group_col", "nelson_aalen")
    if cells.columns["entry_col"] is not None:
        raise MethodNotAvailableError(
            "aggregate.nelson_aalen: delayed entry is not supported by "
            "workbench.survival.nelson_aalen; count without entry_col."
        )
    c = cells.columns
    res = na_rows(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        **kwargs,
    )
    for col in ("at_risk", "events"):
        res.curves[col] = np.rint(res.curves[col].to_numpy()).astype(np.int64)
    tally = _events_by_group(cells, group_col)
    res.summary["n"] = [tally[str(g)][0] for g in res.summary["group"]]
    res.summary["events"] = [tally[str(g)][1] for g in res.summary["group"]]
    return _as_counts(res, cells, "nelson_aalen")


def rmst(cells: CellCounts, *, tau: float, group_col: str | None = None, **kwargs) -> Any:
    """Restricted mean tenure from cell counts: :func:`workbench.survival.rmst` weighted by the
    counts (see there for ``tau`` and the other arguments)."""
    from ..survival import rmst as rmst_rows

    cells = _check(cells, "rmst")
    if group_col is not None:
        _check_by(cells, [group_col], "group_col", "rmst")
    if cells.columns["entry_col"] is not None:
        raise MethodNotAvailableError(
            "aggregate.rmst: delayed entry is not supported by workbench.survival.rmst; count "
            "without entry_col."
        )
    c = cells.columns
    res = rmst_rows(
        cells.cells,
        tau=tau,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        group_col=group_col,
        weights_col=COUNT_COL,
        **kwargs,
    )
    # the row-level function counts events per (weighted) row; restate them per customer
    tally = _events_by_group(cells, group_col)
    res.summary["n"] = [tally[str(g)][0] for g in res.summary["group"]]
    res.summary["events"] = [tally[str(g)][1] for g in res.summary["group"]]
    return _as_counts(res, cells, "rmst")


def fit_cox(
    cells: CellCounts,
    *,
    covariates: list[str],
    strata: list[str] | str | None = None,
    ties: str = "breslow",
    **kwargs,
) -> Any:
    """Cox model with categorical covariates from cell counts: :func:`workbench.survival.fit_cox`
    weighted by the counts (model-based variance as R for whole-number weights).

    The covariates and strata must be among the ``by`` columns of the counts. Both tie rules are
    exact from counts: Breslow directly, Efron through the engine's ``frequency_weights`` mode
    (at a time with ``d`` tied churners over the event cells, ``sum_{k<d} log(R - (k/d) E)``,
    as on the expanded rows; it costs one step per churner, not per cell).
    """
    from ..survival import fit_cox as cox_rows

    cells = _check(cells, "fit_cox")
    if ties not in ("breslow", "efron"):
        raise ParameterError(
            f"aggregate.fit_cox: `ties` must be 'breslow' or 'efron', got {ties!r}."
        )
    strata_l = [strata] if isinstance(strata, str) else list(strata or [])
    _check_by(cells, list(covariates) + strata_l, "covariates/strata", "fit_cox")
    if "weights_col" in kwargs or "cluster_col" in kwargs:
        raise ParameterError(
            "aggregate.fit_cox: the cell counts are the weights; `weights_col` / `cluster_col` "
            "cannot be set here."
        )
    c = cells.columns
    res = cox_rows(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        covariates=list(covariates),
        strata=strata_l or None,
        weights_col=COUNT_COL,
        ties=ties,
        frequency_weights=True,
        entry_col=c["entry_col"],
        **kwargs,
    )
    return _as_counts(res, cells, "fit_cox")


def logrank_test(
    cells: CellCounts,
    *,
    group_col: str,
    strata: list[str] | str | None = None,
    **kwargs,
) -> Any:
    """Log-rank / G-rho test from cell counts: :func:`workbench.survival.logrank_test` with the
    counts as frequency weights (equal to the test on the rows), stratified when ``strata`` are
    given (they must be among the ``by`` columns of the counts).

    Parameters
    ----------
    cells : CellCounts
    group_col : str
        The groups compared (a ``by`` column of the counts).
    strata : str or list of str, optional
        Compare within strata and sum (R ``survdiff(... + strata(s))``).
    **kwargs
        ``rho``, ``alpha`` as the row-level function; delayed entry comes from the counts.

    Returns
    -------
    LogRankResult
        ``groups["n"]`` and ``meta["n"], meta["events"]`` count customers.

    Examples
    --------
    >>> import duckdb
    >>> from workbench.aggregate import counts
    >>> rel = duckdb.sql("SELECT * FROM (VALUES (1.0, 1, 'a'), (2.0, 1, 'a'), (3.0, 1, 'b'), "
    ...                  "(4.0, 0, 'b')) t(t, e, g)")
    >>> logrank_test(counts(rel, duration_col="t", event_col="e", by="g"), group_col="g").df
    1
    """
    from ..survival import logrank_test as logrank_rows

    cells = _check(cells, "logrank_test")
    strata_l = [strata] if isinstance(strata, str) else list(strata or [])
    _check_by(cells, [group_col, *strata_l], "group_col/strata", "logrank_test")
    if "weights_col" in kwargs:
        raise ParameterError(
            "aggregate.logrank_test: the cell counts are the weights; `weights_col` cannot be set here."
        )
    c = cells.columns
    res = logrank_rows(
        cells.cells,
        duration_col=c["duration_col"],
        event_col=c["event_col"],
        group_col=group_col,
        strata=strata_l or None,
        weights_col=COUNT_COL,
        entry_col=c["entry_col"],
        **kwargs,
    )
    return _as_counts(res, cells, "logrank_test")
