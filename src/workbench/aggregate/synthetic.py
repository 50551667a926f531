"""A large customer table with a known truth, generated in chunks (tests and benchmarks of
:mod:`workbench.aggregate`).

Monthly tenure: each customer's churn month is geometric with a monthly hazard of 0.06 (plan
``a``), 0.04 (``b``) or 0.02 (``c``), censored at a follow-up uniform on 1..60 months; ``region``
has no effect. The joining month ``start_month`` (2019-01 .. 2023-12) is the one that makes the
follow-up end at the analysis date :data:`ANALYSIS_DATE` (2024-01-01), for calendar views.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ANALYSIS_DATE", "HAZARDS", "customer_chunks", "make_customers", "write_parquet"]

#: end of follow-up of every generated customer
ANALYSIS_DATE = "2024-01-01"

#: true monthly churn hazard per plan
HAZARDS = {"a": 0.06, "b": 0.04, "c": 0.02}
_PLANS = np.array(list(HAZARDS))
_P_PLAN = [0.5, 0.3, 0.2]


def make_customers(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` customers: ``plan, region, tenure`` (months, float), ``churned`` (0/1) and
    ``start_month`` (joining month, the follow-up months before :data:`ANALYSIS_DATE`).

    Examples
    --------
    >>> df = make_customers(1_000, seed=1)
    >>> list(df.columns), len(df)
    (['plan', 'region', 'tenure', 'churned', 'start_month'], 1000)
    """
    rng = np.random.default_rng(seed)
    plan = _PLANS[rng.choice(3, n, p=_P_PLAN)]
    region = np.array(["north", "south"])[rng.integers(0, 2, n)]
    hazard = np.array([HAZARDS[p] for p in _PLANS])[np.searchsorted(_PLANS, plan)]
    churn_t = rng.geometric(hazard)
    follow = rng.integers(1, 61, n)
    months = (np.datetime64(ANALYSIS_DATE[:7], "M") - follow).astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "plan": plan,
            "region": region,
            "tenure": np.minimum(churn_t, follow).astype(float),
            "churned": (churn_t <= follow).astype(np.int64),
            "start_month": months,
        }
    )


def customer_chunks(n: int, chunk: int = 5_000_000, seed: int = 7) -> Iterator[pd.DataFrame]:
    """:func:`make_customers` in chunks of at most ``chunk`` rows (seed ``seed + i`` for chunk i)."""
    for i, start in enumerate(range(0, n, chunk)):
        yield make_customers(min(chunk, n - start), seed=seed + i)


def write_parquet(folder: str | Path, n: int, chunk: int = 5_000_000, seed: int = 7) -> Path:
    """Write ``n`` customers as ``part-00000.parquet, ...`` (one file per chunk) under ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, df in enumerate(customer_chunks(n, chunk, seed)):
        df.to_parquet(folder / f"part-{i:05d}.parquet", index=False)
    return folder
