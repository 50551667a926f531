"""Per-cell counts computed where the data live: DuckDB over files / relations / tables, or Dask.

Only the aggregated cells (one row per combination of the ``by`` columns, tenure, event [, cause]
[, entry]) come back into pandas; the checks on the rows (types, missing values, negative tenure,
event coding) are computed by the engine as counts, never by loading rows.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import (
    ColumnNotFoundError,
    ColumnTypeError,
    EventCodingError,
    NegativeValueError,
    NonFiniteValueError,
    ParameterError,
    RowsExcludedWarning,
)

__all__ = ["COUNT_COL", "CellCounts", "counts"]

COUNT_COL = "count"
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
)


class CellCounts:
    """Per-cell customer counts (see :func:`counts`).

    Attributes
    ----------
    cells : DataFrame
        One row per cell: the ``by`` columns, tenure, event (and cause, entry when given) under
        their source names, and ``count`` (customers in the cell).
    columns : dict
        ``duration_col, event_col, by, cause_col, entry_col`` as given.
    n : int
        Customers counted (rows of the source, after excluded rows).
    events : int
        Churned customers counted.
    excluded : int
        Source rows left out because a used column was missing (a :class:`RowsExcludedWarning`
        said so).
    engine : str
        ``"duckdb"`` or ``"dask"``.
    fingerprint : str
        Hash of the cells and column roles (the results' ``meta["fingerprint"]``).
    """

    def __init__(self, cells: pd.DataFrame, columns: dict, *, excluded: int, engine: str):
        self.cells = cells
        self.columns = columns
        self.engine = engine
        self.excluded = int(excluded)
        w = cells[COUNT_COL]
        self.n = int(w.sum())
        self.events = int((w * cells[columns["event_col"]]).sum())

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) of the cell table and the column roles: every estimate
        from these counts is a function of exactly this content."""
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.cells, index=False).to_numpy().tobytes())
        h.update(",".join(map(str, self.cells.columns)).encode())
        h.update(repr(sorted(self.columns.items())).encode())
        return h.hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"CellCounts({len(self.cells):,} cells, {self.n:,} customers, {self.events:,} events, "
            f"engine={self.engine!r})"
        )


def _used_columns(duration_col, event_col, by, cause_col, entry_col) -> tuple[list[str], list[str]]:
    if isinstance(by, str):
        by = [by]
    by = list(by or ())
    for name, value in (("duration_col", duration_col), ("event_col", event_col)):
        if not isinstance(value, str) or not value:
            raise ParameterError(
                f"counts: `{name}` must be a column name (str), got {value!r}; pass e.g. "
                f"{name}='tenure'."
            )
    used = [*by, duration_col, event_col]
    used += [c for c in (cause_col, entry_col) if c is not None]
    if COUNT_COL in used:
        raise ParameterError(
            f"counts: a column named {COUNT_COL!r} is among the columns used ({used}); the cell "
            f"table uses {COUNT_COL!r} for the number of customers per cell. Rename that column in "
            "the source (e.g. a DuckDB relation with `SELECT count AS n_...`)."
        )
    if len(set(used)) != len(used):
        raise ParameterError(
            f"counts: a column is used twice among {used}; each role needs its own."
        )
    return by, used


def _missing_columns(available: Sequence[str], used: Sequence[str], what: str) -> None:
    missing = [c for c in used if c not in available]
    if missing:
        raise ColumnNotFoundError(
            f"counts: column(s) {missing} are not in {what}; available columns: "
            f"{list(available)}. Pass the right names to duration_col / event_col / by / "
            "cause_col / entry_col."
        )


