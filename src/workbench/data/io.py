"""Loaders: CSV, Parquet and DuckDB SQL queries, each returning a validated :class:`Dataset`.

Analyses never read files themselves; notebooks call these (or :func:`load_dataset`). A DuckDB
query lets a researcher filter or aggregate a file too large for pandas before it is loaded:
``load_duckdb("SELECT * FROM 'big.parquet' WHERE segment = 'consumer'", spec)``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import DatasetNotFoundError, ParameterError
from .dataset import Dataset
from .schema import RoleSpec
from .validate import validate


def _existing(path: str | Path, param: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetNotFoundError(
            f"{param} '{path}' does not exist (resolved to '{p.resolve()}'). Check the path given as "
            f"`{param}`; relative paths are taken from the current working directory "
            f"('{Path.cwd()}')."
        )
    return p


def read_table(path: str | Path, *, param: str = "data_path") -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix) into a DataFrame, unvalidated."""
    p = _existing(path, param)
    suffix = "".join(p.suffixes[-2:]).lower() if p.is_file() else ""
    if p.is_dir() or suffix.endswith(".parquet") or suffix.endswith(".pq"):
        return pd.read_parquet(p)
    if suffix.endswith((".csv", ".csv.gz", ".txt")):
        return pd.read_csv(p)
    raise ParameterError(
        f"{param} '{path}': cannot tell the format from suffix '{p.suffix}'. Use a .csv or .parquet "
        "file, or load_duckdb() with a SQL query."
    )


def load_csv(path: str | Path, spec: RoleSpec, **read_kw) -> Dataset:
    """Load and validate a CSV file."""
    p = _existing(path, "data_path")
    return validate(pd.read_csv(p, **read_kw), spec, source=str(p))


def load_parquet(path: str | Path, spec: RoleSpec) -> Dataset:
    """Load and validate a Parquet file (or a folder of Parquet files)."""
    p = _existing(path, "data_path")
    return validate(pd.read_parquet(p), spec, source=str(p))


def load_duckdb(query: str, spec: RoleSpec, *, database: str | Path | None = None) -> Dataset:
    """Run ``query`` in DuckDB (in memory, or on ``database``) and validate the result.

    The query can read files directly: ``SELECT * FROM read_parquet('customers/*.parquet')``.
    """
    import duckdb

    if not isinstance(query, str) or not query.strip():
        raise ParameterError(f"`query` must be a SQL string, got {query!r}.")
    db = str(_existing(database, "database")) if database is not None else ":memory:"
    con = duckdb.connect(db, read_only=database is not None)
    try:
        df = con.execute(query).df()
    except duckdb.Error as e:
        raise ParameterError(f"the DuckDB query failed: {e}. Query was: {query[:300]!r}") from e
    finally:
        con.close()
    return validate(df, spec, source=f"duckdb:{db}")


def write_parquet(ds: Dataset | pd.DataFrame, path: str | Path) -> Path:
    """Write a dataset's frame (or a DataFrame) to Parquet; returns the path."""
    frame = ds.frame if isinstance(ds, Dataset) else ds
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(p, index=False)
    return p
