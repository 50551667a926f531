"""Data in: role specs, validation, loaders, the Telco adapter and the synthetic customer base."""

from .dataset import Dataset
from .io import load_csv, load_duckdb, load_parquet, read_table, write_parquet
from .registry import DATASETS, load_dataset, load_synthetic, synthetic_spec
from .schema import RoleSpec, Treatment
from .synthetic import simulate, true_design, true_rmst, true_survival
from .telco import load_telco, telco_spec
from .validate import validate

__all__ = [
    "DATASETS",
    "Dataset",
    "RoleSpec",
    "Treatment",
    "load_csv",
    "load_dataset",
    "load_duckdb",
    "load_parquet",
    "load_synthetic",
    "load_telco",
    "read_table",
    "simulate",
    "synthetic_spec",
    "telco_spec",
    "true_design",
    "true_rmst",
    "true_survival",
    "validate",
    "write_parquet",
]
