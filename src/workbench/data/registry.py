"""``load_dataset``: one entry point from a notebook's ``dataset`` / ``data_path`` / ``spec_path``."""

from __future__ import annotations

from pathlib import Path

from ..config import DEFAULT_SEED, DEFAULT_SYNTHETIC_CUSTOMERS, specs_dir
from ..exceptions import DatasetNotFoundError, ParameterError
from .dataset import Dataset
from .io import _existing, load_duckdb, read_table
from .schema import RoleSpec
from .synthetic import simulate
from .telco import load_telco
from .validate import validate

DATASETS = {
    "synthetic": "built-in simulated customer base with known truth (n_customers, seed)",
    "telco": "extended IBM Telco release; data_path = folder of the five CSV files",
    "cdnow": "CDNOW purchase histories (a TransactionLog in weeks); data_path = folder of the CDNOW files",
    "file": "your CSV or Parquet file (data_path) with your role spec (spec_path)",
    "parquet": "your Parquet (or CSV) file, glob or folder (data_path) with spec_path, read as "
    "aggregated cell counts by DuckDB: the rows are never loaded; analyses that need them refuse",
    "duckdb": "a DuckDB SQL query (query) over files or a database (data_path), with spec_path; "
    "without a query, the table named by the spec's `name` in the database data_path, read as "
    "aggregated cell counts",
}


def synthetic_spec() -> RoleSpec:
    """The role spec of the built-in synthetic data."""
    return RoleSpec.from_yaml(specs_dir() / "synthetic.yml")


def load_synthetic(
    n_customers: int = DEFAULT_SYNTHETIC_CUSTOMERS, seed: int = DEFAULT_SEED, **knobs
) -> Dataset:
    """Simulate and validate the built-in customer base; ``Dataset.truth`` holds its truth.

    Raises
    ------
    ParameterError
        An unknown simulation knob (with the closest valid one), a bad ``n_customers`` or seed.
    """
    check_knobs(knobs)
    frame, truth = simulate(n_customers, seed, **knobs)
    ds = validate(
        frame, synthetic_spec(), name="synthetic", source=f"simulate(n={n_customers}, seed={seed})"
    )
    ds.truth = truth
    return ds


def check_knobs(knobs: dict) -> None:
    """Refuse keyword arguments that :func:`simulate` does not take, suggesting the closest."""
    import difflib
    import inspect

    valid = [
        n
        for n, p in inspect.signature(simulate).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = [k for k in knobs if k not in valid]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, valid, n=1)
            hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ParameterError(
            f"unknown simulation knob(s) {', '.join(hints)} for dataset 'synthetic'. Valid knobs: "
            f"{', '.join(valid)} (see workbench.data.simulate)."
        )


def load_dataset(
    dataset: str = "synthetic",
    *,
    data_path: str | Path | None = None,
    spec_path: str | Path | None = None,
    query: str | None = None,
    n_customers: int | None = None,
    seed: int | None = None,
    **knobs,
) -> Dataset:
    """Load a dataset by name; what every notebook calls with its data parameters.

    Parameters
    ----------
    dataset : {'synthetic', 'telco', 'cdnow', 'file', 'parquet', 'duckdb'}
        ``cdnow`` returns a :class:`workbench.purchases.TransactionLog`, not a customer Dataset.
        ``parquet`` (and ``duckdb`` without ``query``) return a
        :class:`workbench.aggregate.AggregatedDataset`: cell counts by the spec's roles, computed
        by DuckDB where the data are (for tables larger than memory); the analyses that run from
        counts take it, the others refuse it naming themselves.
    data_path : path, optional
        Telco: the folder of the five CSV files (default ``../shared/data/ibm-telco``);
        file: a CSV or Parquet file; duckdb: a database file (optional).
    spec_path : path, optional
        A YAML role spec; required for 'file' and 'duckdb', optional override for 'telco'.
    query : str, optional
        The SQL query for 'duckdb'.
    n_customers, seed : int, optional
        For 'synthetic' (defaults 20,000 and 0); further keyword arguments go to ``simulate``.

    Examples
    --------
    >>> ds = load_dataset("synthetic", n_customers=2_000)
    >>> ds.n, ds.truth is not None
    (2000, True)
    """
    name = str(dataset).strip().lower()
    spec = RoleSpec.from_yaml(_existing(spec_path, "spec_path")) if spec_path else None
    if name == "synthetic":
        if data_path or spec_path:
            raise ParameterError(
                "dataset 'synthetic' is simulated: it takes no data_path / spec_path (got "
                f"data_path={data_path!r}, spec_path={spec_path!r}). Use dataset='file' for your own data."
            )
        return load_synthetic(
            DEFAULT_SYNTHETIC_CUSTOMERS if n_customers is None else n_customers,
            DEFAULT_SEED if seed is None else seed,
            **knobs,
        )
    if knobs or n_customers is not None:
        raise ParameterError(
            f"n_customers / simulation knobs apply only to dataset 'synthetic', not {dataset!r}."
        )
    if name == "telco":
        return load_telco(data_path, spec)
    if name == "cdnow":
        from .cdnow import load_cdnow

        return load_cdnow(data_path)
    if name == "parquet":
        from ..aggregate.dataset import load_aggregated

        if data_path is None or spec is None:
            raise ParameterError(
                "dataset 'parquet' needs both `data_path` (a Parquet file, glob or folder) and "
                f"`spec_path` (its YAML role spec); got data_path={data_path!r}, "
                f"spec_path={spec_path!r}."
            )
        return load_aggregated(data_path, spec)
    if name in ("file", "csv"):
        if data_path is None or spec is None:
            raise ParameterError(
                f"dataset '{dataset}' needs both `data_path` (a CSV or Parquet file) and `spec_path` "
                f"(its YAML role spec); got data_path={data_path!r}, spec_path={spec_path!r}."
            )
        frame = read_table(data_path, encoding=spec.encoding, sep=spec.sep)
        return validate(frame, spec, name=spec.name, source=str(data_path))
    if name == "duckdb":
        if query is None and data_path is not None and spec is not None:
            from ..aggregate.dataset import load_aggregated

            return load_aggregated(_existing(data_path, "data_path"), spec, table=spec.name)
        if query is None or spec is None:
            raise ParameterError(
                "dataset 'duckdb' needs `query` (SQL) and `spec_path` (its YAML role spec), or a "
                "database `data_path` and `spec_path` (the table named by the spec's `name`, read "
                "as aggregated counts)."
            )
        return load_duckdb(query, spec, database=data_path)
    raise DatasetNotFoundError(
        f"unknown dataset {dataset!r}. Valid names: "
        + "; ".join(f"'{k}' ({v})" for k, v in DATASETS.items())
    )
