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

__all__ = ["AggregatedDataset", "is_aggregated", "load_aggregated", "refuse_rows"]


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
