"""A customer table read as cell counts: what ``load_dataset("parquet" | "duckdb", ...)`` returns
when the rows are not to be loaded (notebooks' ``dataset: parquet`` / ``dataset: duckdb``).

:class:`AggregatedDataset` holds the :class:`~workbench.aggregate.CellCounts` of the table, counted
by DuckDB where the file lives, over the roles of its spec that the aggregate analyses use (the
segment, the joining date, the churn cause), and the spec. The analyses that can run from counts
(the retention tables of notebook 01, :mod:`workbench.aggregate`'s survival estimators) take it;
every analysis that needs one row per customer refuses it with one sentence naming the analysis
(:func:`refuse_rows`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import MethodNotAvailableError
from ._cells import CellCounts, counts

__all__ = [
    "AggregatedDataset",
    "from_counts",
    "is_aggregated",
    "load_aggregated",
    "refuse_rows",
    "rows_only",
]


class AggregatedDataset:
    """Cell counts of a customer table plus its role spec (no rows in memory).

    Attributes
    ----------
    cells : CellCounts
    spec : RoleSpec
    name, source : str
    """

    aggregated = True

    def __init__(self, cells: CellCounts, spec: Any, *, name: str, source: str):
        self.cells = cells
        self.spec = spec
        self.name = name
        self.source = source
        self.exclusions = (
            [{"rule": "missing", "n_rows": cells.excluded, "columns": cells.columns["by"]}]
            if cells.excluded
            else []
        )

    @property
    def columns(self) -> list[str]:
        """The columns the counts were taken by (the only ones an analysis can group or model)."""
        return list(self.cells.columns["by"])

    def levels(self, column: str) -> int:
        """How many distinct values ``column`` (a ``by`` column) takes among the counted customers."""
        return int(self.cells.cells[column].nunique(dropna=True))

    @property
    def n(self) -> int:
        return self.cells.n

    @property
    def events(self) -> int:
        return self.cells.events

    @property
    def fingerprint(self) -> str:
        return self.cells.fingerprint

    def describe(self) -> pd.DataFrame:
        """Customers, events, cells and the roles used, as a two-column table."""
        c, s = self.cells, self.spec
        t = c.cells[c.columns["duration_col"]]
        rows = [
            ("dataset", self.name),
            ("read as", f"{c.engine} cell counts of {self.source} (rows not loaded)"),
            ("customers", f"{self.n:,}"),
            ("rows excluded", f"{c.excluded:,}"),
            ("churned (events)", f"{self.events:,}"),
            ("censored", f"{self.n - self.events:,} ({(self.n - self.events) / self.n:.1%})"),
            (f"tenure ({s.tenure_unit})", f"{t.min():.3g} to {t.max():.3g}"),
            ("cells", f"{len(c.cells):,}"),
        ]
        for role in ("segment", "start_date", "churn_type"):
            col = getattr(s, role, None)
            if col:
                rows.append((f"role: {role}", col))
        rows.append(("fingerprint", self.fingerprint))
        return pd.DataFrame(rows, columns=["item", "value"])

    def __repr__(self) -> str:
        return (
            f"<AggregatedDataset '{self.name}': {self.n:,} customers, {self.events:,} churned, "
            f"{len(self.cells.cells):,} cells>"
        )


def is_aggregated(data: Any) -> bool:
    """True for an :class:`AggregatedDataset` (cell counts, no rows)."""
    return getattr(data, "aggregated", False) is True and isinstance(
        getattr(data, "cells", None), CellCounts
    )


def _caller() -> str:
    """The nearest public workbench function on the stack (the analysis the user called)."""
    import inspect

    for fr in inspect.stack()[2:]:
        mod = fr.frame.f_globals.get("__name__", "")
        name = fr.function
        if mod.startswith("workbench.") and not name.startswith("_") and name not in _PLUMBING:
            return f"{mod.rsplit('.', 1)[-1]}.{name}"
    return "this analysis"


_PLUMBING = {"wrapper", "inner", "refuse_rows", "resolve_frame", "resolve", "column_name"}


def refuse_rows(data: Any, func: str | None = None) -> None:
    """Raise :class:`MethodNotAvailableError` naming the analysis (``func``, else the nearest
    public workbench function calling) when ``data`` holds counts only."""
    if is_aggregated(data):
        what = func or _caller()
        raise MethodNotAvailableError(
            f"{what} needs one row per customer, but dataset '{data.name}' was read as aggregated "
            "cell counts (dataset: parquet / duckdb); run it with dataset: file, or use the "
            "workbench.aggregate functions."
        )


def _unset(value: Any) -> bool:
    return (
        value is None
        or value is False
        or (isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0)
    )


def _as_list(value: Any) -> list:
    return [value] if isinstance(value, str) else list(value or [])


_FILE_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv")


def is_table_source(data: Any) -> bool:
    """True for what :func:`workbench.aggregate.counts` reads without loading rows: a Parquet /
    CSV path, glob or folder, a DuckDB relation, or a dask DataFrame."""
    from ._cells import _is_dask

    if isinstance(data, (str, Path)):
        text = str(data)
        return (
            text.lower().endswith(_FILE_SUFFIXES)
            or any(ch in text for ch in "*?")
            or Path(text).is_dir()
        )
    return type(data).__module__.startswith("duckdb") or _is_dask(data)


def from_counts(
    data: Any,
    func: str,
    *,
    defaults: dict | None = None,
    not_from_counts: dict | None = None,
    **kwargs: Any,
) -> Any:
    """The :mod:`workbench.aggregate` version of the row-level analysis ``func`` when ``data`` is
    an :class:`AggregatedDataset` (cell counts, no rows) or a table source (a Parquet / CSV path,
    a DuckDB relation, a dask DataFrame: counted here by the columns the call names), else None.

    The row-level functions that can be computed exactly from counts (Kaplan-Meier, log-rank,
    restricted mean, Cox with categorical covariates, cumulative incidence, the retention tables)
    call this first and return its result when it is not None, so one call works on rows, on an
    aggregated dataset and on a file or relation too large for memory.

    Parameters
    ----------
    data : Any
        What the user passed.
    func : str
        The analysis; :mod:`workbench.aggregate` has a function of that name.
    defaults : dict, optional
        ``{argument: column}`` used where the caller left the argument None (the spec's roles, as
        the row-level function defaults them; aggregated datasets only).
    not_from_counts : dict, optional
        ``{argument: value}`` of the caller's arguments that have no form from counts (case
        weights, robust variance, penalties ...): any that is set is refused, naming it.
    **kwargs
        The caller's arguments; those left None are not passed. ``duration_col``, ``event_col``
        (required for a table source), ``cause_col`` and ``entry_col`` say what is counted; the
        group, covariate, stratum and joining-date columns named are counted as cells.

    Raises
    ------
    ParameterError
        An argument of ``not_from_counts`` is set; a column not counted; a table source without
        ``duration_col`` / ``event_col``.
    MethodNotAvailableError
        Delayed entry asked for on an aggregated dataset counted without it.
    """
    source = is_table_source(data)
    if not (source or is_aggregated(data)):
        return None
    from .. import aggregate
    from ..exceptions import ParameterError

    what = f"the table source {type(data).__name__}" if source else f"dataset '{data.name}'"
    set_args = [k for k, v in (not_from_counts or {}).items() if not _unset(v)]
    if set_args:
        raise ParameterError(
            f"{func}: {', '.join(f'`{a}`' for a in set_args)} cannot be used on {what}, which is "
            "read as aggregated cell counts (the counts are the weights); leave it at its default, "
            "or load the rows into a DataFrame."
        )
    roles = {
        k: kwargs.pop(k, None) for k in ("duration_col", "event_col", "cause_col", "entry_col")
    }
    kw = {k: ((defaults or {}).get(k) if v is None else v) for k, v in kwargs.items()}
    kw = {k: v for k, v in kw.items() if v is not None}
    named = [kw.get("group_col"), *_as_list(kw.get("covariates")), *_as_list(kw.get("strata"))]
    named = [c for c in dict.fromkeys([*named, kw.get("start_col")]) if c is not None]
    if source:
        if roles["duration_col"] is None or roles["event_col"] is None:
            raise ParameterError(
                f"{func}: reading {what} as cell counts needs `duration_col` and `event_col` (the "
                "tenure and churned columns), e.g. duration_col='tenure', event_col='churned'."
            )
        cells = counts(data, by=named, **roles)
        return getattr(aggregate, func)(cells, **kw)
    c = data.cells.columns
    for role, value in roles.items():
        if value is not None and value != c[role]:
            if role == "entry_col":
                raise MethodNotAvailableError(
                    f"{func}: delayed entry (entry_col={value!r}) is not available on {what}: its "
                    "cell counts were taken without it. Analyse it as followed from joining "
                    "(entry_col=None), or load the rows (dataset: file)."
                )
            raise ParameterError(
                f"{func}: `{role}`={value!r} differs from the column {what} was counted by "
                f"({c[role]!r}); leave it None."
            )
    missing = [col for col in named if col not in data.columns]
    if missing:
        raise ParameterError(
            f"{func}: {missing} {'was' if len(missing) == 1 else 'were'} not counted: {what} was "
            f"read as cell counts by {data.columns}, and analyses from counts can group, stratify "
            f"or model those columns only; load the rows (dataset: file) to use {missing}."
        )
    return getattr(aggregate, func)(data.cells, **kw)


def rows_only(func: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
    """``func(data, *args, **kwargs)``, or None with one printed sentence when ``data`` holds
    cell counts only and ``func`` needs one row per customer.

    For notebooks that run on rows and on counts (``dataset: parquet``): the sections whose
    analysis needs the rows say so and are skipped; every error of ``func`` on rows propagates.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> from workbench.survival import trend_test
    >>> ds = load_dataset("synthetic", n_customers=500)
    >>> rows_only(trend_test, ds, group_col="segment").meta["n"]
    500
    """
    if not is_aggregated(data):
        return func(data, *args, **kwargs)
    name = getattr(func, "__name__", "this analysis")
    print(
        f"{name} is skipped: it needs one row per customer, and dataset '{data.name}' was read "
        "as aggregated cell counts (dataset: parquet / duckdb); run the notebook with "
        "dataset: file to see it."
    )
    return None


def load_aggregated(
    source: str | Path, spec: Any, *, table: str | None = None, name: str | None = None
) -> AggregatedDataset:
    """Count a Parquet / CSV file (or glob, or folder) or a DuckDB database table by the roles of
    ``spec``: tenure, event, and as groups the segment and joining date, and the churn cause.

    A joining date with a time of day makes one cell per distinct timestamp: store it as a date.
    """
    by = [c for c in (spec.segment, spec.start_date) if c]
    cells = counts(
        source,
        duration_col=spec.tenure,
        event_col=spec.event,
        by=list(dict.fromkeys(by)),
        cause_col=spec.churn_type,
        table=table,
    )
    return AggregatedDataset(cells, spec, name=name or spec.name, source=str(source))
