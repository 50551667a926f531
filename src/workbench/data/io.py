"""Loaders: CSV, Parquet and DuckDB SQL queries, each returning a validated :class:`Dataset`.

Analyses never read files themselves; notebooks call these (or :func:`load_dataset`). A DuckDB
query lets a researcher filter or aggregate a file too large for pandas before it is loaded:
``load_duckdb("SELECT * FROM 'big.parquet' WHERE segment = 'consumer'", spec)``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import DatasetNotFoundError, DataValidationError, ParameterError
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


CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_csv_file(
    path: str | Path, *, encoding: str | None = None, sep: str | None = None, **read_kw
) -> pd.DataFrame:
    """Read a CSV file with errors that name the file, the line, the likely cause and the fix.

    Raises
    ------
    DataValidationError
        Empty file, bytes that are not in ``encoding`` (default UTF-8), a row with more fields
        than the header (ragged rows, or the wrong separator).
    """
    p = Path(path)
    enc = encoding or "utf-8"
    kw = {"encoding": enc, **read_kw}
    if sep is not None:
        kw["sep"] = sep
    elif p.suffix.lower() == ".tsv":
        kw["sep"] = "\t"
    try:
        df = pd.read_csv(p, **kw)
    except pd.errors.EmptyDataError as e:
        raise DataValidationError(
            f"file '{p}' is empty: it has no header line and no rows. Check the export that "
            "wrote it, or point `data_path` at the right file.",
            rule="file not empty",
        ) from e
    except UnicodeDecodeError as e:
        line, offset, byte = "?", e.start, e.object[e.start : e.start + 1]
        if not str(p).endswith(".gz"):
            raw = p.read_bytes()
            try:
                raw.decode(enc)
            except UnicodeDecodeError as whole:
                offset, byte = whole.start, raw[whole.start : whole.start + 1]
                line = raw[:offset].count(b"\n") + 1
        raise DataValidationError(
            f"file '{p}', line {line}: byte 0x{byte.hex() if byte else '??'} at offset {offset} is "
            f"not valid {enc} text; the file is probably encoded as latin-1 / cp1252. Add "
            "`encoding: latin-1` (or `encoding: cp1252`) to the spec, or save the file as UTF-8.",
            rule="file encoding",
        ) from e
    except pd.errors.ParserError as e:
        import re

        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(e))
        where = (
            f"line {m.group(2)} has {m.group(3)} fields where the header has {m.group(1)}"
            if m
            else str(e).strip()
        )
        raise DataValidationError(
            f"file '{p}': {where} (a ragged row). Likely causes: an unquoted separator inside a "
            "value (quote that field), a truncated or merged line, or the wrong separator (set "
            '`sep:` in the spec, e.g. `sep: ";"`).',
            rule="rows have the header's fields",
        ) from e
    if df.shape[1] == 1 and sep is None:
        header = str(df.columns[0])
        for cand, name in ((";", ";"), ("\t", "\\t"), ("|", "|")):
            if cand in header:
                raise DataValidationError(
                    f"file '{p}': the header was read as one column {header[:80]!r}; the separator "
                    f'is probably {name!r}. Add `sep: "{name}"` to the spec.',
                    rule="separator",
                )
    return df


def read_parquet_file(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file or a folder of Parquet files, with errors that say what the path holds.

    Raises
    ------
    DataValidationError
        The file is not Parquet (corrupt, truncated, a CSV renamed), or the folder holds no
        Parquet files (e.g. a folder of CSV files).
    """
    p = Path(path)
    if p.is_dir():
        files = [f for f in p.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))]
        pq = [f for f in files if f.suffix.lower() in PARQUET_SUFFIXES]
        if not pq:
            kinds = sorted({f.suffix.lower() or "(no suffix)" for f in files})
            csvs = [f for f in files if f.suffix.lower() in (".csv", ".txt", ".tsv")]
            fix = (
                f"It holds {len(csvs)} CSV file(s): give one of them as `data_path`, or read them "
                f"all with dataset 'duckdb' and `query: SELECT * FROM read_csv('{p}/*.csv')`."
                if csvs
                else "Point `data_path` at a Parquet file or a folder of Parquet files."
            )
            raise DataValidationError(
                f"folder '{p}' holds no Parquet files ({len(files)} file(s), kinds: "
                f"{', '.join(kinds) or 'none'}). {fix}",
                rule="parquet folder",
            )
    try:
        return pd.read_parquet(p)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError for non-Parquet bytes
        import pyarrow as pa

        if not isinstance(e, (pa.ArrowException, OSError, ValueError)):
            raise
        head = b""
        if p.is_file():
            with open(p, "rb") as fh:
                head = fh.read(4)
        cause = (
            "it does not start with the Parquet magic bytes 'PAR1' (a CSV or another format "
            "renamed?)"
            if p.is_file() and head != b"PAR1"
            else "it starts like Parquet but its footer is damaged (truncated copy or download?)"
        )
        raise DataValidationError(
            f"'{p}' is not a readable Parquet file: {cause}. Re-export the file, or give the CSV "
            f"with a .csv suffix. (reader said: {str(e).splitlines()[0][:200]})",
            rule="parquet file",
        ) from e