def _refuse(checks: dict, duration_col: str, event_col: str, entry_col: str | None) -> int:
    """Raise on bad values counted by the engine; return the number of rows excluded for missing
    values."""
    if checks["neg"]:
        raise NegativeValueError(
            f"counts: `duration_col`={duration_col!r} has {checks['neg']:,} negative tenure(s); "
            "tenure must be >= 0. Fix or remove those rows at the source."
        )
    if checks["inf"]:
        raise NonFiniteValueError(
            f"counts: `duration_col`={duration_col!r} has {checks['inf']:,} infinite value(s); "
            "tenure must be finite. Fix those rows at the source."
        )
    if checks["bad_event"]:
        ex = checks["bad_example"]
        ex = ex.item() if hasattr(ex, "item") else ex
        if isinstance(ex, float) and ex.is_integer():
            ex = int(ex)
        checks["bad_example"] = ex
        raise EventCodingError(
            f"counts: `event_col`={event_col!r} has {checks['bad_event']:,} value(s) other than 0/1 "
            f"(e.g. {checks['bad_example']!r}); code churned = 1, censored = 0."
        )
    if entry_col is not None and checks["bad_entry"]:
        raise NegativeValueError(
            f"counts: `entry_col`={entry_col!r} has {checks['bad_entry']:,} value(s) below 0 or "
            f"after the tenure in {duration_col!r}; entry must satisfy 0 <= entry <= tenure."
        )
    if checks["missing"]:
        warnings.warn(
            f"counts: {checks['missing']:,} of {checks['rows']:,} rows have a missing value in a "
            "used column and were left out.",
            RowsExcludedWarning,
            stacklevel=3,
        )
    return int(checks["missing"])


# ------------------------------------------------------------------------------------- DuckDB
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(source: Any, table: str | None, connection: Any):
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source, f"the relation ({source.alias})"
    if isinstance(source, duckdb.DuckDBPyConnection):
        if table is None:
            raise ParameterError("counts: with a DuckDB connection as `source`, pass `table=`.")
        return source.table(table), f"table {table!r}"
    if not isinstance(source, (str, Path)):
        raise ParameterError(
            "counts: `source` must be a Parquet/CSV path or glob, a DuckDB database file with "
            "`table=`, a DuckDB relation or connection, or a dask DataFrame; got "
            f"{type(source).__name__}."
        )
    s = str(source)
    low = s.lower()
    if table is not None or low.endswith((".duckdb", ".db")):
        if table is None:
            raise ParameterError(
                f"counts: {s!r} looks like a DuckDB database; pass `table=` naming the table."
            )
        if not Path(s).exists():
            raise ParameterError(f"counts: the database file {s!r} does not exist.")
        con = duckdb.connect(s, read_only=True)
        return con.table(table), f"table {table!r} of {s}"
    if Path(s).is_dir():
        s = str(Path(s) / "**" / "*.parquet")
        low = s.lower()
    if low.endswith(".parquet") or low.endswith(".pq"):
        return con.read_parquet(s), s
    if low.endswith((".csv", ".csv.gz", ".tsv")):
        return con.read_csv(s), s
    raise ParameterError(
        f"counts: cannot tell the format of {s!r}; give a path or glob ending in .parquet or .csv, "
        "a folder of Parquet files, or a DuckDB database file with `table=`."
    )


