"""Shared fixtures. Seeds are fixed; the Telco data are read from ../shared/data/ibm-telco."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.config import telco_dir as _telco_dir

ROOT = Path(__file__).resolve().parents[1]
TELCO_DIR = _telco_dir()  # ../shared/data/ibm-telco, or $WORKBENCH_SHARED/data/ibm-telco


@pytest.fixture(scope="session")
def telco_dir() -> Path:
    if not (TELCO_DIR / "Telco_customer_churn_status.csv").is_file():
        pytest.fail(
            f"the shared Telco data are missing at {TELCO_DIR}; tests read them from ../shared"
        )
    return TELCO_DIR


@pytest.fixture(scope="session")
def telco(telco_dir):
    from workbench.data import load_telco

    return load_telco(telco_dir)


@pytest.fixture(scope="session")
def synthetic():
    """The default built-in data set (20,000 customers, seed 0)."""
    from workbench.data import load_dataset

    return load_dataset("synthetic")


@pytest.fixture(scope="session")
def synthetic_small():
    from workbench.data import load_dataset

    return load_dataset("synthetic", n_customers=3_000, seed=11)