def read_table(
    path: str | Path,
    *,
    param: str = "data_path",
    encoding: str | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix) into a DataFrame, unvalidated.

    ``encoding`` and ``sep`` apply to CSV files (the spec keys of the same names). Errors name the
    file, the line and the likely cause (see :func:`read_csv_file`, :func:`read_parquet_file`).
    """
    p = _existing(path, param)
    suffix = "".join(p.suffixes[-2:]).lower() if p.is_file() else ""
    if p.is_dir() or suffix.endswith(PARQUET_SUFFIXES):
        return read_parquet_file(p)
    if suffix.endswith(CSV_SUFFIXES):
        return read_csv_file(p, encoding=encoding, sep=sep)
    raise ParameterError(
        f"{param} '{path}': cannot tell the format from suffix '{p.suffix}'. Use a .csv or .parquet "
        "file, or dataset 'duckdb' with a SQL query."
    )


def load_csv(path: str | Path, spec: RoleSpec, **read_kw) -> Dataset:
    """Load and validate a CSV file (the spec's ``encoding`` / ``sep`` apply)."""
    p = _existing(path, "data_path")
    read_kw.setdefault("encoding", spec.encoding)
    read_kw.setdefault("sep", spec.sep)
    return validate(read_csv_file(p, **read_kw), spec, source=str(p))


def load_parquet(path: str | Path, spec: RoleSpec) -> Dataset:
    """Load and validate a Parquet file (or a folder of Parquet files)."""
    p = _existing(path, "data_path")
    return validate(read_parquet_file(p), spec, source=str(p))


def load_duckdb(query: str, spec: RoleSpec, *, database: str | Path | None = None) -> Dataset:
    """Run ``query`` in DuckDB (in memory, or on ``database``) and validate the result.

    The query can read files directly: ``SELECT * FROM read_parquet('customers/*.parquet')``.
    """
    import duckdb

    if not isinstance(query, str) or not query.strip():
        raise ParameterError(f"`query` must be a SQL string, got {query!r}.")
    db = str(_existing(database, "database")) if database is not None else ":memory:"
    try:
        con = duckdb.connect(db, read_only=database is not None)
    except duckdb.Error as e:
        raise DataValidationError(
            f"database '{db}' cannot be opened by DuckDB: {str(e).splitlines()[0]}. Point "
            "`data_path` at a DuckDB database file, or leave it out and read files in the query "
            "(e.g. `SELECT * FROM read_parquet('customers.parquet')`).",
            rule="duckdb database",
        ) from e
    try:
        df = con.execute(query).df()
    except duckdb.Error as e:
        raise ParameterError(
            f"the DuckDB `query` failed: {str(e).splitlines()[0].rstrip('.!')}. Query was: {query[:300]!r}. "
            "Check the SQL (run it in the duckdb shell to see where it breaks) and the file "
            "paths inside it."
        ) from e
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