def _duck_counts(rel, what, by, used, duration_col, event_col, cause_col, entry_col) -> CellCounts:
    _missing_columns(rel.columns, used, what)
    types = dict(zip(rel.columns, [str(t).upper() for t in rel.types], strict=True))
    for arg, col in (("duration_col", duration_col), ("entry_col", entry_col)):
        if col is not None and not types[col].startswith(_NUMERIC):
            raise ColumnTypeError(
                f"counts: `{arg}`={col!r} must be numeric (tenure), got DuckDB type {types[col]}; "
                "cast it at the source (e.g. `CAST(... AS DOUBLE)`)."
            )
    if not (types[event_col].startswith(_NUMERIC) or types[event_col] == "BOOLEAN"):
        raise ColumnTypeError(
            f"counts: `event_col`={event_col!r} must be 0/1 or boolean, got DuckDB type "
            f"{types[event_col]}; code churned = 1, censored = 0."
        )
    d, e = _q(duration_col), f"CAST({_q(event_col)} AS DOUBLE)"
    # the cause is read only for churners (a censored customer has none): it is kept as is
    complete = " AND ".join(f"{_q(c)} IS NOT NULL" for c in used if c != cause_col)
    entry_bad = (
        f"count(*) FILTER (WHERE {_q(entry_col)} < 0 OR {_q(entry_col)} > {d})"
        if entry_col is not None
        else "0"
    )
    check_sql = (
        f"SELECT count(*) AS rows, count(*) FILTER (WHERE NOT ({complete})) AS missing, "
        f"count(*) FILTER (WHERE {d} < 0) AS neg, "
        f"count(*) FILTER (WHERE isinf(CAST({d} AS DOUBLE))) AS inf, "
        f"count(*) FILTER (WHERE {e} NOT IN (0, 1)) AS bad_event, "
        f"any_value({_q(event_col)}) FILTER (WHERE {e} NOT IN (0, 1)) AS bad_example, "
        f"{entry_bad} AS bad_entry FROM rel"
    )
    row = rel.query("rel", check_sql).fetchall()[0]
    checks = dict(
        zip(
            ["rows", "missing", "neg", "inf", "bad_event", "bad_example", "bad_entry"],
            row,
            strict=True,
        )
    )
    excluded = _refuse(checks, duration_col, event_col, entry_col)
    keys = [_q(c) for c in by] + [
        f"CAST({d} AS DOUBLE) AS {d}",
        f"CAST({e} AS BIGINT) AS {_q(event_col)}",
    ]
    keys += [_q(c) for c in (cause_col,) if c is not None]
    keys += [f"CAST({_q(entry_col)} AS DOUBLE) AS {_q(entry_col)}"] if entry_col is not None else []
    sql = (
        f"SELECT {', '.join(keys)}, count(*) AS {COUNT_COL} FROM rel WHERE {complete} "
        f"GROUP BY ALL ORDER BY ALL"
    )
    cells = rel.query("rel", sql).df()
    return cells, excluded


# --------------------------------------------------------------------------------------- Dask
def _is_dask(source: Any) -> bool:
    mod = type(source).__module__
    return mod.startswith("dask") and hasattr(source, "npartitions")


def _dask_counts(ddf, by, used, duration_col, event_col, cause_col, entry_col):
    import dask

    _missing_columns(list(ddf.columns), used, "the dask DataFrame")
    dtypes = ddf.dtypes
    for arg, col in (("duration_col", duration_col), ("entry_col", entry_col)):
        if col is not None and not pd.api.types.is_numeric_dtype(dtypes[col]):
            raise ColumnTypeError(
                f"counts: `{arg}`={col!r} must be numeric (tenure), got dtype {dtypes[col]}; "
                "convert it (e.g. `ddf[col].astype(float)`)."
            )
    if not (
        pd.api.types.is_numeric_dtype(dtypes[event_col])
        or pd.api.types.is_bool_dtype(dtypes[event_col])
    ):
        raise ColumnTypeError(
            f"counts: `event_col`={event_col!r} must be 0/1 or boolean, got dtype "
            f"{dtypes[event_col]}; code churned = 1, censored = 0."
        )
    sub = ddf[used]
    complete = sub[[c for c in used if c != cause_col]].notnull().all(axis=1)
    d = sub[duration_col].astype(float)
    e = sub[event_col].astype(float)
    bad_e = e.notnull() & (e != 0) & (e != 1)
    parts = {
        "rows": complete.size,
        "missing": (~complete).sum(),
        "neg": (d < 0).sum(),
        "inf": (d.abs() == float("inf")).sum(),
        "bad_event": bad_e.sum(),
        "bad_example": e[bad_e].head(1, npartitions=-1, compute=False),
    }
    if entry_col is not None:
        en = sub[entry_col].astype(float)
        parts["bad_entry"] = ((en < 0) | (en > d)).sum()
    kept = sub[complete]
    cast = {
        duration_col: kept[duration_col].astype(float),
        event_col: kept[event_col].astype("int64"),
    }
    if entry_col is not None:
        cast[entry_col] = kept[entry_col].astype(float)
    kept = kept.assign(**cast)
    keys = [c for c in used]
    cells = kept.groupby(keys, dropna=False, observed=True).size()
    parts_c, cells = dask.compute(parts, cells)
    checks = {k: (int(v) if k not in ("bad_example",) else v) for k, v in parts_c.items()}
    ex = checks["bad_example"]
    checks["bad_example"] = ex.iloc[0] if len(ex) else None
    checks.setdefault("bad_entry", 0)
    excluded = _refuse(checks, duration_col, event_col, entry_col)
    cells = cells.rename(COUNT_COL).reset_index().sort_values(keys, ignore_index=True)
    cells[COUNT_COL] = cells[COUNT_COL].astype("int64")
    return cells, excluded


# ------------------------------------------------------------------------------------ public
def counts(
    source: Any,
    *,
    duration_col: str,
    event_col: str,
    by: Sequence[str] | str = (),
    cause_col: str | None = None,
    entry_col: str | None = None,
    table: str | None = None,
    connection: Any = None,
) -> CellCounts:
    """Count customers per cell (``by`` columns x tenure x event [x cause] [x entry]) at the source.

    The aggregation runs in DuckDB (files, relations, database tables) or on a Dask DataFrame's
    partitions (summed across them, on a ``distributed`` cluster when one is active); only the
    cells come back. The estimators in :mod:`workbench.aggregate` take the result and call the
    package's one implementation of each statistic with the counts as frequency weights.

    Parameters
    ----------
    source : str, Path, DuckDB relation or connection, or dask DataFrame
        A Parquet / CSV path or glob (``"data/*.parquet"``), a folder of Parquet files, a DuckDB
        database file or connection (with ``table=``), a ``duckdb.DuckDBPyRelation``, or a
        ``dask.dataframe.DataFrame`` (e.g. from ``dask.dataframe.read_parquet``).
    duration_col, event_col : str
        Tenure (numeric, >= 0) and churned (0/1 or boolean).
    by : str or list of str
        Group / stratum columns kept in the cells.
    cause_col : str, optional
        Churn cause kept in the cells (missing values kept: censored customers have no cause).
    entry_col : str, optional
        Delayed-entry tenure kept in the cells (0 <= entry <= tenure).
    table : str, optional
        Table name when ``source`` is a DuckDB database file or connection.
    connection : duckdb connection, optional
        Connection used to read files (default: a new in-memory one).

    Returns
    -------
    CellCounts
        ``.cells`` (DataFrame with ``count``), ``.n``, ``.events``, ``.excluded``, ``.engine``.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in the source.
    ColumnTypeError
        Non-numeric tenure / entry, or an event column that is neither numeric nor boolean.
    EventCodingError, NegativeValueError, NonFiniteValueError
        Events other than 0/1, negative or infinite tenure, entry outside ``[0, tenure]``.

    Warns
    -----
    RowsExcludedWarning
        Rows with a missing value in a used column are counted and left out.

    Examples
    --------
    >>> import duckdb
    >>> rel = duckdb.sql("SELECT * FROM (VALUES (1.0, 1, 'a'), (1.0, 1, 'a'), (2.0, 0, 'b')) "
    ...                  "t(tenure, churned, plan)")
    >>> c = counts(rel, duration_col="tenure", event_col="churned", by="plan")
    >>> c.cells["count"].tolist(), c.n, c.events
    ([2, 1], 3, 2)
    """
    by, used = _used_columns(duration_col, event_col, by, cause_col, entry_col)
    if _is_dask(source):
        cells, excluded = _dask_counts(
            source, by, used, duration_col, event_col, cause_col, entry_col
        )
        engine = "dask"
    else:
        rel, what = _relation(source, table, connection)
        cells, excluded = _duck_counts(
            rel, what, by, used, duration_col, event_col, cause_col, entry_col
        )
        engine = "duckdb"
    columns = {
        "duration_col": duration_col,
        "event_col": event_col,
        "by": by,
        "cause_col": cause_col,
        "entry_col": entry_col,
    }
    return CellCounts(cells, columns, excluded=excluded, engine=engine)
